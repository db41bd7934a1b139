"""Composition root of the desktop app: builds the core services and hands them to ui/.

This is the only module that knows both the core and the Qt layer. Heavy pieces (msal,
requests, the wizard) are imported only when first needed.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

from onedrive_gui.core.i18n import _, names

log = logging.getLogger(__name__)


def start_logging(verbosity: int = 0) -> None:
    """The desktop app's own log file (``paths.app_log``: rotated, size-capped, user-only,
    redacted), from the first line on: a windowed exe has no stderr, and an app started at
    login no terminal. Uncaught exceptions go there too."""
    from onedrive_gui.core.logging_setup import log_uncaught_exceptions, setup_logging
    from onedrive_gui.core.system.paths import AppPaths

    try:  # rotated once the icon is in the tray (started() in run_gui): start-up time
        setup_logging(verbosity=verbosity, log_file=AppPaths.default().app_log, rotate=False)
    except OSError as exc:  # a full or read-only disk must not stop the app
        setup_logging(verbosity=verbosity)
        log.warning("the app's log file cannot be written: %s", exc)
    log_uncaught_exceptions()


def autostart_command() -> list[str]:
    """How the OS starts the app at login (pythonw.exe on Windows from a pip install)."""
    from onedrive_gui.core.system.autostart import app_command

    return app_command()


class _Lazy:
    """A service built on first use, not at start-up: the tray shows before anything is
    mounted (the MountManager pulls in the rclone engine) and before the autostart entry is
    looked at (the wizard and the settings dialog do)."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._real: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._real is None:
                self._real = self._build()
            return self._real

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            real = self._real
        if real is not None:
            real.shutdown(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)


def build_context(paths: Any) -> Any:
    """AppPaths -> AppContext with SettingsStore, SecretStore, AccountService, MountManager."""
    from onedrive_gui.core.accounts import AccountService
    from onedrive_gui.core.settings import SettingsStore
    from onedrive_gui.core.system.secrets import SecretStore
    from onedrive_gui.ui.context import AppContext
    from onedrive_gui.ui.mount_controller import MountController

    accounts = AccountService(
        paths, secrets=SecretStore(), store=SettingsStore(paths.settings_file)
    )
    controller = MountController(accounts)

    def build_manager() -> Any:
        from onedrive_gui.core.drives.mounts import MountManager

        return MountManager(
            accounts.rcd_factory,
            on_change=controller.on_change,
            on_event=controller.on_event,
            session=accounts.crash_record(),
            index_sizes=accounts.index_sizes(),
            rates=accounts.upload_rates(),
        )

    controller.manager = _Lazy(build_manager)
    def build_autostart() -> Any:
        from onedrive_gui.core.system.autostart import Autostart

        return Autostart(autostart_command())

    return AppContext(paths=paths, accounts=accounts, mounts=controller,
                      autostart=_Lazy(build_autostart))


# A logout (or `kill`) sends SIGTERM; the session manager kills for good some time later
# (systemd: 90 s by default). Quit as Quit does, without asking, waiting this long for uploads.
# Windows' session end (WM_QUERYENDSESSION -> commitDataRequest) waits as long: its Restart
# Manager force-closes apps after 30 s, and a user shutting down can always go on anyway.
SIGTERM_UPLOAD_WAIT = 30.0
SESSION_END_UPLOAD_WAIT = SIGTERM_UPLOAD_WAIT


def _quit_on_sigterm(shell: Any) -> None:
    """SIGTERM -> a clean quit: unmount after the uploads (at most SIGTERM_UPLOAD_WAIT s)."""
    import signal

    from PySide6.QtCore import QTimer

    if not hasattr(signal, "SIGTERM") or sys.platform == "win32":
        return

    def on_term(_signum: int, _frame: Any) -> None:
        log.info("SIGTERM: quitting after the uploads (at most %.0f s)", SIGTERM_UPLOAD_WAIT)
        QTimer.singleShot(0, lambda: shell.quit(ask=False, upload_timeout=SIGTERM_UPLOAD_WAIT,
                                                why="SIGTERM"))

    signal.signal(signal.SIGTERM, on_term)
    # Python runs signal handlers only when it gets control: wake it now and then.
    wake = QTimer(shell)
    wake.timeout.connect(lambda: None)
    wake.start(500)


def _quit_on_request(shell: Any, instance: Any, req: Any) -> None:
    """``onedrive-gui quit`` (or the installer): quit as Quit does, without asking, waiting at
    most the asked time for the uploads; the asker is told and waits for this process."""
    from onedrive_gui.core.system.instance import QuitReply

    pending = shell.quit(ask=False, upload_timeout=req.timeout, why="asked by onedrive-gui quit")
    instance.reply_quit(QuitReply(req.token, True, pending=max(pending, 0)))


def _watch_session_end(app: Any, shell: Any) -> None:
    """Log off / shut down: the bounded quit (ui/session_end.py)."""
    from onedrive_gui.ui.session_end import SessionGuard

    guard = SessionGuard(shell, SESSION_END_UPLOAD_WAIT)
    app.commitDataRequest.connect(guard.commit_data)
    app.aboutToQuit.connect(guard.clear)
    shell.session_guard = guard


def install_language(app: Any, choice: str) -> str:
    """The app's text in the language chosen in Settings (``""``: the system's — on Windows
    its display languages as Qt reports them, elsewhere LANGUAGE/LC_*/LANG), and Qt's own
    buttons and dialogs (qtbase_<lang>.qm) in the same language. Returns the language."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    from onedrive_gui.core.i18n import install, languages_for

    lang = install(languages_for(choice, ui_languages=lambda: QLocale.system().uiLanguages()))
    if lang != "en":
        qt = QTranslator(app)
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt.load(QLocale(lang), "qtbase", "_", folder):
            app.installTranslator(qt)
        else:
            log.info("no Qt translation for %s in %s", lang, folder)
    return lang


def run_gui(self_test: bool = False) -> int:
    # The core first: once PySide6 is loaded, every import goes through its import hook
    # (shibokensupport reads each module's source for its feature flags), which makes them
    # slower. Those the tray needs: the settings model, the single instance's request channel, the
    # cloud names (the tray's menu), the elevation check (run as the tray shows).
    import onedrive_gui.core.accounts
    import onedrive_gui.core.microsoft.clouds
    import onedrive_gui.core.system.elevation
    import onedrive_gui.core.system.instance  # noqa: F401
    from onedrive_gui import APP_NAME, __version__
    from onedrive_gui.core.errors import AppError
    from onedrive_gui.core.system.paths import AppPaths

    # isort: split
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from onedrive_gui.ui.icons import app_icon
    from onedrive_gui.ui.shell import DesktopShell
    from onedrive_gui.ui.single_instance import SingleInstance

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("OneDrive GUI")
    app.setDesktopFileName("onedrive-gui")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())

    paths = AppPaths.default()
    paths.ensure()
    instance = SingleInstance(paths.config_dir)
    if not self_test and not instance.acquire():
        log.info("already running: asked the running instance to show itself")
        return 0

    ctx = build_context(paths)
    try:
        language = ctx.accounts.settings.language  # load (report a damaged file) before the tray
    except AppError as err:
        from onedrive_gui.ui.messages import show_error

        language = install_language(app, "")
        show_error(None, err)
    else:
        language = install_language(app, language)
    shell = DesktopShell(ctx)
    instance.show_requested.connect(shell.show_main)
    instance.quit_requested.connect(lambda req: _quit_on_request(shell, instance, req))

    if self_test:
        return _run_self_test(app, ctx, shell)

    _quit_on_sigterm(shell)
    shell.start()

    def started() -> None:  # right after the tray shows (the event loop's first turn)
        # the first log record compiles the log's redaction patterns: after the icon shows
        log.info("OneDrive GUI %s started (pid %d, language %s)", __version__, os.getpid(),
                 language)
        _watch_session_end(app, shell)
        from onedrive_gui.core.logging_setup import start_rotation

        start_rotation()

    QTimer.singleShot(0, started)
    code = 1
    try:
        code = int(app.exec())
        return code
    finally:
        # Normally Quit already unmounted (after the uploads); a session logout may not have.
        ctx.mounts.shutdown_now()
        instance.release()
        log.info("OneDrive GUI quit (exit code %d)", code)


def _run_self_test(app: Any, ctx: Any, shell: Any) -> int:
    """``--self-test``: the GUI stack starts and stops, and what a first run needs is there
    (core/selftest.py: keyring round-trip, rclone; here: the Qt platform). 0 when all passed,
    1 naming what is missing."""
    from PySide6.QtCore import QTimer

    from onedrive_gui.core.selftest import Check, core_checks, missing

    if shell.tray is not None:
        shell.tray.show()
    QTimer.singleShot(0, app.quit)
    app.exec()
    if shell.tray is not None:
        shell.tray.hide()
    ctx.mounts.shutdown_now()
    settings = ctx.accounts.settings
    checks = [*core_checks(ctx.accounts.secrets, settings.rclone_path),
              Check(_("Qt platform"), bool(app.platformName()), app.platformName() or "none")]
    for check in checks:
        print(check.line(), file=sys.stdout if check.ok else sys.stderr)
    failed = missing(checks)
    if failed:
        print(_(
            "self-test failed: {join} not usable"
        ).format(join=names(failed)), file=sys.stderr)
        return 1
    print(_(
        "self-test ok: {n_accounts} account(s), tray {value}"
    ).format(
        n_accounts=len(settings.accounts),
        value=_("available") if shell.tray is not None else _("not available"),
    ))
    return 0
