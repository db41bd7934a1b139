"""Numbers and states as people read them."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def human_speed(bytes_per_s: float) -> str:
    return f"{human_bytes(bytes_per_s)}/s"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def short_path(path: str | None) -> str:
    if not path:
        return ""
    from pathlib import Path

    home = str(Path.home())
    if path == home or path.startswith(home + "/"):
        return "~" + path[len(home):]
    return path


def state_name(status: object) -> str:
    """MountStatus.state as a lower-case word ("mounted", "error", "sign_in_needed", ...)."""
    state = getattr(status, "state", None)
    return str(getattr(state, "name", state or "unmounted")).lower()


# States in which the drive is mounted (its files can be opened).
LIVE = ("mounted", "throttled", "offline", "sign_in_needed")


def status_line(name: str, status: object | None) -> str:
    """One line per account: "work: mounted on ~/OneDrive/work, uploading 3 files, 2.1 MB/s"."""
    if status is None:
        return f"{name}: not mounted"
    state = state_name(status)
    mp = short_path(getattr(status, "mount_point", None))
    if state == "mounted":
        text = f"{name}: mounted on {mp}" if mp else f"{name}: mounted"
    elif state == "throttled":
        retry = getattr(status, "retry_after", None)
        text = f"{name}: slowed down by Microsoft"
        if retry:
            text += f" (retrying in {retry:.0f} s)"
    elif state == "offline":
        text = f"{name}: offline — changes upload when OneDrive is reachable again"
    elif state == "sign_in_needed":
        text = f"{name}: sign-in needed — choose “Sign in to {name} again…”"
    elif state == "error":
        err = getattr(status, "error", None)
        text = f"{name}: error" + (f" — {err}" if err else "")
    elif state == "unmounted":
        text = f"{name}: not mounted"
    else:
        text = f"{name}: {state}…"
    pending = int(getattr(status, "pending_uploads", 0) or 0)
    if pending:
        text += f", uploading {plural(pending, 'file')}"
        speed = float(getattr(status, "speed", 0.0) or 0.0)
        if speed > 0:
            text += f", {human_speed(speed)}"
    return text


def overall_state(statuses: list[object]) -> str:
    """The tray icon for all accounts: error (incl. sign-in needed) > throttled (incl.
    offline) > uploading > mounted > idle."""
    states = [state_name(s) for s in statuses]
    if "error" in states or "sign_in_needed" in states:
        return "error"
    if "throttled" in states or "offline" in states:
        return "throttled"
    if any(int(getattr(s, "pending_uploads", 0) or 0) for s in statuses):
        return "uploading"
    if any(st in ("mounted", "unmounting") for st in states):
        return "mounted"
    return "idle"
