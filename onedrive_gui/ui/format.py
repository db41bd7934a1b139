"""Numbers and states as people read them."""

from __future__ import annotations

from onedrive_gui.core.i18n import N_, _, ngettext

# Graph's driveType, as people call the drive
DRIVE_TYPES = {
    "personal": N_("OneDrive"),
    "business": N_("OneDrive for work or school"),
    "documentLibrary": N_("SharePoint library"),
}


def drive_type_label(drive_type: str | None) -> str:
    """"OneDrive", "OneDrive for work or school", "SharePoint library" (never Graph's name)."""
    return _(DRIVE_TYPES.get(drive_type or "", N_("OneDrive")))


def drive_label(drive_name: str | None, drive_type: str | None) -> str:
    """A drive as the user knows it: "OneDrive for work or school", "Marketing — Documents
    (SharePoint library)"; a OneDrive's own name ("OneDrive") is not repeated."""
    kind = drive_type_label(drive_type)
    if not drive_name or (drive_type in ("personal", "business") and drive_name == "OneDrive"):
        return kind
    return _("{drive} ({kind})").format(drive=drive_name, kind=kind)


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
    """"3 files" in English, for the log (the screen uses :func:`files` / :func:`uploads`)."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def files(n: int) -> str:
    """"1 file" / "3 files" in the user's language."""
    return ngettext("{n} file", "{n} files", n).format(n=n)


def uploads(n: int) -> str:
    """"1 upload" / "3 uploads" in the user's language."""
    return ngettext("{n} upload", "{n} uploads", n).format(n=n)


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
        return _("{name}: not mounted").format(name=name)
    state = state_name(status)
    mp = short_path(getattr(status, "mount_point", None))
    if state == "mounted":
        text = (_("{name}: mounted on {mp}").format(name=name, mp=mp) if mp
                else _("{name}: mounted").format(name=name))
    elif state == "throttled":
        retry = getattr(status, "retry_after", None)
        text = (_("{name}: slowed down by Microsoft (retrying in {seconds:.0f} s)").format(
            name=name, seconds=retry) if retry
            else _("{name}: slowed down by Microsoft").format(name=name))
    elif state == "offline":
        text = _(
            "{name}: offline — changes upload when OneDrive is reachable again"
        ).format(name=name)
    elif state == "waiting_offline":
        text = _("{name}: offline — mounts by itself when OneDrive is reachable").format(
            name=name)
    elif state == "sign_in_needed":
        text = _("{name}: sign-in needed — choose “Sign in to {name} again…”").format(name=name)
    elif state == "error":
        err = getattr(status, "error", None)
        text = (_("{name}: error — {error}").format(name=name, error=err) if err
                else _("{name}: error").format(name=name))
    elif state == "unmounted":
        text = _("{name}: not mounted").format(name=name)
    else:
        text = _("{name}: {state}…").format(name=name, state=state)
    if activity is not None and state in LIVE:
        index = getattr(activity, "index", None)  # core/drives/indexing.py
        if index is not None and index.indexing:
            text += " — " + index.text()
        n_files = int(getattr(activity, "files", 0) or 0)
        if n_files:
            left = human_bytes(int(getattr(activity, "bytes_left", 0) or 0))
            speed = float(getattr(activity, "speed", 0.0) or 0.0)
            if speed > 0:
                return ngettext("{line}, uploading {n} file ({left} left), {speed}",
                                "{line}, uploading {n} files ({left} left), {speed}",
                                n_files).format(line=text, n=n_files, left=left,
                                                speed=human_speed(speed))
            return ngettext("{line}, uploading {n} file ({left} left)",
                            "{line}, uploading {n} files ({left} left)", n_files).format(
                line=text, n=n_files, left=left)
        return text
    pending = int(getattr(status, "pending_uploads", 0) or 0)
    if pending:
        speed = float(getattr(status, "speed", 0.0) or 0.0)
        if speed > 0:
            return ngettext("{line}, uploading {n} file, {speed}",
                            "{line}, uploading {n} files, {speed}", pending).format(
                line=text, n=pending, speed=human_speed(speed))
        return ngettext("{line}, uploading {n} file", "{line}, uploading {n} files",
                        pending).format(line=text, n=pending)
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


def state_word(status: object | None) -> str:
    """"mounted", "slowed down", "offline"…: an account's state in a word or two."""
    if status is None:
        return _("not mounted")
    state = state_name(status)
    return {"mounted": _("mounted"), "throttled": _("slowed down"), "offline": _("offline"),
            "waiting_offline": _("offline"),
            "sign_in_needed": _("sign-in needed"), "error": _("error"),
            "unmounted": _("not mounted")}.get(state, _("{state}…").format(state=state))


def short_state(status: object | None) -> str:
    """A few words for an account's state, for where space is short (the tooltip)."""
    word = state_word(status)
    pending = int(getattr(status, "pending_uploads", 0) or 0) if status is not None else 0
    return _("{word}, uploading {pending}").format(word=word, pending=pending) if pending else word


def account_state(name: str, status: object | None) -> str:
    """"work: mounted", for the tooltip when the full lines do not fit."""
    return _("{name}: {state}").format(name=name, state=short_state(status))


def tooltip_text(lines: list[str], short: list[str], states: list[str] | None = None) -> str:
    """The tray tooltip within TOOLTIP_MAX: the full *lines* (one per account) if they fit,
    else the *short* ones, else a count of accounts by state (*states*: their state_word,
    one per account)."""
    for candidate in (lines, short):
        text = "\n".join(candidate)
        if text_len(text) <= TOOLTIP_MAX:
            return text
    counts: dict[str, int] = {}
    for word in states or []:
        counts[word] = counts.get(word, 0) + 1
    summary = "\n".join(_("{n} {state}").format(n=n, state=word)
                        for word, n in sorted(counts.items()))
    return clip(_(
        "OneDrive GUI, {n_short} accounts: {summary}"
    ).format(n_short=len(short), summary=summary), TOOLTIP_MAX)
