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


def status_line(name: str, status: object | None, activity: object | None = None) -> str:
    """One line per account: "work: mounted on ~/OneDrive/work, uploading 3 files, 2.1 MB/s";
    with its *activity* (core.activity.Activity, read fresh): "…, uploading 3 files (12.0 MB
    left), 2.1 MB/s"."""
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
    elif state == "waiting_offline":
        from onedrive_gui.core.i18n import _

        text = _("{name}: offline — mounts by itself when OneDrive is reachable").format(
            name=name)
    elif state == "sign_in_needed":
        text = f"{name}: sign-in needed — choose “Sign in to {name} again…”"
    elif state == "error":
        err = getattr(status, "error", None)
        text = f"{name}: error" + (f" — {err}" if err else "")
    elif state == "unmounted":
        text = f"{name}: not mounted"
    else:
        text = f"{name}: {state}…"
    if activity is not None and state in LIVE:
        files = int(getattr(activity, "files", 0) or 0)
        if files:
            from onedrive_gui.core.i18n import ngettext

            text += ngettext(", uploading {n} file ({left} left)",
                             ", uploading {n} files ({left} left)", files).format(
                n=files, left=human_bytes(int(getattr(activity, "bytes_left", 0) or 0)))
            speed = float(getattr(activity, "speed", 0.0) or 0.0)
            if speed > 0:
                text += f", {human_speed(speed)}"
        return text
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
    if "throttled" in states or "offline" in states or "waiting_offline" in states:
        return "throttled"
    if any(int(getattr(s, "pending_uploads", 0) or 0) for s in statuses):
        return "uploading"
    if any(st in ("mounted", "unmounting") for st in states):
        return "mounted"
    return "idle"


# Windows copies tray texts into fixed buffers and silently cuts the rest (Qt's
# qwindowssystemtrayicon.cpp fills NOTIFYICONDATA's szInfoTitle[64], szInfo[256] and
# szTip[128], each with its terminating zero). Every text the tray shows stays within them,
# on all platforms; what does not fit is in the menu or a details dialog.
NOTIFY_TITLE_MAX = 63
NOTIFY_BODY_MAX = 255
TOOLTIP_MAX = 127
ELLIPSIS = "…"


def text_len(text: str) -> int:
    """Length as Windows counts it: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """*text* if it fits in *limit* UTF-16 units; else cut at a word boundary, with "…"."""
    if text_len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    while cut and text_len(cut) > limit - 1:
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space >= len(cut) * 2 // 3:  # a word boundary near the end: cut there
        cut = cut[:space]
    return cut.rstrip(" ,;:.—-") + ELLIPSIS


def short_state(status: object | None) -> str:
    """A few words for an account's state, for where space is short (the tooltip)."""
    if status is None:
        return "not mounted"
    state = state_name(status)
    pending = int(getattr(status, "pending_uploads", 0) or 0)
    word = {"mounted": "mounted", "throttled": "slowed down", "offline": "offline",
            "waiting_offline": "offline",
            "sign_in_needed": "sign-in needed", "error": "error",
            "unmounted": "not mounted"}.get(state, f"{state}…")
    return f"{word}, uploading {pending}" if pending else word


def tooltip_text(lines: list[str], short: list[str]) -> str:
    """The tray tooltip within TOOLTIP_MAX: the full *lines* (one per account) if they fit,
    else the *short* ones, else a count of accounts by state."""
    for candidate in (lines, short):
        text = "\n".join(candidate)
        if text_len(text) <= TOOLTIP_MAX:
            return text
    counts: dict[str, int] = {}
    for line in short:
        word = line.rpartition(": ")[2].split(",")[0]
        counts[word] = counts.get(word, 0) + 1
    summary = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
    return clip(f"OneDrive GUI, {len(short)} accounts: {summary}", TOOLTIP_MAX)
