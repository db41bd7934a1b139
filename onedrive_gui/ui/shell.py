"""The running desktop app: tray (or its stand-in window), wizard and settings on demand,
notifications, reminders, quit after uploads."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import TYPE_CHECKING, Any

# Not Qt: importing QtCore's Qt namespace builds its ~100 enums (≈ 40 ms) before the tray
# icon shows; the few uses import it where they run.
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.format import (
    NOTIFY_BODY_MAX,
    NOTIFY_TITLE_MAX,
    clip,
    files,
    plural,
    short_path,
    text_len,
    uploads,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

# Dialog classes (QMessageBox...) are imported where used: creating their Python types costs
# start-up time, and the tray needs none of them to show.
log = logging.getLogger(__name__)

REMINDER_INTERVAL_MS = 6 * 3600 * 1000
FIRST_REMINDER_DELAY_MS = 2_000  # keep-alive and reminders after start, once the tray shows
# Quit never waits for uploads without a limit: what is left after this stays in the cache
# and is uploaded at the next mount.
QUIT_UPLOAD_LIMIT = 600.0
_EVENT_LEVEL = {"rcd-restarted": "warning", "uploads-abandoned": "warning",
                "cache-full": "error", "recovered": "warning",
                "rcd-failed": "error", "unmount-failed": "error", "monitor-error": "error",
                "rcd-stop-failed": "error", "conflict": "warning", "limits-failed": "error",
                "mount-failed": "error"}
_EVENT_TITLE = {"rcd-restarted": N_("rclone restarted"),
                "uploads-abandoned": N_("Uploads left pending"),
                "cache-full": N_("Cache disk full"), "recovered": N_("Recovered after a crash"),
                "rcd-failed": N_("rclone stopped"), "unmount-failed": N_("Unmount failed"),
                "monitor-error": N_("Mount check failed"),
                "rcd-stop-failed": N_("rclone did not stop"),
                "conflict": N_("Changed in two places: both kept"),
                "limits-applied": N_("New limits applied"),
                "limits-failed": N_("New limits not applied"),
                "mount-failed": N_("Mount failed")}


_AADSTS = re.compile(r"AADSTS\d+")
DETAILS = N_("{text} Click for details.")


def _reason(error: str | None) -> str:
    """Microsoft's reason from a SIGN_IN_NEEDED status, without the generic "Sign in again."
    (the notification itself says how)."""
    template = _("Sign-in needed: {message} {hint}")
    prefix, _sep, rest = template.partition("{message}")
    return (error or "").removeprefix(prefix).removesuffix(
        rest.format(hint=_("Sign in again.")))


def sign_in_notice(name: str, error: str | None) -> str:
    """The sign-in-needed notification: as much of Microsoft's reason as fits beside what to
    do, its AADSTS code kept (the whole reason is on the account's line in the menu)."""
    template = _("{reason} Click here or choose “Sign in to {name} again…”; the drive stays "
                 "mounted.")
    reason = _reason(error) or _("Microsoft asks for a new sign-in.")
    budget = NOTIFY_BODY_MAX - text_len(template.format(reason="", name=name))
    shown = clip(reason, budget)
    code = _AADSTS.search(reason)
    if code and code.group(0) not in shown:
        with_code = _("{reason} ({code})")
        shown = with_code.format(
            reason=clip(reason, budget - text_len(with_code.format(reason="", code=code.group(0)))),
            code=code.group(0))
    return template.format(reason=shown, name=name)


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
        menu.activity_requested.connect(self.open_activity)
        menu.quit_requested.connect(self.quit_from_menu)
        if self.controller is not None:
            self.controller.mount_event.connect(self._mount_event)
            self.controller.failed.connect(self._mount_failed)
            self.controller.changed.connect(self._status_changed)
        self.wizard: Any = None
        self.settings_dialog: Any = None
        self.log_window: Any = None
        self.activity_window: Any = None
        self._keep_alive_runner: Any = None
        self.reauth_dialogs: dict[str, Any] = {}
        self.details_box: Any = None
        self._last_notes: dict[tuple[str, str], float] = {}
        self._last_state: dict[str, str] = {}
        # Windows only: unmounting asks about open files (rclone's cmount does not wait).
        self.platform = sys.platform
        self.file_lister: Any = None  # the Restart Manager (core.open_files) by default
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
        self.warn_if_elevated()
        if not self.ctx.accounts.settings.accounts:
            self.add_account()
            return
        if self.controller is not None:
            self.controller.auto_mount()
        # Once the icon is in the tray: the keep-alive's worker imports the rclone engine and
        # HTTP stack, which would compete with the event loop's first turns (start-up time).
        QTimer.singleShot(FIRST_REMINDER_DELAY_MS, self, self.check_reminders)
        self._reminder_timer.start()

    def warn_if_elevated(self, **probe: Any) -> None:
        """Windows: drives mounted by an elevated app are invisible to normal programs."""
        from onedrive_gui.core.system.elevation import elevation_warning

        warning = elevation_warning(**probe)
        if warning is not None:
            self.notify(*warning, level="warning")

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
        self.notify(_(
            "{name}: signed in again"
        ).format(name=name), _("The drive stays mounted; pending uploads "
                    "continue now."))

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
        """The log view: the app's and rclone's logs, filter, search, Copy diagnostics."""
        if self.log_window is None:
            from onedrive_gui.ui.log_window import LogWindow

            self.log_window = LogWindow(self.ctx)
        self._raise(self.log_window)

    def open_activity(self) -> None:
        """The activity window: what each drive is uploading, Upload now, Retry, conflicts."""
        if self.activity_window is None:
            from onedrive_gui.ui.activity_window import ActivityWindow

            self.activity_window = ActivityWindow(self.ctx)
        self._raise(self.activity_window)

    # -- mounts ----------------------------------------------------------------------------------
    def mount(self, name: str) -> None:
        if self.controller is None:
            return
        def done(st: Any) -> None:
            if st.state.name == "MOUNTED":  # else: waiting for the network (told on change)
                self.notify(_("{name} mounted").format(name=name),
                            _("OneDrive is on {short_path}.").format(
                                short_path=short_path(st.mount_point)))

        self.controller.mount(name, on_done=done)

    def unmount(self, name: str) -> None:
        if self.controller is None:
            return
        status = self.controller.status(name)
        mount_point = getattr(status, "mount_point", None) if status is not None else None
        if self.platform == "win32" and mount_point and self.controller.is_mounted(name):
            # WinFsp unmounts even while files are open: ask first, naming who holds them.
            self._ask_about_open_files([(name, str(mount_point))], name,
                                       lambda: self._unmount_asked(name))
            return
        self._unmount_asked(name)

    def quit_from_menu(self) -> None:
        """Quit; on Windows first ask to close the files open from the mounted drives (they
        are unmounted at once, open files or not)."""
        mounted: list[tuple[str, str]] = []
        if self.controller is not None and self.platform == "win32":
            for n in self.ctx.accounts.settings.names():
                mp = getattr(self.controller.status(n), "mount_point", None)
                if mp and self.controller.is_mounted(n):
                    mounted.append((n, str(mp)))
        if not mounted:
            self.quit()
            return
        self._ask_about_open_files(mounted, "", self.quit)

    def _ask_about_open_files(self, mounted: list[tuple[str, str]], name: str,
                              then: Any) -> None:
        """Find (in a worker) the programs holding the drives' files, ask, then *then*."""
        from onedrive_gui.core.drives.open_files import cached_files, file_holders

        if self.controller is None:
            return
        cache_dir, platform, lister = (self.ctx.paths.rclone_cache_dir, self.platform,
                                       self.file_lister)

        def work() -> Any:
            paths = [p for n, mp in mounted for p in cached_files(cache_dir, n, mp)]
            return file_holders(paths, platform=platform, lister=lister)

        def done(holders: Any) -> None:
            where = ", ".join(mp.rstrip("\\/") if len(mp.rstrip("\\/")) == 2 else mp
                              for _n, mp in mounted)
            if self.ask_open_files(name, where, holders):
                then()

        def failed(err: AppError) -> None:  # the question is asked all the same
            log.warning("cannot tell which programs have files open: %s", err.message)
            done(None)

        self.controller.runner.run(work, done, failed)

    def ask_open_files(self, name: str, mount_point: str, holders: Any) -> bool:
        """Ask before unmounting *name* (quitting when empty) with files maybe open."""
        from onedrive_gui.core.drives.open_files import unmount_question
        from onedrive_gui.ui.messages import confirm

        question, details = unmount_question(mount_point, holders)
        if not name:
            return confirm(None, _("Quit OneDrive GUI?"), f"{question}\n\n{details}", _("Quit"))
        return confirm(None, _(
            "Unmount {name}?"
        ).format(name=name), f"{question}\n\n{details}", _("Unmount"))

    def _unmount_asked(self, name: str) -> None:
        if self.controller is None:
            return
        pending = self.controller.pending_uploads(name)
        if not pending:
            self.controller.unmount(name)
            return
        choice = self.ask_pending_unmount(name, pending)
        if choice == "wait":
            self.notify(_("{name}: finishing uploads").format(name=name),
                        _(
                            "Unmounting after {uploads} finish."
                        ).format(uploads=uploads(pending)),
                        on_click=self.open_activity)
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
        box.setWindowTitle(_("Unmount {name}?").format(name=name))
        box.setText(_(
            "{files} of {name} still to be uploaded."
        ).format(files=files(count), name=name))
        box.setInformativeText(_("Unmounting now keeps them in the cache; they are uploaded the "
                               "next time you mount this account."))
        wait = box.addButton(_("Unmount after uploads"), QMessageBox.ButtonRole.AcceptRole)
        force = box.addButton(_("Unmount now"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(wait)
        box.exec()
        clicked = box.clickedButton()
        return "wait" if clicked is wait else "force" if clicked is force else None

    def ask_pending_quit(self, count: int) -> bool:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(_("Quit OneDrive GUI?"))
        box.setText(_("{files} still to be uploaded.").format(files=files(count)))
        box.setInformativeText(
            _(
                "The app finishes the uploads, unmounts your drives and then quits. It waits "
                "at most {value:.0f} minutes; what is not uploaded by then stays in the cache "
                "and is uploaded the next time you mount."
            ).format(value=QUIT_UPLOAD_LIMIT / 60))
        quit_btn = box.addButton(_("Quit after uploads"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is quit_btn

    def quit(self, *, ask: bool = True, upload_timeout: float | None = None,
             why: str = "Quit") -> int:
        """Quit after the uploads (asking first while some are pending, unless *ask* is
        False), waiting at most *upload_timeout* s for them (QUIT_UPLOAD_LIMIT by default;
        what is left stays in the cache and is uploaded at the next mount). *why* goes to
        the log. Returns the uploads pending when the quit began (-1: the user said no)."""
        pending = self.controller.pending_uploads() if self.controller is not None else 0
        if self._quitting:
            return pending
        if pending and ask and not self.ask_pending_quit(pending):
            return -1
        wait = QUIT_UPLOAD_LIMIT if upload_timeout is None else upload_timeout
        log.info("quitting (%s): %s pending, waiting at most %.0f s for them", why,
                 plural(pending, "upload"), wait)
        self._quitting = True
        self.quitting.emit()
        if pending:
            self.notify(_("Finishing uploads"), _(
                "Quitting after {uploads} finish."
            ).format(uploads=uploads(pending)))
        if self.controller is None:
            self._finish_quit(None)
        else:
            self.controller.shutdown(self._finish_quit, upload_timeout=wait)
        return pending

    def quit_now(self) -> None:
        """Unmount and stop rclone before returning (the session is ending and the process
        may be ended right after; nothing is pending, so this takes a moment only)."""
        if self._quitting:
            return  # a quit is already under way (it is bounded)
        log.info("quitting now (the session ends)")
        self._quitting = True
        self.quitting.emit()
        if self.controller is not None:
            self.controller.shutdown_now()
        self._finish_quit(None)

    def _finish_quit(self, _result: Any) -> None:
        log.info("drives unmounted and rclone stopped; the app quits")
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()
        QApplication.quit()

    # -- notifications ------------------------------------------------------------------------
    def notify(self, title: str, text: str, level: str = "info",
               on_click: Any = None, on_details: Any = None) -> None:
        """A notification within what Windows shows (title 63, text 255 characters); a
        longer text is cut and, unless the notification has its own click action, a click
        shows all of it (*on_details*, by default a box with the whole text)."""
        log.info("notification: %s — %s", title, text)
        if not getattr(self.ctx.accounts.settings, "notifications", True):
            return
        now = time.monotonic()
        key = (title, text)
        if now - self._last_notes.get(key, -1e9) < 30:
            return
        self._last_notes[key] = now
        if self.tray is None:  # the stand-in window shows any length, and takes no clicks
            self.surface.notify(title, text, level, on_click=on_click)
            return
        shown_title, shown = clip(title, NOTIFY_TITLE_MAX), text
        if text_len(text) > NOTIFY_BODY_MAX:
            if on_click is None:
                details = _(DETAILS)
                shown = details.format(text=clip(
                    text, NOTIFY_BODY_MAX - text_len(details.format(text=""))))
                on_click = on_details or (lambda: self.show_details(title, text, level))
            else:
                shown = clip(text, NOTIFY_BODY_MAX)
        self.surface.notify(shown_title, shown, level, on_click=on_click)

    def show_details(self, title: str, text: str, level: str = "info") -> None:
        """The whole text of a notification that was too long to show."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox()
        box.setIcon(QMessageBox.Icon.Warning if level in ("warning", "error")
                    else QMessageBox.Icon.Information)
        box.setWindowTitle(title)
        box.setText(text)
        box.setTextInteractionFlags(box.textInteractionFlags()
                                    | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_box = box
        box.show()
        self._raise(box)

    def _mount_event(self, kind: str, text: str) -> None:
        on_click = self._open_conflict_folder(text) if kind == "conflict" else None
        if kind in ("cache-full", "rcd-restarted", "recovered") and text_len(
                text) <= NOTIFY_BODY_MAX:  # about pending uploads (a longer one: its details)
            on_click = self.open_activity
        self.notify(_(_EVENT_TITLE.get(kind, "OneDrive GUI")), text, _EVENT_LEVEL.get(kind, "info"),
                    on_click=on_click)

    def _open_conflict_folder(self, text: str) -> Any:
        """"Open both": opens the folder holding the two files the notification names
        (issue 15; the manager keeps this run's conflicts)."""
        manager = getattr(self.controller, "manager", None)
        log_ = getattr(manager, "conflicts", None)
        found = [c for c in log_.items() if c.text() == text] if log_ is not None else []
        folder = found[-1].local_folder if found else None
        if not folder:
            return None
        from onedrive_gui.ui.desktop import open_folder

        return lambda: open_folder(folder)

    def _mount_failed(self, name: str, err: AppError) -> None:
        # ui.messages where used: it imports Qt's namespace and the dialog classes, whose
        # Python types cost tens of ms before the tray shows
        from onedrive_gui.ui.messages import error_text

        title = _("{name}: {title}").format(name=name, title=err.title) if name else err.title
        text = error_text(err)
        self.notify(title, text, "error", on_details=lambda: self.show_error(err))
        self.surface.refresh()

    def _status_changed(self, status: Any) -> None:
        new = status.state.name
        old = self._last_state.get(status.name)
        self._last_state[status.name] = new
        if new == "THROTTLED" and old != "THROTTLED":
            text = (_("OneDrive asked the app to wait for {seconds:.0f} s; transfers resume by "
                      "themselves. If this happens often, lower “Requests per second” in "
                      "Settings → Performance.").format(seconds=status.retry_after)
                    if status.retry_after else
                    _("OneDrive asked the app to wait; transfers resume by themselves. If this "
                      "happens often, lower “Requests per second” in Settings → Performance."))
            self.notify(_("{name}: slowed down by Microsoft").format(name=status.name),
                        text, "warning", on_click=self.open_activity)
        elif new == "SIGN_IN_NEEDED" and old != "SIGN_IN_NEEDED":
            name = status.name
            self.notify(_(
                "{name}: sign-in needed"
            ).format(name=name), sign_in_notice(name, status.error), "error",
                        on_click=lambda: self.reauthorize(name))
        elif new == "OFFLINE" and old != "OFFLINE":
            self.notify(_("{name}: OneDrive unreachable").format(name=status.name),
                        _("Files already on this computer stay readable; changes are uploaded "
                        "when the connection is back."), "warning", on_click=self.open_activity)
        elif new == "WAITING_OFFLINE" and old != "WAITING_OFFLINE":
            self.notify(_("{name}: OneDrive unreachable").format(name=status.name),
                        _("No connection to OneDrive: {name} is mounted by itself as soon as "
                          "the connection is back.").format(name=status.name), "warning")
        elif new == "MOUNTED" and old == "WAITING_OFFLINE":
            self.notify(_("{name} mounted").format(name=status.name),
                        _("OneDrive is reachable again and on {path}.").format(
                            path=short_path(status.mount_point)))
        elif new == "MOUNTED" and old == "OFFLINE":
            self.notify(_(
                "{name}: back online"
            ).format(name=status.name), _("OneDrive is reachable again; "
                        "pending changes are being uploaded."), on_click=self.open_activity)
        elif new == "ERROR" and old in ("MOUNTED", "THROTTLED", "OFFLINE", "SIGN_IN_NEEDED"):
            # A failed mount is reported by the mount's own result (with its hint).
            self.notify(_(
                "{name}: drive problem"
            ).format(name=status.name), status.error or _("The mount stopped."),
                        "error")
        if self.settings_dialog is not None:
            self.settings_dialog.refresh_status()

    def check_reminders(self) -> None:
        """Keep the accounts' sign-ins alive (in a worker, through each account's rclone),
        then remind of what needs the user: a secret about to expire, a sign-in about to
        lapse (only when renewing it failed)."""
        keep_alive = getattr(self.ctx.accounts, "keep_alive", None)
        if keep_alive is None or self.controller is None:
            self.show_reminders()
            return
        if self._keep_alive_runner is None:
            from onedrive_gui.ui.tasks import TaskRunner

            self._keep_alive_runner = TaskRunner(self)
        names = list(self.ctx.accounts.settings.names())

        def work() -> dict[str, str]:
            return {n: keep_alive(n) for n in names}

        def failed(err: AppError) -> None:
            log.warning("keeping the sign-ins alive: %s", err.message)
            self.show_reminders()

        self._keep_alive_runner.run(work, lambda _r: self.show_reminders(), failed)

    def show_reminders(self) -> None:
        from onedrive_gui.core.reminders import due_reminders

        for r in due_reminders(self.ctx.accounts.settings.accounts):
            level = "error" if r.kind == "secret-expired" else "warning"
            self.notify(r.title, r.text, level)

    def show_error(self, err: AppError) -> None:
        from onedrive_gui.ui.messages import show_error

        show_error(None, err)
