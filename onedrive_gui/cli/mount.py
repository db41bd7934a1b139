"""``onedrive-gui mount NAME``: mount in the foreground, unmount safely on Ctrl-C/SIGTERM
(Windows: also Ctrl-Break, and closing the console window — then at once, over rc, within
the seconds Windows allows: see :mod:`onedrive_gui.core.system.console_ctrl`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from onedrive_gui.core.i18n import _, ngettext


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
    """Counts Ctrl-C / SIGTERM / Ctrl-Break presses; the first asks for a safe stop. The
    console ending (window closed) asks for an immediate one: no time to wait for uploads."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.presses = 0
        self.ending: str | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        self.event.set()

    def console_ending(self, kind: str) -> None:
        self.ending = kind
        self.event.set()


def _stop_signals() -> list[int]:
    """The signals that ask for a safe stop: SIGINT, SIGTERM and, on Windows, SIGBREAK
    (Ctrl-Break; unhandled it would end Python and leave rclone holding the drive)."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


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
    from onedrive_gui.core.system.console_ctrl import ConsoleClose
    from onedrive_gui.core.system.elevation import elevation_warning
    from onedrive_gui.core.system.paths import AppPaths

    service = AccountService(AppPaths.default())
    account = service.account(args.name)
    warning = elevation_warning()
    if warning is not None:
        _say(_("Warning: {warning}. {warning2}").format(warning=warning[0], warning2=warning[1]))

    last: dict[str, str] = {}

    def on_change(st: MountStatus) -> None:
        state = (_("{state}: {error}").format(state=st.state.value, error=st.error)
                 if st.error else st.state.value)
        if st.retry_after:
            state = _("{state} (the cloud asked to wait {seconds:.0f} s)").format(
                state=state, seconds=st.retry_after)
        lines = [_("[{name}] {state}").format(name=st.name, state=state)]
        if st.state is MountState.SIGN_IN_NEEDED:
            lines.append(_(
                "Run 'onedrive-gui reauth {name}' in another terminal; this mount picks up "
                "the new sign-in by itself."
            ).format(name=st.name))
        if st.pending_uploads:
            lines.append(ngettext("{n} upload pending.", "{n} uploads pending.",
                                  st.pending_uploads).format(n=st.pending_uploads))
        line = "\n  ".join(lines)
        if last.get(st.name) != line:
            last[st.name] = line
            _say(line)

    def on_event(kind: str, text: str) -> None:
        _say(text)

    stop = _Stop()
    old = {sig: signal.signal(sig, stop) for sig in _stop_signals()}
    console = ConsoleClose(stop.console_ending)
    console.install()
    manager = MountManager(service.rcd_factory, on_change=on_change, on_event=on_event,
                           session=service.crash_record(),
                           index_sizes=service.index_sizes(), rates=service.upload_rates())
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
        if stop.ending is not None:
            count = manager.status(account.name).pending_uploads
            if count:
                _say(_("The console is closing: {count} upload(s) stay in the cache and are "
                       "uploaded the next time you mount this account.").format(count=count))
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
        while stop.ending is None and not manager.wait_for_uploads(
                account.name, timeout=1.0, on_progress=progress):
            if stop.ending is not None:
                break
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
        for sig, handler in old.items():
            signal.signal(sig, handler)
        try:
            manager.shutdown()
        finally:
            try:
                service.shutdown()
            finally:
                console.done()  # rclone has quit (rc core/quit): Windows may end us now
                console.uninstall()
