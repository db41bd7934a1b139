"""The desktop layer mounting for real: wizard-added account → the tray's MountController
(worker threads, signals) → MountManager → real rclone and FUSE against the emulated cloud."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QWizard

from onedrive_gui.ui.wizard.state import DONE
from tests.ui.test_wizard_fakecloud import SLOW, click, walk_to_mount


def add_in_wizard(qtbot, ctx, tmp_path):  # type: ignore[no-untyped-def]
    """Walk the wizard against the emulated cloud; -> (account name, its mount point)."""
    wiz = walk_to_mount(qtbot, ctx)
    name = f"gui_{uuid.uuid4().hex[:6]}"
    mnt = tmp_path / "OneDrive" / name
    wiz.mount.name.setText(name)
    wiz.mount.mount_point.setText(str(mnt))
    wiz.mount.mount_now.setChecked(False)
    click(qtbot, wiz, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE or wiz.mount.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.mount.error.isVisible(), wiz.mount.error.text()
    return name, mnt


def test_account_added_in_the_wizard_mounts_writes_and_unmounts(qtbot, real_ctx, fakecloud,
                                                                tmp_path):
    name, mnt = add_in_wizard(qtbot, real_ctx, tmp_path)

    controller = real_ctx.mounts
    states: list[str] = []
    controller.changed.connect(lambda st: states.append(st.state.name))
    failures: list[object] = []
    controller.failed.connect(lambda n, err: failures.append(err))
    controller.mount(name)
    qtbot.waitUntil(lambda: (controller.is_mounted(name) and "MOUNTED" in states)
                    or bool(failures),
                    timeout=SLOW)
    assert not failures, failures
    assert (mnt / "Documents" / "hello.txt").read_bytes() == b"hello from the cloud\n"
    (mnt / "from-the-gui.txt").write_text("saved through the tray's mount\n")

    done: list[object] = []
    controller.unmount(name, wait_for_uploads=True, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done) or bool(failures), timeout=SLOW)
    assert not failures, failures
    assert states[0] == "MOUNTING" and states[-1] == "UNMOUNTED"
    assert fakecloud.get_file(real_ctx.defaults.drive_id, "/from-the-gui.txt") == (
        b"saved through the tray's mount\n")
    assert not any(line.split()[4] == str(mnt) for line in open("/proc/self/mountinfo"))


def test_revoked_sign_in_is_fixed_from_the_tray_without_losing_the_mount(
        qtbot, real_ctx, fakecloud, tmp_path):
    from dataclasses import replace

    from onedrive_gui.ui.shell import DesktopShell

    fakecloud.access_token_lifetime = 8  # rclone has to renew the sign-in during the test
    name, mnt = add_in_wizard(qtbot, real_ctx, tmp_path)
    accounts = real_ctx.accounts
    account = accounts.account(name)
    # Settings → Performance → Upload delay 12 s: the upload starts after the token expired
    accounts.update_account(replace(account, options=replace(account.options,
                                                             write_back="12s")))
    before = accounts.account(name)

    shell = DesktopShell(real_ctx, tray_available=True)
    notes: list[tuple[str, str, str, object]] = []
    shell.surface.notify = lambda t, x, level="info", on_click=None: notes.append(
        (t, x, level, on_click))
    controller = real_ctx.mounts
    failures: list[object] = []
    controller.failed.connect(lambda n, err: failures.append(err))
    shell.mount(name)
    qtbot.waitUntil(lambda: bool(failures) or (
        controller.status(name) is not None
        and controller.status(name).state.name == "MOUNTED"), timeout=SLOW)
    assert not failures, failures
    (mnt / "draft.txt").write_text("saved before Microsoft revoked the sign-in\n")
    fakecloud.revoke_refresh_tokens(real_ctx.defaults.user_upn)  # e.g. a password change

    qtbot.waitUntil(lambda: controller.status(name).state.name == "SIGN_IN_NEEDED",
                    timeout=60_000)
    assert shell.tray.state == "error"
    assert f"{name}: sign-in needed" in shell.tray.icon.toolTip()
    title, text, level, on_click = notes[-1]
    assert (title, level) == (f"{name}: sign-in needed", "error") and callable(on_click)
    assert "(AADSTS50173)" in text and "the drive stays mounted" in text
    assert (mnt / "draft.txt").read_text().startswith("saved before")  # still mounted

    fakecloud.access_token_lifetime = 3600
    menu = shell.tray.menu
    menu.rebuild()
    menu.action(f"Sign in to {name} again…").trigger()  # the browser approves (BROWSER)
    qtbot.waitUntil(lambda: controller.status(name).state.name == "MOUNTED", timeout=SLOW)
    assert any(n[0] == f"{name}: signed in again" for n in notes)
    done: list[object] = []
    controller.unmount(name, wait_for_uploads=True, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done) or bool(failures), timeout=SLOW)
    assert not failures, failures
    assert fakecloud.get_file(real_ctx.defaults.drive_id, "/draft.txt") == (
        b"saved before Microsoft revoked the sign-in\n")
    after = accounts.account(name)
    assert (after.mount_point, after.options, after.auto_mount) == (
        before.mount_point, before.options, before.auto_mount)
    assert after.last_sign_in is not None and after.last_sign_in > before.last_sign_in


def test_after_a_crash_the_app_cleans_up_remounts_and_says_so(qtbot, real_ctx, fakecloud,
                                                               tmp_path):
    import os
    import signal

    from onedrive_gui.ui.shell import DesktopShell
    from tests.e2e.cli_helpers import add_account, cli_env, force_unmount, wait_for
    from tests.e2e.test_accounts_cli import Proc

    d = real_ctx.defaults
    mnt = tmp_path / "OneDrive" / "work"
    env = cli_env()
    add_account(env, d, "work", mnt, write_back="60s", service=real_ctx.accounts)
    crashed = Proc(["mount", "work"], env)  # an earlier run of the app...
    try:
        wait_for(lambda: "Mounted 'work'" in crashed.text() or crashed.p.poll() is not None, 60)
        (mnt / "unsaved.txt").write_text("written just before the crash\n")
        crashed.p.send_signal(signal.SIGKILL)  # ...killed with an upload pending
        crashed.p.wait(10)

        shell = DesktopShell(real_ctx, tray_available=True)
        notes: list[tuple[str, str]] = []
        shell.surface.notify = lambda t, x, level="info", on_click=None: notes.append((t, x))
        shell.start()  # the next start
        qtbot.waitUntil(lambda: any(t == "Recovered after a crash" for t, _ in notes),
                        timeout=SLOW)
        text = next(x for t, x in notes if t == "Recovered after a crash")
        assert "'work' is mounted again; 1 file(s) written before the stop" in text
        qtbot.waitUntil(lambda: fakecloud.get_file(d.drive_id, "/unsaved.txt") is not None,
                        timeout=SLOW)
        assert fakecloud.get_file(d.drive_id, "/unsaved.txt") == (
            b"written just before the crash\n")
        qtbot.waitUntil(lambda: shell.tray.state in ("mounted", "uploading"), timeout=SLOW)
        assert sorted(os.listdir(mnt)) == ["Documents", "Photos", "unsaved.txt"]
    finally:
        if crashed.p.poll() is None:
            crashed.p.kill()
        real_ctx.mounts.shutdown_now()
        force_unmount(mnt)


def test_new_limits_in_settings_reach_the_mounted_drive_without_losing_an_upload(
        qtbot, real_ctx, fakecloud, tmp_path):
    from PySide6.QtWidgets import QDialogButtonBox

    from onedrive_gui.ui.settings_dialog import SettingsDialog

    name, mnt = add_in_wizard(qtbot, real_ctx, tmp_path)
    controller = real_ctx.mounts
    events: list[tuple[str, str]] = []
    controller.mount_event.connect(lambda kind, text: events.append((kind, text)))
    failures: list[object] = []
    controller.failed.connect(lambda n, err: failures.append(err))
    controller.mount(name)
    qtbot.waitUntil(lambda: bool(failures) or (
        controller.status(name) is not None
        and controller.status(name).state.name == "MOUNTED"), timeout=SLOW)
    assert not failures, failures
    manager = controller.manager
    first = manager.rcd_of(name)
    assert first.client.call("options/get")["main"]["TPSLimit"] == 0  # the default: none

    dialog = SettingsDialog(real_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.performance.bwlimit.setText("4M")  # live: rc core/bwlimit, same rclone
    dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    qtbot.waitUntil(lambda: "bandwidth limit" in dialog.note.text(), timeout=SLOW)
    assert first.client.call("core/bwlimit")["rate"] == "4Mi"
    assert manager.rcd_of(name) is first

    (mnt / "in-flight.txt").write_text("written just before the new limits\n")  # 5 s delay
    dialog.performance.tpslimit.setValue(2)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    qtbot.waitUntil(lambda: "as soon as its uploads are done" in dialog.note.text(),
                    timeout=SLOW)
    qtbot.waitUntil(lambda: any(k == "limits-applied" for k, _ in events), timeout=SLOW)
    assert not failures, failures
    # the upload pending at the change is in the cloud: nothing lost
    assert fakecloud.get_file(real_ctx.defaults.drive_id, "/in-flight.txt") == (
        b"written just before the new limits\n")
    second = manager.rcd_of(name)
    assert second is not first and not first.alive()
    main = second.client.call("options/get")["main"]
    assert (main["TPSLimit"], main["BwLimit"]) == (2, "4Mi")
    qtbot.waitUntil(lambda: controller.status(name).state.name == "MOUNTED", timeout=SLOW)
    assert (mnt / "in-flight.txt").read_text() == "written just before the new limits\n"
