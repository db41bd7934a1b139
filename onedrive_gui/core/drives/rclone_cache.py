"""rclone's VFS cache as the upload scheduler reads it: the names rclone gives files on
disk (its OS encoding of names, e.g. full-width look-alikes on Windows) and its log lines
about cache items (its own English, never translated)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# rclone's log lines (DEBUG and INFO; its own format, never translated) about cache items
_OPENED_RE = re.compile(r'^\S+ \S+ +DEBUG +: (.*): vfs cache: checking remote fingerprint '
                        r'"((?:[^"\\]|\\.)*)" against cached fingerprint "((?:[^"\\]|\\.)*)"$')
# an upload queued (rclone's writeback, INFO): at a close of a changed file, at its reload
_QUEUED_RE = re.compile(r'^\S+ \S+ +INFO +: (.*): vfs cache: queuing for upload in ')
_RENAMED_RE = re.compile(r'^\S+ \S+ +INFO +: (.*): vfs cache: renamed in cache to '
                         r'"((?:[^"\\]|\\.)*)"$')
# the size rclone's FUSE mount (cmd/mount: Linux) tells the kernel a file has
# (File.Attr's trace; cmount, on Windows and macOS, logs no size)
# an open as rclone's VFS logs it (vfs/file.go File.Open's trace, every platform), its flags
# as os.O_* names joined by "|" (vfs.go decodeOpenFlags)
_OPEN_RE = re.compile(r'^\S+ \S+ +DEBUG +: (.*): Open: flags=(O_[A-Za-z0-9_|]+)$')
# a rename as rclone's FUSE mount logs it (cmd/mount dir.go Rename's trace, Linux): its start
# (rclone then moves the cloud item, and only after that its cache item and queued upload),
# and its end (the folder's node only)
_RENAME_RE = re.compile(r'^\S+ \S+ +DEBUG +: (.*): Rename: oldName="((?:[^"\\]|\\.)*)", '
                        r'newName="(?:[^"\\]|\\.)*", newDir=')
_RENAME_DONE_RE = re.compile(r'^\S+ \S+ +DEBUG +: (.*): >Rename: err=')
# a folder listing gave an existing file its (maybe new) cloud version (vfs/file.go
# setObjectNoUpdate, called for every file of a folder read again: every platform)
_RESET_RE = re.compile(r'^\S+ \S+ +DEBUG +: (.*): Reset virtual modtime$')
_SHOWN_RE = re.compile(r'^\S+ \S+ +DEBUG +: (.*): >Attr: a=valid=\S+ ino=\d+ size=(\d+) '
                       r'mode=\S+, err=<nil>$')


def _go_unquote(text: str) -> str:
    """The string inside Go's %q quotes (rclone's log)."""
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text



# ---- rclone's names on disk ---------------------------------------------------------------

_QUOTE = "\u201b"  # rclone's lib/encoder QuoteRune
_WIN_CHARS = '<>:"\\|?*'


def os_name(name: str, platform: str | None = None) -> str:
    """One path element as rclone's local encoding (``lib/encoder`` ``OS``) writes it on
    *platform*: on Windows ``< > : " \\ | ? *`` and control characters become full-width /
    symbol look-alikes and a trailing space or period is replaced; everywhere a literal
    look-alike is quoted. The VFS cache and its metadata are named this way."""
    platform = platform or sys.platform
    win = platform == "win32"
    if name in (".", ".."):
        return "\uff0e" * len(name)
    if name in ("\uff0e", "\uff0e\uff0e"):
        return "".join(_QUOTE + c for c in name)
    suffix = ""
    if win and name:
        if name[-1] == " ":
            suffix, name = "\u2420", name[:-1]
        elif name[-1] == "\u2420":
            suffix, name = _QUOTE + "\u2420", name[:-1]
        elif name[-1] == ".":
            suffix, name = "\uff0e", name[:-1]
        elif name[-1] == "\uff0e":
            suffix, name = _QUOTE + "\uff0e", name[:-1]
    out: list[str] = []
    for ch in name:
        code = ord(ch)
        if code == 0:
            out.append("\u2400")
        elif ch in ("\u2400", _QUOTE):
            out.append(_QUOTE + ch)
        elif ch == "\uff0f":  # EncodeSlash: a literal full-width solidus
            out.append(_QUOTE + ch)
        elif win and ch in _WIN_CHARS:
            out.append(chr(code + 0xFEE0))
        elif win and ch in "".join(chr(ord(c) + 0xFEE0) for c in _WIN_CHARS):
            out.append(_QUOTE + ch)
        elif win and 0 < code < 0x20:
            out.append(chr(0x2400 + code))
        elif win and 0x2401 <= code < 0x2420:
            out.append(_QUOTE + ch)
        else:
            out.append(ch)
    return "".join(out) + suffix


def os_path(root: Path, name: str, platform: str | None = None) -> Path:
    """Where rclone keeps *name* (a path in the drive, "/"-separated) under *root*."""
    return root.joinpath(*(os_name(p, platform) for p in name.split("/") if p))


def _decode_path(rel: str, platform: str | None = None) -> str:
    """The drive path of a file found under rclone's cache folder (inverse of os_path for
    the names os_name changes; plain names unchanged)."""
    platform = platform or sys.platform
    parts = []
    for elem in rel.split("/"):
        if elem == "\uff0e" * len(elem) and elem:
            parts.append("." * len(elem))
            continue
        out: list[str] = []
        quoted = False
        for i, ch in enumerate(elem):
            if quoted:
                out.append(ch)
                quoted = False
            elif ch == _QUOTE:
                quoted = True
            elif ch == "\u2400":
                out.append("\0")
            elif platform == "win32" and 0xFF01 <= ord(ch) <= 0xFF5E and chr(
                    ord(ch) - 0xFEE0) in _WIN_CHARS:
                out.append(chr(ord(ch) - 0xFEE0))
            elif platform == "win32" and 0x2401 <= ord(ch) < 0x2420:
                out.append(chr(ord(ch) - 0x2400))
            elif platform == "win32" and i == len(elem) - 1 and ch == "\u2420":
                out.append(" ")
            elif platform == "win32" and i == len(elem) - 1 and ch == "\uff0e":
                out.append(".")
            else:
                out.append(ch)
        parts.append("".join(out))
    return "/".join(parts)
