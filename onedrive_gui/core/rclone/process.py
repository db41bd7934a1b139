"""One ``rclone rcd`` on loopback, owned and stopped by the app (one per account).

rclone's request limiter (``--tpslimit``/``--tpslimit-burst``) and its bandwidth token
bucket (``--bwlimit``) are process-wide and built once at process start (DESIGN §9): an
account's limits are therefore flags of its own rcd (:func:`limit_args`), never a mount's
``_config``. Only the bandwidth can change while rclone runs (rc ``core/bwlimit``).

Secrets reach rclone only through the child's environment (RCLONE_CONFIG_PASS,
RCLONE_RC_USER, RCLONE_RC_PASS), never through argv. rclone runs in its own session /
process group so that Ctrl-C in a terminal does not kill it before pending uploads are done;
the app stops it itself with ``core/quit`` (which unmounts cleanly).

rc endpoint: nobody else on the machine may stand between the app and its rclone (another
local user can read every process's argv and could bind a port named there first). rclone
is started with ``--rc-addr 127.0.0.1:0``: the operating system gives rclone's own listening
socket a free port in the same step as binding it, so no port number exists before rclone
holds it. The app learns the number only from rclone's "Serving remote control on
http://127.0.0.1:N/" line (NOTICE, printed after the listener is bound; lib/http/server.go,
fs/rc/rcserver) on the child's own stderr, a pipe no other process holds. Before anything
else is sent, rc ``core/pid`` must name the child the app started, and ``config/listremotes``
must answer the way rclone does; anything else is refused with :class:`RcEndpointError`.
The same holds on Windows: port 0 is assigned at bind there too, the pipe is the child's,
and Go does not set SO_REUSEADDR on Windows listeners, so Windows' socket security refuses
another account's bind to the port while rclone holds it. (A Unix socket would serve Linux
and macOS only, and rclone does not announce one: ``Server.URLs`` skips them.)

rclone's log: rclone runs at DEBUG (the only level at which it reports that the cloud is
throttling, "Too many requests. Trying again in N seconds", and Microsoft's reason for
refusing a token refresh) but its output passes through the app first. At DEBUG rclone
logs every rc call with its parameters — client secret and tokens included — so only lines
at the requested level and above, plus those two kinds of DEBUG lines, reach the log file,
and every line is redacted on the way.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.logging_setup import redact, register_secret
from onedrive_gui.core.rclone.binary import RcloneBinary, child_env
from onedrive_gui.core.rclone.log_signals import rotated_path
from onedrive_gui.core.rclone.rc import DECRYPT_FAILED_MARK, RcCallError, RcClient

log = logging.getLogger(__name__)

# rclone's announcement of its rc listener (fs/rc/rcserver: fs.Logf, i.e. NOTICE, once per
# listener, after it is bound). rclone's own text, the same in every language.
_SERVING = re.compile(
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? +NOTICE *: Serving remote control on (\S+)\s*$"
)
_LOOPBACK_URL = re.compile(r"^http://127\.0\.0\.1:([1-9]\d{0,4})/$")
_LOG_LEVELS = ("DEBUG", "INFO", "NOTICE", "ERROR")
_LEVEL_RANK = {"DEBUG": 0, "INFO": 1, "NOTICE": 2, "WARNING": 2, "ERROR": 3, "CRITICAL": 4,
               "ALERT": 4, "EMERGENCY": 4}
_LINE_LEVEL = re.compile(
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? +([A-Z]+) *:"
)
# DEBUG/INFO lines worth keeping (they carry no secrets): the pacer's retries on throttling,
# Microsoft's reason when it refuses to renew the sign-in (its AADSTS code), a failed poll
# for changes (core/drives/indexing.py reads the drive again), and what the upload
# scheduler (core/drives/uploads.py, cache_watch.py) learns each file's base from: the
# version each file the VFS cache opens, renames through the mount, the flags of each open,
# the size the mount tells the kernel a file has, a listing giving a file a new version.
# (The tests run rclone at the app's level, INFO: they read what the app reads.)
KEEP_MARKS = ("Too many requests", "TooManyRequests", "serviceNotAvailable",
              "Service Unavailable", "activityLimitReached", "got fatal oauth error",
              "Change notify listener failure", "vfs cache: checking remote fingerprint",
              ": Rename: oldName=", ": >Rename: err=", ": Open: flags=",
              ": >Attr: a=valid=", ": Reset virtual modtime")


def keep_log_line(line: str, file_level: str, previous_kept: bool) -> bool:
    """Whether rclone's *line* goes into the log file written at *file_level*.

    Lines without a level prefix (continuations) follow the previous line's fate.
    """
    m = _LINE_LEVEL.match(line)
    if m is None:
        return previous_kept
    rank = _LEVEL_RANK.get(m.group(1), 1)
    if rank >= _LEVEL_RANK[file_level]:
        return True
    return any(mark in line for mark in KEEP_MARKS)


RCLONE_LOG_MAX = 16 << 20  # bytes of an rclone log before it is rotated (one older file kept)


class LogWriter:
    """Appends to an rclone log file, flushed per line, rotated to ``NAME.1`` past *max_bytes*
    (:class:`~.log_signals.LogTail` readers read the rest of the rotated file first). On
    Windows a rename fails while another program holds the file open: rotation is tried
    again at the next line."""

    def __init__(self, path: Path, max_bytes: int = RCLONE_LOG_MAX) -> None:
        self.path, self.max_bytes = path, max_bytes
        self._out = open(path, "a", encoding="utf-8")
        self._size = self._out.tell()

    def write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
        self._size += len(text.encode("utf-8"))
        if self._size > self.max_bytes:
            self._out.close()
            try:
                os.replace(self.path, rotated_path(self.path))
            except OSError as exc:  # held open elsewhere (Windows): later
                log.debug("rotating %s: %s", self.path, exc)
            self._out = open(self.path, "a", encoding="utf-8")
            self._size = self._out.tell()

    def close(self) -> None:
        self._out.close()


# rclone's names of the global options an account limits (as in MountOptions.global_flags).
LIMIT_KEYS = ("TPSLimit", "TPSLimitBurst", "Transfers", "Checkers", "BwLimit")


def limit_args(limits: Mapping[str, Any] | None) -> list[str]:
    """``rclone rcd`` flags for an account's limits (rclone's option names as keys:
    TPSLimit, TPSLimitBurst, Transfers, Checkers, BwLimit); missing keys keep rclone's
    defaults. Unknown keys are refused: a misspelt limit must not silently do nothing."""
    if not limits:
        return []
    unknown = set(limits) - set(LIMIT_KEYS)
    if unknown:
        raise RcloneError(
            _("Unknown rclone limit"),
            _(
                "{join} is not a limit the app passes to rclone."
            ).format(join=', '.join(sorted(unknown))),
            _("This is a bug in the app; please report it."),
        )
    args: list[str] = []
    if "TPSLimit" in limits:
        args.append(f"--tpslimit={float(limits['TPSLimit']):g}")
    if "TPSLimitBurst" in limits:
        args.append(f"--tpslimit-burst={int(limits['TPSLimitBurst'])}")
    if "Transfers" in limits:
        args.append(f"--transfers={int(limits['Transfers'])}")
    if "Checkers" in limits:
        args.append(f"--checkers={int(limits['Checkers'])}")
    bw = str(limits.get("BwLimit") or "").strip()
    if bw and bw.lower() != "off":
        args.append(f"--bwlimit={bw}")
    return args


def bwlimit_is_live(value: str) -> bool:
    """Whether rc ``core/bwlimit`` can apply *value* to a running rclone: a plain rate or an
    upload:download pair (a timetable is read at start only)."""
    v = value.strip()
    return " " not in v and "," not in v
def rc_password(config_password: str, user: str) -> str:
    """The rc password of an rcd started with *config_password* and rc *user*.

    Derived rather than random so that, after a crash, the next start can ask a left-over
    rclone to quit (rc ``core/quit``, which unmounts cleanly) knowing only its rc address
    and user name from the crash record — the password itself is never written anywhere.
    Whoever knows the config password can read the whole config anyway.
    """
    import hashlib
    import hmac

    return hmac.new(config_password.encode(), b"onedrive-gui rc\0" + user.encode(),
                    hashlib.sha256).hexdigest()


class RcEndpointError(RcloneError):
    """The program answering at the rc address is not the rclone the app started (or not
    rclone at all); nothing of the account was sent to it."""


def _endpoint_error(detail: str) -> RcEndpointError:
    return RcEndpointError(
        _("rclone's connection is not rclone's"),
        _("{detail} The app sent it none of your account's data and stopped.").format(
            detail=detail),
        _("Try again. If this repeats, close programs you do not know (another user of this "
          "computer may be running one). If you set your own rclone path in Settings, it must "
          "be rclone itself, not a launcher that starts rclone as another process."),
    )


class _Announcement:
    """rclone's rc address as the child printed it (set once, by the log pump)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.url: str | None = None

    def offer(self, line: str) -> None:
        if self.event.is_set():
            return
        m = _SERVING.match(line)
        if m is not None:
            self.url = m.group(1)
            self.event.set()


def _popen_flags() -> dict[str, Any]:
    if sys.platform == "win32":
        return {
            "creationflags": subprocess.CREATE_NO_WINDOW | subprocess.CREATE_NEW_PROCESS_GROUP
        }
    return {"start_new_session": True}


def _touch_private(path: Path) -> None:
    """Create *path* readable by the user only (rclone would create it 0640 / 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    if os.name == "posix":
        path.chmod(0o600)


def wrong_password_error(config_path: Path, *, given: bool = True) -> RcloneError:
    if not given:
        return RcloneError(
            _("rclone config password missing"),
            _(
                "The app's rclone config ({config_path}) is encrypted, but no password was "
                "given to rclone. The config file was left untouched."
            ).format(config_path=config_path),
            _("Unlock your keyring (it holds the password) and try again."),
        )
    return RcloneError(
        _("rclone config password is wrong"),
        _(
            "rclone cannot decrypt the app's rclone config ({config_path}) with the password "
            "from your keyring. The config file was left untouched."
        ).format(config_path=config_path),
        _("If you restored or changed your keyring, restore the matching password entry. "
        "Otherwise remove the accounts and add them again."),
    )


class Rcd:
    """A ``rclone rcd`` child process and the rc client talking to it."""

    def __init__(
        self,
        binary: RcloneBinary,
        *,
        config_path: Path,
        config_password: str | None,
        cache_dir: Path,
        log_file: Path,
        log_level: str = "INFO",
        extra_args: Sequence[str] = (),
        limits: Mapping[str, Any] | None = None,
    ) -> None:
        level = log_level.upper()
        if level not in _LOG_LEVELS:
            raise RcloneError(
                _("Bad rclone log level"),
                _("'{log_level}' is not an rclone log level.").format(log_level=log_level),
                _("Use one of {join}.").format(join=', '.join(_LOG_LEVELS)),
            )
        self.binary = binary
        self.config_path = Path(config_path)
        self._config_password = config_password
        self.cache_dir = Path(cache_dir)
        self.log_file = Path(log_file)
        self.log_level = level
        self.extra_args = list(extra_args)
        # The account's limits this rclone was started with (see limit_args); the bandwidth
        # is updated here when changed live.
        self.limits: dict[str, Any] = dict(limits or {})
        self._limit_args = limit_args(limits)
        self.url: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._client: RcClient | None = None
        self._lock = threading.RLock()
        register_secret(config_password)

    # ---- state ----------------------------------------------------------------------

    @property
    def client(self) -> RcClient:
        if self._client is None:
            raise RcloneError(
                _("rclone is not running"),
                _("The app's rclone was not started yet."),
                _("Start it first (this is a bug in the app if you see it)."),
            )
        return self._client

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    # ---- start ----------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> RcClient:
        with self._lock:
            if self.alive():
                return self.client
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            _touch_private(self.log_file)
            return self._start_once(timeout)

    def _argv(self) -> list[str]:
        return [
            str(self.binary.path),
            "rcd",
            "--rc-addr",
            "127.0.0.1:0",  # the port is chosen when rclone binds it (see the module doc)
            "--config",
            str(self.config_path),
            "--cache-dir",
            str(self.cache_dir),
            "--log-level",
            "DEBUG",
            "--ask-password=false",
            *self._limit_args,
            *self.extra_args,
        ]

    def _start_once(self, timeout: float) -> RcClient:
        user = "onedrive-gui-" + secrets.token_hex(4)
        password = (rc_password(self._config_password, user) if self._config_password
                    else secrets.token_urlsafe(32))
        register_secret(password)
        extra = {"RCLONE_RC_USER": user, "RCLONE_RC_PASS": password}
        if self._config_password is not None:
            extra["RCLONE_CONFIG_PASS"] = self._config_password
        log_offset = self.log_file.stat().st_size
        try:
            proc = subprocess.Popen(
                self._argv(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=child_env(extra),
                close_fds=True,
                **_popen_flags(),
            )
        except OSError as exc:
            raise RcloneError(
                _("rclone cannot be started"),
                _(
                    "Starting {path} failed: {value}."
                ).format(path=self.binary.path, value=exc.strerror or exc),
                _("Check the rclone path in Settings, or reinstall the app."),
            ) from exc
        self._proc = proc
        announced = _Announcement()
        self._pump = threading.Thread(
            target=self._pump_log, args=(proc, announced), name="rclone-log", daemon=True
        )
        self._pump.start()
        client: RcClient | None = None
        deadline = time.monotonic() + timeout
        try:
            # rclone answers within ~50 ms: look finely
            while not announced.event.wait(0.02):
                code = proc.poll()
                if code is not None:
                    raise self._exit_error(code, log_offset)
                if time.monotonic() > deadline:
                    raise RcloneError(
                        _("rclone did not start"),
                        self._with_log(_(
                            "rclone did not open its remote control within {timeout:.0f} s."
                        ).format(timeout=timeout), log_offset),
                        _("See the rclone log for details; then restart the app."),
                    )
            url = self._loopback_url(announced.url or "")
            client = RcClient(url, user, password)
            self._check_pid(client, proc)
            self._check_config(client)
        except BaseException:
            if client is not None:
                client.close()
            self._kill()
            raise
        self.url = url
        self._client = client
        log.info("rclone rcd started (pid %s, %s)", proc.pid, url)
        return client

    @staticmethod
    def _loopback_url(announced: str) -> str:
        """The announced rc address, accepted only as http on 127.0.0.1 with a real port."""
        m = _LOOPBACK_URL.match(announced)
        if m is None or int(m.group(1)) > 65535:
            raise _endpoint_error(
                _("rclone announced its remote control on {url}, not on this computer's "
                  "loopback address.").format(url=announced)
            )
        return announced.rstrip("/")

    def _check_pid(self, client: RcClient, proc: subprocess.Popen[bytes]) -> None:
        """The program at the announced address must be the child the app started."""
        try:
            answer = client.call("core/pid", timeout=10)
        except RcCallError as exc:
            raise _endpoint_error(
                _("The program at {url} refused to name its process ({error_text}).")
                .format(url=client.url, error_text=exc.error_text)
            ) from None
        pid = answer.get("pid")
        if isinstance(pid, bool) or not isinstance(pid, int) or pid != proc.pid:
            raise _endpoint_error(
                _("The app started rclone as process {pid}, but the program at {url} "
                  "reports process {other}.").format(pid=proc.pid, url=client.url,
                                                     other=pid)
            )

    def _check_config(self, client: RcClient) -> None:
        """rcd loads its config lazily: a wrong password shows only on the first config use."""
        try:
            answer = client.call("config/listremotes", timeout=10)
        except RcCallError as exc:
            if DECRYPT_FAILED_MARK in exc.error_text or "password" in exc.error_text.lower():
                raise wrong_password_error(
                    self.config_path, given=self._config_password is not None
                ) from None
            raise RcloneError(
                _("rclone cannot read its config"),
                _(
                    "rclone cannot load the app's config ({config_path}): {error_text}"
                ).format(config_path=self.config_path, error_text=exc.error_text),
                _("See the rclone log for details. The config file was left untouched."),
            ) from None
        remotes = answer.get("remotes")  # rclone: {"remotes": []} when there is none
        if not isinstance(remotes, list) or not all(isinstance(r, str) for r in remotes):
            raise _endpoint_error(
                _("The program at {url} does not answer the way rclone does.").format(
                    url=client.url)
            )

    def _pump_log(self, proc: subprocess.Popen[bytes], announced: _Announcement) -> None:
        """Copy rclone's stderr into the log file: filtered (see module doc) and redacted;
        rclone's announcement of its rc address is handed to the start."""
        assert proc.stderr is not None
        kept = True
        out = LogWriter(self.log_file)
        try:
            for raw in proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                announced.offer(line)
                kept = keep_log_line(line, self.log_level, kept)
                if kept:
                    out.write(redact(line) + "\n")
        finally:
            out.close()

    def _exit_error(self, code: int, log_offset: int) -> RcloneError:
        pump = self._pump
        if pump is not None:
            pump.join(timeout=5)  # the last lines rclone wrote before exiting
        tail = self._read_tail(log_offset)
        low = tail.lower()
        if DECRYPT_FAILED_MARK in low or "most likely wrong password" in low:
            return wrong_password_error(
                self.config_path, given=self._config_password is not None
            )
        return RcloneError(
            _("rclone did not start"),
            self._with_log(_(
                "rclone exited at once with code {code}."
            ).format(code=code), log_offset),
            _("See the rclone log for details; then restart the app."),
        )

    def _read_tail(self, offset: int, max_lines: int = 12) -> str:
        try:
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                data = f.read()[-20000:]
        except OSError:
            return ""
        lines = [
            ln
            for ln in data.decode("utf-8", "replace").splitlines()
            if ln.strip() and not ln.startswith(("\t", "goroutine "))
        ]
        return redact("\n".join(lines[-max_lines:]))

    def _with_log(self, message: str, offset: int) -> str:
        """*message*, then what rclone logged since *offset* (if anything) below it."""
        tail = self._read_tail(offset)
        if not tail:
            return message
        return "\n".join([message, _("rclone's log says:\n{tail}").format(tail=tail)])

    def set_bwlimit(self, rate: str) -> None:
        """Change the bandwidth limit of the running rclone (rc ``core/bwlimit``)."""
        value = rate.strip() or "off"
        if not bwlimit_is_live(value):
            raise RcloneError(
                _("Bandwidth timetable needs a restart"),
                _("rclone reads a bandwidth timetable only when it starts."),
                _("The app restarts the account's rclone to apply it."),
            )
        self.client.call("core/bwlimit", {"rate": value}, timeout=10)
        self.limits["BwLimit"] = value

    # ---- stop -----------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """``core/quit`` (rclone unmounts cleanly), then terminate, then kill."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None and self._client is not None:
                try:
                    self._client.call("core/quit", timeout=min(timeout, 10.0))
                except RcloneError as exc:
                    # rclone may exit before answering; terminate/kill below handle the rest.
                    log.info("rclone core/quit: %s", exc.message)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("rclone did not quit within %.0f s; terminating it", timeout)
                self._kill()
            if self._client is not None:
                self._client.close()
            if self._pump is not None:
                self._pump.join(timeout=5)
            log.info("rclone rcd stopped (pid %s, exit code %s)", proc.pid, proc.returncode)

    def _kill(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self._signal(proc, terminate=True)
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            log.warning("rclone did not terminate; killing it")
        self._signal(proc, terminate=False)
        proc.wait(timeout=5)

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], *, terminate: bool) -> None:
        """Terminate (or kill) the child; elsewhere than Windows its whole process group
        (its own session): a launcher's rclone must not outlive it."""
        if sys.platform != "win32":
            try:
                os.killpg(proc.pid, signal.SIGTERM if terminate else signal.SIGKILL)
                return
            except ProcessLookupError:
                return
            except PermissionError:
                pass  # not a group of ours: the child alone
        if terminate:
            proc.terminate()
        else:
            proc.kill()

