"""``onedrive-gui mount NAME``: mount in the foreground, unmount safely on Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from onedrive_gui.core.i18n import _


def register(sub: Any) -> None:
    p = sub.add_parser(
        "mount",
        help=_("mount an account in the foreground (Ctrl-C unmounts after uploads finish)"),
    )
    p.add_argument("name")
    p.add_argument("--mount-point", help=_("folder (Linux/macOS) or drive letter (Windows)"))
    p.set_defaults(func=run)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Stop:
    """Counts Ctrl-C / SIGTERM presses; the first asks for a safe stop."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.presses = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        self.event.set()


def _ask_abandon(count: int) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return True  # SIGTERM twice / no terminal: the caller insists
    _say(
        _(
            "{count} upload(s) are still pending. If you stop now they stay in the cache and "
            "are uploaded the next time you mount this account."
        ).format(count=count)
    )
    try:
        answer = input(_("Stop anyway? [y/N] "))
    except (EOFError, KeyboardInterrupt):
        return True
    return answer.strip().lower() in ("y", "yes")


def _check_mount_point(service: Any, account: Any, value: str | None) -> None:
    """Refuse an unusable mount point before rclone is started (relative paths are taken
    from the current folder)."""
    import os

    from onedrive_gui.core.drives.mountpoints import (
        check_mount_point,
        default_mount_point,
        onedrive_sync_note,
        other_mount_points,
    )

    wanted = value if value is not None else (account.mount_point or default_mount_point(
        account.name, [a.mount_point for a in service.settings.accounts
                       if a.name != account.name]))
    path = check_mount_point(wanted, base=os.getcwd(), others=other_mount_points(
        service.settings.accounts, exclude=account.name))
    note = onedrive_sync_note(path)
    if note:
        _say(note)


def run(args: argparse.Namespace) -> int:
    from onedrive_gui.core.accounts import AccountService
    from onedrive_gui.core.drives.mounts import MountManager, MountState, MountStatus
    from onedrive_gui.core.i18n import _
    from onedrive_gui.core.system.elevation import elevation_warning
    from onedrive_gui.core.system.paths import AppPaths

    service = AccountService(AppPaths.default())
    account = service.account(args.name)
    warning = elevation_warning()
    if warning is not None:
        _say(_("Warning: {warning}. {warning2}").format(warning=warning[0], warning2=warning[1]))

    last: dict[str, str] = {}

    def on_change(st: MountStatus) -> None:
        line = st.state.value
        if st.error:
            line += f": {st.error}"
        if st.state is MountState.SIGN_IN_NEEDED:
            line += (_(
                " Run 'onedrive-gui reauth {name}' in another terminal; this mount picks up "
                "the new sign-in by itself."
            ).format(name=st.name))
        if st.pending_uploads:
            line += _(
                ", {pending_uploads} upload(s) pending"
            ).format(pending_uploads=st.pending_uploads)
        if st.retry_after:
            line += " " + _("(the cloud asked to wait {seconds:.0f} s)").format(
                seconds=st.retry_after)
        if last.get(st.name) != line:
            last[st.name] = line
            _say(f"[{st.name}] {line}")

    def on_event(kind: str, text: str) -> None:
        _say(text)

    stop = _Stop()
    old_int = signal.signal(signal.SIGINT, stop)
    old_term = signal.signal(signal.SIGTERM, stop)
    manager = MountManager(service.rcd_factory, on_change=on_change, on_event=on_event,
                           session=service.crash_record())
    try:
        recovered = service.recover_after_crash(manager, only=account.name)
        if recovered is not None:
            _say(recovered[0])
        if recovered is not None and account.name in recovered[1]:
            status = manager.status(account.name)
        else:
            # checked after the clean-up above, which removes a mount left by a crash
            _check_mount_point(service, account, args.mount_point)
            status = service.mount(manager, account.name, args.mount_point)
        if status.state is MountState.WAITING_OFFLINE:  # the network is down: it waits
            print(_("OneDrive cannot be reached: '{name}' is mounted on {path} as soon as the "
                    "connection is back. Press Ctrl-C to stop.").format(
                name=account.name, path=status.mount_point), flush=True)
        else:
            print(_(
                "Mounted '{name}' on {mount_point}. Press Ctrl-C to unmount."
            ).format(name=account.name, mount_point=status.mount_point), flush=True)
        while not stop.event.wait(0.5):
            pass
        stop.event.clear()
        shown: list[int] = []

        def progress(count: int) -> None:
            if count and (not shown or shown[-1] != count):
                if not shown:
                    _say(_(
                        "Waiting for {count} upload(s) to finish before unmounting (Ctrl-C "
                        "again to stop anyway)..."
                    ).format(count=count))
                else:
                    _say(_("{count} upload(s) left...").format(count=count))
            shown.append(count)

        manager.upload_now(account.name)  # held files: checked and released now
        while not manager.wait_for_uploads(account.name, timeout=1.0, on_progress=progress):
            if stop.event.is_set():
                stop.event.clear()
                count = manager.status(account.name).pending_uploads
                if count == 0 or _ask_abandon(count):
                    break
                _say(_("Still waiting for the uploads..."))
        _say("Unmounting...")
        manager.unmount(account.name, force=True)
        if service.note_token_refresh(account.name):
            _say(_("Microsoft renewed the sign-in during this session."))
        manager.shutdown()
        _say(_("Unmounted '{name}'.").format(name=account.name))
        return 0
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        try:
            manager.shutdown()
        finally:
            service.shutdown()
