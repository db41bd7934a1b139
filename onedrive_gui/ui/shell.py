"""The running desktop app: tray (or its stand-in window), wizard and settings on demand,
notifications, reminders, quit after uploads."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from onedrive_gui.core.errors import AppError
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.format import plural, short_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

# Dialog classes (QMessageBox...) are imported where used: creating their Python types costs
# start-up time, and the tray needs none of them to show.
log = logging.getLogger(__name__)

REMINDER_INTERVAL_MS = 6 * 3600 * 1000
_EVENT_LEVEL = {"rcd-restarted": "warning", "uploads-abandoned": "warning",
                "cache-full": "error", "recovered": "warning",
                "rcd-failed": "error", "unmount-failed": "error", "monitor-error": "error",
                "rcd-stop-failed": "error", "limits-failed": "error"}
_EVENT_TITLE = {"rcd-restarted": "rclone restarted", "uploads-abandoned": "Uploads left pending",
                "cache-full": "Cache disk full", "recovered": "Recovered after a crash",
                "rcd-failed": "rclone stopped", "unmount-failed": "Unmount failed",
                "monitor-error": "Mount check failed", "rcd-stop-failed": "rclone did not stop",
                "limits-applied": "New limits applied", "limits-failed": "New limits not applied"}


def _reason(error: str | None) -> str:
    """Microsoft's reason from a SIGN_IN_NEEDED status, without the generic "Sign in again."
    (the notification itself says how)."""
    return (error or "").removeprefix("Sign-in needed: ").removesuffix(" Sign in again.")


class DesktopShell(QObject):
    quitting = Signal()

    def __init__(self, ctx: AppContext, *, tray_available: bool | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = ctx.mounts
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: Any = None
        self.window: Any = None
        if tray_available:
            from onedrive_gui.ui.tray import TrayIcon

            self.tray = TrayIcon(ctx.accounts, self.controller, self)
            self.surface: Any = self.tray
        else:
            from onedrive_gui.ui.main_window import FallbackWindow

            self.window = FallbackWindow(ctx.accounts, self.controller, on_close=self.quit)
            self.surface = self.window
        menu = self.surface.menu
        menu.mount_requested.connect(self.mount)
        menu.unmount_requested.connect(self.unmount)
        menu.reauthorize_requested.connect(self.reauthorize)
        menu.add_account_requested.connect(self.add_account)
        menu.settings_requested.connect(self.open_settings)
        menu.view_log_requested.connect(self.view_log)
        menu.quit_requested.connect(self.quit)
        if self.controller is not None:
            self.controller.mount_event.connect(self._mount_event)
            self.controller.failed.connect(self._mount_failed)
            self.controller.changed.connect(self._status_changed)
        self.wizard: Any = None
        self.settings_dialog: Any = None
        self.reauth_dialogs: dict[str, Any] = {}
        self._last_notes: dict[tuple[str, str], float] = {}
        self._last_state: dict[str, str] = {}
        self._reminder_timer = QTimer(self)
        self._reminder_timer.setInterval(REMINDER_INTERVAL_MS)
        self._reminder_timer.timeout.connect(self.check_reminders)
        self._quitting = False

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.window is not None:
            self.window.show()
        else:
            self.tray.show()
        if not self.ctx.accounts.settings.accounts:
            self.add_account()
            return
        if self.controller is not None:
            self.controller.auto_mount()
        self.check_reminders()
        self._reminder_timer.start()

    def show_main(self) -> None:
        """A second launch asked us to show ourselves."""
        if self.wizard is not None and self.wizard.isVisible():
            self._raise(self.wizard)
        elif not self.ctx.accounts.settings.accounts:
            self.add_account()
        elif self.window is not None:
            self._raise(self.window)
        else:
            self.open_settings()

    @staticmethod
    def _raise(w: QWidget) -> None:
        w.show()
        w.raise_()
        w.activateWindow()

    # -- windows ---------------------------------------------------------------------------------
    def add_account(self) -> None:
        if self.wizard is not None and self.wizard.isVisible():
            self._raise(self.wizard)
            return
        from onedrive_gui.ui.wizard.wizard import AddAccountWizard

        self.wizard = AddAccountWizard(self.ctx)
        self.wizard.account_added.connect(self._account_added)
        self.wizard.finished.connect(self._wizard_closed)
        self._raise(self.wizard)

    def _wizard_closed(self, _result: int) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = None
        self.surface.refresh()
        if not self._reminder_timer.isActive() and self.ctx.accounts.settings.accounts:
            self._reminder_timer.start()

    def _account_added(self, account: Any, mount_now: bool) -> None:
        self.surface.refresh()
        if mount_now:
            self.mount(account.name)

    def reauthorize(self, name: str) -> None:
        """Sign in to *name* again (its mount stays, with all its settings)."""
        dlg = self.reauth_dialogs.get(name)
        if dlg is not None and dlg.isVisible():
            self._raise(dlg)
            return
        from onedrive_gui.ui.reauthorize_dialog import ReauthorizeDialog

        dlg = ReauthorizeDialog(self.ctx, name)
        self.reauth_dialogs[name] = dlg
        dlg.accepted.connect(lambda n=name: self._reauthorized(n))
        dlg.finished.connect(lambda _r, n=name: self._reauth_closed(n))
        dlg.start()
        self._raise(dlg)

    def _reauthorized(self, name: str) -> None:
        if self.controller is not None:
            self.controller.recheck(name)
        self.notify(f"{name}: signed in again", "The drive stays mounted; pending uploads "
                    "continue now.")

    def _reauth_closed(self, name: str) -> None:
        dlg = self.reauth_dialogs.pop(name, None)
        if dlg is not None:
            dlg.deleteLater()

    def open_settings(self) -> None:
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self._raise(self.settings_dialog)
            return
        from onedrive_gui.ui.settings_dialog import SettingsDialog

        self.settings_dialog = SettingsDialog(self.ctx)
        self.settings_dialog.remount_requested.connect(self.remount)
        self.settings_dialog.finished.connect(self._settings_closed)
        self._raise(self.settings_dialog)

    def _settings_closed(self, _result: int) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
        self.settings_dialog = None
        self.surface.refresh()

    def view_log(self) -> None:
        log_file = self.ctx.paths.app_log
        target = log_file if log_file.exists() else self.ctx.paths.log_dir
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    # -- mounts ----------------------------------------------------------------------------------
    def mount(self, name: str) -> None:
        if self.controller is None:
            return
        self.controller.mount(name, on_done=lambda st: self.notify(
            f"{name} mounted", f"OneDrive is on {short_path(st.mount_point)}."))

    def unmount(self, name: str) -> None:
        if self.controller is None:
            return
        pending = self.controller.pending_uploads(name)
        if not pending:
            self.controller.unmount(name)
            return
        choice = self.ask_pending_unmount(name, pending)
        if choice == "wait":
            self.notify(f"{name}: finishing uploads",
                        f"Unmounting after {plural(pending, 'upload')} finish.")
            self.controller.unmount(name, wait_for_uploads=True)
        elif choice == "force":
            self.controller.unmount(name, force=True)

    def remount(self, name: str) -> None:
        if self.controller is None:
            return
        if not self.controller.is_mounted(name):
            self.mount(name)
            return
        self.controller.unmount(name, wait_for_uploads=True,
                                on_done=lambda _r: self.mount(name))

    def ask_pending_unmount(self, name: str, count: int) -> str | None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(f"Unmount {name}?")
        box.setText(f"{plural(count, 'file')} of {name} still to be uploaded.")
        box.setInformativeText("Unmounting now keeps them in the cache; they are uploaded the "
                               "next time you mount this account.")
        wait = box.addButton("Unmount after uploads", QMessageBox.ButtonRole.AcceptRole)
        force = box.addButton("Unmount now", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(wait)
        box.exec()
        clicked = box.clickedButton()
        return "wait" if clicked is wait else "force" if clicked is force else None

    def ask_pending_quit(self, count: int) -> bool:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Quit OneDrive GUI?")
        box.setText(f"{plural(count, 'file')} still to be uploaded.")
        box.setInformativeText("The app finishes the uploads, unmounts your drives and then "
                               "quits. This can take a while on a slow connection.")
        quit_btn = box.addButton("Quit after uploads", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is quit_btn

    def quit(self, *, ask: bool = True, upload_timeout: float | None = None) -> None:
        """Quit after the uploads (asking first while some are pending, unless *ask* is
        False); *upload_timeout*: stop waiting after that many seconds (what is left stays
        in the cache and is uploaded at the next mount)."""
        if self._quitting:
            return
        pending = self.controller.pending_uploads() if self.controller is not None else 0
        if pending and ask and not self.ask_pending_quit(pending):
            return
        self._quitting = True
        self.quitting.emit()
        if pending:
            self.notify("Finishing uploads", f"Quitting after {plural(pending, 'upload')} "
                        "finish.")
        if self.controller is None:
            self._finish_quit(None)
        else:
            self.controller.shutdown(self._finish_quit, upload_timeout=upload_timeout)

    def _finish_quit(self, _result: Any) -> None:
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()
        QApplication.quit()

    # -- notifications ------------------------------------------------------------------------
    def notify(self, title: str, text: str, level: str = "info",
               on_click: Any = None) -> None:
        log.info("notification: %s — %s", title, text)
        if not getattr(self.ctx.accounts.settings, "notifications", True):
            return
        now = time.monotonic()
        key = (title, text)
        if now - self._last_notes.get(key, -1e9) < 30:
            return
        self._last_notes[key] = now
        self.surface.notify(title, text, level, on_click=on_click)

    def _mount_event(self, kind: str, text: str) -> None:
        self.notify(_EVENT_TITLE.get(kind, "OneDrive GUI"), text, _EVENT_LEVEL.get(kind, "info"))

    def _mount_failed(self, name: str, err: AppError) -> None:
        title = f"{name}: {err.title}" if name else err.title
        self.notify(title, f"{err.message} {err.hint}".strip(), "error")
        self.surface.refresh()

    def _status_changed(self, status: Any) -> None:
        new = status.state.name
        old = self._last_state.get(status.name)
        self._last_state[status.name] = new
        if new == "THROTTLED" and old != "THROTTLED":
            wait = f" for {status.retry_after:.0f} s" if status.retry_after else ""
            self.notify(f"{status.name}: slowed down by Microsoft",
                        f"OneDrive asked the app to wait{wait}; transfers resume by themselves. "
                        "If this happens often, lower “Requests per second” in Settings → "
                        "Performance.", "warning")
        elif new == "SIGN_IN_NEEDED" and old != "SIGN_IN_NEEDED":
            name = status.name
            self.notify(f"{name}: sign-in needed",
                        f"{_reason(status.error)} Click here "
                        f"or choose “Sign in to {name} again…” in the menu; the drive stays "
                        "mounted meanwhile.", "error",
                        on_click=lambda: self.reauthorize(name))
        elif new == "OFFLINE" and old != "OFFLINE":
            self.notify(f"{status.name}: OneDrive unreachable",
                        "Files already on this computer stay readable; changes are uploaded "
                        "when the connection is back.", "warning")
        elif new == "MOUNTED" and old == "OFFLINE":
            self.notify(f"{status.name}: back online", "OneDrive is reachable again; "
                        "pending changes are being uploaded.")
        elif new == "ERROR" and old in ("MOUNTED", "THROTTLED", "OFFLINE", "SIGN_IN_NEEDED"):
            # A failed mount is reported by the mount's own result (with its hint).
            self.notify(f"{status.name}: drive problem", status.error or "The mount stopped.",
                        "error")
        if self.settings_dialog is not None:
            self.settings_dialog.refresh_status()

    def check_reminders(self) -> None:
        from onedrive_gui.core.reminders import due_reminders

        for r in due_reminders(self.ctx.accounts.settings.accounts):
            level = "error" if r.kind == "secret-expired" else "warning"
            self.notify(r.title, r.text, level)

    def show_error(self, err: AppError) -> None:
        from onedrive_gui.ui.messages import show_error

        show_error(None, err)
