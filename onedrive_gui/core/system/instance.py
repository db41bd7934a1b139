"""The running desktop app's request channel, without Qt (the command line uses it).

The desktop app holds a lock file (Qt's QLockFile: its first line is the holder's pid) in the
app's config folder and watches that folder (``ui/single_instance.py``). Anyone may leave a
request file next to the lock: ``show-request`` (a second launch: show yourself) or
``quit-request`` (``onedrive-gui quit``, an installer before an upgrade: quit as Quit does,
waiting at most a given time for the uploads). The app answers a quit request with a
``quit-reply`` file (accepted or refused, with the reason) and then quits; the asker waits
until the process is gone.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _

# The desktop app imports this module before its tray shows: what only the asker or an
# answer needs (secrets, the atomic writer and its tempfile) is imported where used, and the
# records are NamedTuples (cheaper to define than dataclasses).

LOCK_FILE = "instance.lock"
SHOW_REQUEST = "show-request"
QUIT_REQUEST = "quit-request"
QUIT_REPLY = "quit-reply"

# After the uploads (at most the timeout asked for) the app still unmounts and stops rclone;
# rclone's own stop takes up to 10 s plus its unmounts.
QUIT_GRACE = 45.0
ANSWER_TIMEOUT = 10.0  # seconds a running app gets to answer a quit request


class QuitError(AppError):
    """The running app did not quit (no answer, refused, or still running at the deadline)."""


class QuitRequest(NamedTuple):
    token: str
    timeout: float  # seconds to wait for uploads


class QuitReply(NamedTuple):
    token: str
    accepted: bool
    reason: str = ""  # why it was refused
    pending: int = 0  # uploads pending when it was accepted


def _pid_alive(pid: int) -> bool:
    from onedrive_gui.core.system.processes import pid_alive

    return pid_alive(pid)


def running_pid(lock_dir: Path, *, alive: Callable[[int], bool] | None = None) -> int | None:
    """The pid of the desktop app holding the lock in *lock_dir*; None when none runs."""
    is_alive = alive or _pid_alive
    try:
        first = (lock_dir / LOCK_FILE).read_bytes().split(b"\n", 1)[0]
        pid = int(first)
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and is_alive(pid) else None


def request_show(lock_dir: Path) -> None:
    (lock_dir / SHOW_REQUEST).write_bytes(b"show\n")


def write_quit_request(lock_dir: Path, timeout: float) -> QuitRequest:
    import secrets

    from onedrive_gui.core.atomic import write_atomic

    req = QuitRequest(secrets.token_hex(8), float(timeout))
    (lock_dir / QUIT_REPLY).unlink(missing_ok=True)
    write_atomic(lock_dir / QUIT_REQUEST,
                 json.dumps({"token": req.token, "timeout": req.timeout}).encode())
    return req


def parse_quit_request(data: bytes) -> QuitRequest | str:
    """The request in a ``quit-request`` file, or why it cannot be followed."""
    try:
        obj = json.loads(data)
        token, timeout = obj["token"], float(obj["timeout"])
    except (ValueError, KeyError, TypeError):
        return "the quit request could not be read"
    if not isinstance(token, str) or not token:
        return "the quit request could not be read"
    if not math.isfinite(timeout) or timeout < 0:
        return f"the upload timeout {timeout!r} is not a number of seconds"
    return QuitRequest(token, timeout)


def write_quit_reply(lock_dir: Path, reply: QuitReply) -> None:
    from onedrive_gui.core.atomic import write_atomic

    write_atomic(lock_dir / QUIT_REPLY, json.dumps(
        {"token": reply.token, "accepted": reply.accepted, "reason": reply.reason,
         "pending": reply.pending}).encode())


def read_quit_reply(lock_dir: Path, token: str) -> QuitReply | None:
    """The running app's answer to the request *token*, once it has written one."""
    try:
        obj = json.loads((lock_dir / QUIT_REPLY).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(obj, dict) or obj.get("token") != token:
        return None
    return QuitReply(token, bool(obj.get("accepted")), str(obj.get("reason") or ""),
                     int(obj.get("pending") or 0))


class QuitOutcome(NamedTuple):
    pid: int | None  # None: no app was running
    pending: int = 0  # uploads pending when the app accepted


def quit_running(
    lock_dir: Path,
    timeout: float,
    *,
    on_accepted: Callable[[int, QuitReply], None] | None = None,
    alive: Callable[[int], bool] | None = None,
    answer_timeout: float = ANSWER_TIMEOUT,
    grace: float = QUIT_GRACE,
    step: float = 0.1,
) -> QuitOutcome:
    """Ask the running desktop app to quit (uploads: at most *timeout* s) and wait until its
    process is gone. QuitError when it does not answer, refuses, or outlives the deadline."""
    alive = alive or _pid_alive
    pid = running_pid(lock_dir, alive=alive)
    if pid is None:
        return QuitOutcome(None)
    req = write_quit_request(lock_dir, timeout)
    try:
        answer_by = time.monotonic() + answer_timeout
        reply: QuitReply | None = None
        while reply is None:
            reply = read_quit_reply(lock_dir, req.token)
            if reply is not None:
                break
            if not alive(pid):
                return QuitOutcome(pid)
            if time.monotonic() >= answer_by:
                raise QuitError(
                    _("No answer from the app"),
                    _(
                        "OneDrive GUI (process {pid}) did not answer the request to quit "
                        "within {answer_timeout:.0f} s."
                    ).format(pid=pid, answer_timeout=answer_timeout),
                    _("It may be an older version or not responding. Quit it from its tray "
                    "menu, or end it in the task manager (uploads still pending stay in the "
                    "cache and are uploaded at the next mount)."),
                )
            time.sleep(step)
        if not reply.accepted:
            raise QuitError(_("The app refused to quit"),
                            _(
                                "OneDrive GUI (process {pid}) refused to quit: {reason}."
                            ).format(pid=pid, reason=reply.reason),
                            _("Quit it from its tray menu."))
        if on_accepted is not None:
            on_accepted(pid, reply)
        deadline = time.monotonic() + timeout + grace
        while alive(pid):
            if time.monotonic() >= deadline:
                raise QuitError(
                    _("The app did not quit in time"),
                    _(
                        "OneDrive GUI (process {pid}) is still running {value:.0f} s after it "
                        "was asked to quit."
                    ).format(pid=pid, value=timeout + grace),
                    _("Wait a little longer and run the command again, or quit it from its tray "
                    "menu."),
                )
            time.sleep(step)
        return QuitOutcome(pid, reply.pending)
    finally:
        for name in (QUIT_REQUEST, QUIT_REPLY):
            try:
                f = lock_dir / name
                if name == QUIT_REPLY or quit_token(f.read_bytes()) == req.token:
                    f.unlink(missing_ok=True)
            except OSError:
                pass  # already gone (the app took its request)


def quit_token(data: bytes) -> str | None:
    """The token of a quit request's (or reply's) bytes, if it has one."""
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    token = obj.get("token") if isinstance(obj, dict) else None
    return token if isinstance(token, str) else None


def clear_requests(lock_dir: Path) -> None:
    """Requests left while no app ran are not for the app starting now."""
    for name in (SHOW_REQUEST, QUIT_REQUEST, QUIT_REPLY):
        try:
            (lock_dir / name).unlink(missing_ok=True)
        except OSError:
            pass

