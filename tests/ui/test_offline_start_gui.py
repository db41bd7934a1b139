"""Start while offline, in the desktop app with the real core: an account set to mount at
start waits in "offline" (tray, menu, a warning, no error dialog) while the emulated cloud is
unreachable, and is mounted by itself once it is back."""

from __future__ import annotations

from dataclasses import replace

from onedrive_gui.ui.shell import DesktopShell
from tests.ui.test_gui_mount import add_in_wizard
from tests.ui.test_wizard_fakecloud import SLOW


def test_auto_mount_while_offline_waits_then_mounts(qtbot, real_ctx, fakecloud, tmp_path):
    name, mnt = add_in_wizard(qtbot, real_ctx, tmp_path)
    accounts = real_ctx.accounts
    accounts.update_account(replace(accounts.account(name), auto_mount=True))
    fakecloud.set_down(True)  # no network when the app starts

    shell = DesktopShell(real_ctx, tray_available=True)
    notes: list[tuple[str, str, str]] = []
    shell.surface.notify = lambda t, x, level="info", on_click=None: notes.append((t, x, level))
    controller = real_ctx.mounts
    controller.manager.probe_interval = 1.0
    failures: list[object] = []
    controller.failed.connect(lambda n, err: failures.append(err))
    shell.start()

    qtbot.waitUntil(lambda: controller.status(name) is not None
                    and controller.status(name).state.name == "WAITING_OFFLINE", timeout=SLOW)
    assert not failures  # no error dialog or error notification
    assert shell.tray.state == "throttled"  # the tray's "attention" icon, not "error"
    assert f"{name}: offline" in shell.tray.icon.toolTip()
    menu = shell.tray.menu
    menu.rebuild()
    assert f"Don't mount {name}" in menu.action_texts()
    assert (f"{name}: OneDrive unreachable", "No connection to OneDrive: "
            f"{name} is mounted by itself as soon as the connection is back.",
            "warning") in notes
    assert not [n for n in notes if n[2] == "error"]

    fakecloud.set_down(False)  # the connection is back
    qtbot.waitUntil(lambda: controller.status(name).state.name == "MOUNTED", timeout=SLOW)
    assert (mnt / "Documents" / "hello.txt").read_bytes() == b"hello from the cloud\n"
    assert notes[-1][0] == f"{name} mounted" and not failures
    assert shell.tray.state == "mounted"
