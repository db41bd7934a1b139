"""``onedrive-gui rclone -- <args>``: the located rclone with the app's config injected."""

from __future__ import annotations

import argparse
import subprocess
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
    from onedrive_gui.core.paths import AppPaths
    from onedrive_gui.core.rclone.binary import child_env

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
    password = engine.config_password(create=False)
    # The user's own RCLONE_* variables (another config, another password) must not apply.
    env = child_env({"RCLONE_CONFIG_PASS": password})
    cmd = [str(engine.binary.path), "--config", str(engine.config_path), "--ask-password=false"]
    return subprocess.call([*cmd, *rargs], env=env)
