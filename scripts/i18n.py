"""The translation catalogue: extract, update, compile (and a pseudo-locale for tests).

    python scripts/i18n.py extract           # source -> onedrive_gui/locale/onedrive_gui.pot
    python scripts/i18n.py update            # .pot -> every <lang>/LC_MESSAGES/onedrive_gui.po
    python scripts/i18n.py init LANG         # start a new language (e.g. de, pt_BR)
    python scripts/i18n.py compile           # every .po -> .mo (what the app loads)
    python scripts/i18n.py pseudo DIR        # a pseudo catalogue (every string ⟦…⟧) under DIR
    python scripts/i18n.py all               # extract, update, compile

Babel is needed here (the test extra), never at run time: the app reads the compiled .mo
with the standard library's gettext.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "onedrive_gui"
LOCALE = PACKAGE / "locale"
DOMAIN = "onedrive_gui"
POT = LOCALE / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
PSEUDO_OPEN, PSEUDO_CLOSE = "⟦", "⟧"
# Placeholders a translation must keep: {name}, {name!r:>8}, %(name)s, %s, and {{ }} escapes.
PLACEHOLDER_RE = re.compile(
    r"\{\{|\}\}|\{[^{}]*\}|%\([A-Za-z_]\w*\)[#0 +-]*\d*(?:\.\d+)?[a-z]|%[sdr]")


def placeholders(text: str) -> list[str]:
    """The placeholders in *text*, sorted (order may change in a translation)."""
    return sorted(m.group(0) for m in PLACEHOLDER_RE.finditer(text))


def extract_catalog():  # -> babel.messages.Catalog
    """The catalogue of every marked string in the package, as Babel extracts it."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="onedrive_gui", domain=DOMAIN, charset="utf-8",
                      msgid_bugs_address="", copyright_holder="", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("Translators:",), strip_comment_tags=True):
        catalog.add(message, None, [(f"onedrive_gui/{filename}", lineno)],
                    auto_comments=comments, context=context)
    return catalog


def _write_po(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, include_lineno=False, omit_header=False,
             sort_output=False, ignore_obsolete=True)
    path.write_bytes(buf.getvalue())


def _read_po(path: Path, locale: str | None = None):
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def po_files() -> list[Path]:
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def extract() -> None:
    catalog = extract_catalog()
    _write_po(catalog, POT)
    print(f"{POT.relative_to(ROOT)}: {len(catalog)} messages")


def update() -> None:
    template = _read_po(POT)
    for po in po_files():
        catalog = _read_po(po, locale=po.parents[1].name)
        catalog.update(template, no_fuzzy_matching=True)
        _write_po(catalog, po)
        done = sum(1 for m in catalog if m.id and m.string and (
            all(m.string) if isinstance(m.string, (list, tuple)) else True))
        print(f"{po.relative_to(ROOT)}: {done}/{len(catalog)} translated")


def init(lang: str) -> None:
    from babel.messages.catalog import Catalog

    template = _read_po(POT)
    catalog = Catalog(locale=lang, domain=DOMAIN, project="onedrive_gui", charset="utf-8")
    catalog.update(template, no_fuzzy_matching=True)
    path = LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        raise SystemExit(f"{path} exists; use update")
    _write_po(catalog, path)
    print(f"{path.relative_to(ROOT)}: created")


def mo_bytes(po: Path) -> bytes:
    """The compiled catalogue of *po* (deterministic: the same .po gives the same bytes)."""
    from babel.messages.mofile import write_mo

    buf = io.BytesIO()
    write_mo(buf, _read_po(po, locale=po.parents[1].name), use_fuzzy=False)
    return buf.getvalue()


def compile_all() -> None:
    for po in po_files():
        mo = po.with_suffix(".mo")
        mo.write_bytes(mo_bytes(po))
        print(f"{mo.relative_to(ROOT)}: compiled")


_KEEP_RE = re.compile(r"<[^>]*>|&\w+;|" + PLACEHOLDER_RE.pattern)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


def pseudo_text(text: str) -> str:
    """*text* as a pseudo translation: its letters in fullwidth form (wider, like many
    languages) between ⟦ ⟧, so a screen shows which text came from the catalogue — any plain
    ASCII word left is data or a string the catalogue missed. Placeholders, HTML tags and
    entities stay intact."""
    out, pos = [], 0
    for m in _KEEP_RE.finditer(text):
        out.append(_fullwidth(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_fullwidth(text[pos:]))
    return f"{PSEUDO_OPEN}{''.join(out)}{PSEUDO_CLOSE}"


def pseudo(directory: Path, lang: str = "zz") -> Path:
    """A compiled pseudo catalogue for *lang* under *directory* (a gettext locale dir)."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    source = extract_catalog()
    catalog = Catalog(locale="en", domain=DOMAIN, charset="utf-8")
    for m in source:
        if not m.id:
            continue
        if isinstance(m.id, (list, tuple)):
            catalog.add(m.id, [pseudo_text(m.id[0]), pseudo_text(m.id[1])])
        else:
            catalog.add(m.id, pseudo_text(m.id))
    path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_mo(f, catalog)
    return path


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "all"
    if cmd == "extract":
        extract()
    elif cmd == "update":
        update()
    elif cmd == "init" and len(argv) == 2:
        init(argv[1])
    elif cmd == "compile":
        compile_all()
    elif cmd == "pseudo" and len(argv) >= 2:
        print(pseudo(Path(argv[1]), *argv[2:3]))
    elif cmd == "all":
        extract()
        update()
        compile_all()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
