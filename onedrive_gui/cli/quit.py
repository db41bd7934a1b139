"""``onedrive-gui quit [--timeout S]``: the running desktop app quits as Quit does.

For scripts and the Windows installer (before an upgrade or uninstall): the app finishes the
uploads (waiting at most S seconds; what is left stays in the cache for the next mount),
unmounts the drives, stops rclone and exits; this command returns 0 once the app's process is
gone, or when no app was running. Needs no display: the request goes through the app's
request folder (``core/system/instance.py``).
"""

from __future__ import annotations

import argparse
from typing import Any

from onedrive_gui.cli.authorize import seconds_arg
from onedrive_gui.core.i18n import _

DEFAULT_TIMEOUT = 60.0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "quit",
        help=_("ask the running desktop app to quit (after its uploads, at most --timeout s)"),
        description=_("Asks the running OneDrive GUI to quit as its Quit menu item does: "
        "pending uploads are finished (waiting at most --timeout seconds; the rest stays in "
        "the cache and is uploaded at the next mount), drives are unmounted and rclone is "
        "stopped. Exits 0 once the app has quit or when none is running; 1 when it did not "
        "answer, refused, or still runs after the timeout plus time to unmount."),
    )
    p.add_argument("--timeout", type=seconds_arg, default=DEFAULT_TIMEOUT,
                   help=_("seconds to wait for uploads (default {default:.0f}; 0: none)").format(
                       default=DEFAULT_TIMEOUT))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from onedrive_gui.core.system.instance import QuitReply, quit_running
    from onedrive_gui.core.system.paths import AppPaths
    from onedrive_gui.core.validation import validate_timeout

    timeout = float(args.timeout)
    if timeout != 0:
        validate_timeout(timeout)

    def accepted(pid: int, reply: QuitReply) -> None:
        if reply.pending:
            print(_(
                "OneDrive GUI (process {pid}) is quitting after {pending} upload(s) (at most "
                "{timeout:g} s)..."
            ).format(pid=pid, pending=reply.pending, timeout=timeout), flush=True)
        else:
            print(_("OneDrive GUI (process {pid}) is quitting...").format(pid=pid), flush=True)

    outcome = quit_running(AppPaths.default().config_dir, timeout, on_accepted=accepted)
    if outcome.pid is None:
        print(_("OneDrive GUI is not running."))
    else:
        print(_("OneDrive GUI has quit."))
    return 0
