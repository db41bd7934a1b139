"""``onedrive-gui rclone -- <args>``: the located rclone with the app's config injected.

Each account has its own rclone config: the one of the account whose remote the arguments
name is used (``listremotes`` runs over every account's).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import _


def register(sub: Any) -> None:
    p = sub.add_parser(
        "rclone",
        help=_("run rclone with the app's (encrypted) config, e.g. rclone -- ls work:"),
        description=_("Runs the app's rclone with its encrypted config; the config password "
        "is passed in the environment, never on the command line."),
    )
    p.add_argument("rclone_args", nargs=argparse.REMAINDER, help=_("arguments for rclone"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from onedrive_gui.core.accounts import AccountService
    from onedrive_gui.core.system.paths import AppPaths

    rargs = list(args.rclone_args)
    if rargs[:1] == ["--"]:
        rargs = rargs[1:]
    if not rargs:
        raise ValidationError(
            _("No rclone command"),
            _("Nothing to run."),
            _("Give rclone's arguments after --, e.g. onedrive-gui rclone -- ls work:"),
        )
    service = AccountService(AppPaths.default())
    engine = service.engine
    names = service.settings.names()
    # remotes are named "work:..." in paths, and bare ("work") in rclone's config commands
    bare = set(rargs[2:]) if rargs[:1] == ["config"] else set()
    used = [n for n in names if n in bare or any(a.startswith(f"{n}:") for a in rargs)]
    if len(used) > 1:
        raise ValidationError(
            _("One account at a time"),
            _(
                "These arguments name the remotes of several accounts ({join}); each account "
                "has its own rclone config, so rclone sees one at a time."
            ).format(join=', '.join(used)),
            _("Run one command per account (e.g. copy to a local folder, then from it)."),
        )
    if used:
        configs = [used[0]]
    elif rargs[:1] == ["listremotes"] or rargs == ["config", "show"]:
        configs = [n for n in names if engine.has_config(n)]  # every account's remote
    else:
        configs = names[:1] if len(names) == 1 else []
    if not configs:  # a command naming no remote (version, help...): no account's config
        with tempfile.TemporaryDirectory() as empty:
            return subprocess.call([str(engine.binary.path), "--config",
                                    str(Path(empty) / "rclone.conf"), *rargs],
                                   env=engine.command_env(None))
    code = 0
    for name in configs:
        env = engine.command_env(name)
        cmd = [str(engine.binary.path), "--config", str(engine.config_path(name)),
               "--ask-password=false"]
        code = subprocess.call([*cmd, *rargs], env=env) or code
    return code
