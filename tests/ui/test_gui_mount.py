"""The desktop layer mounting for real: wizard-added account → the tray's MountController
(worker threads, signals) → MountManager → real rclone and FUSE against the emulated cloud."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QWizard

from onedrive_gui.ui.wizard.state import DONE
from tests.ui.test_wizard_fakecloud import SLOW, click, walk_to_mount


def test_account_added_in_the_wizard_mounts_writes_and_unmounts(qtbot, real_ctx, fakecloud,
                                                                tmp_path):
    wiz = walk_to_mount(qtbot, real_ctx)
    name = f"gui_{uuid.uuid4().hex[:6]}"
    mnt = tmp_path / "OneDrive" / name
    wiz.mount.name.setText(name)
    wiz.mount.mount_point.setText(str(mnt))
    wiz.mount.mount_now.setChecked(False)
    click(qtbot, wiz, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE or wiz.mount.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.mount.error.isVisible(), wiz.mount.error.text()

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
