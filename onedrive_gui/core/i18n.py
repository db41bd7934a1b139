"""Translations: one gettext catalogue (domain ``onedrive_gui``) for the core, the command line
and the desktop layer.

Every user-facing string goes through ``_()`` (or ``ngettext`` for counts); strings defined at
import time (module constants) are marked with ``N_()`` and translated where they are shown.
Which language: :func:`install` — the command line calls it with no argument (the
environment: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), the desktop app with the
user's choice in Settings or the system's UI languages. Until then, and for a language with
no catalogue, the text stays English.
"""

from __future__ import annotations

import gettext
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

DOMAIN = "onedrive_gui"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

SYSTEM = ""  # the Settings value "System default"
# The languages offered in Settings: value stored in the settings file -> name shown, each in
# its own language (so a user who cannot read the current one still finds theirs).
LANGUAGES: dict[str, str] = {SYSTEM: "", "en": "English", "zh_CN": "简体中文"}
_ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_lock = threading.Lock()
_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _(message: str) -> str:
    """*message* in the user's language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of *singular*/*plural* for *n*, in the user's language."""
    return _translation.ngettext(singular, plural, n)


def names(items: Iterable[str]) -> str:
    """A list of names (drives, programs, clouds) for a sentence, with the language's list
    separator ("work, home" / "work、home"). Only for names: sentences are never joined."""
    # Translators: the separator between the names in a list ("work, home"); Chinese: 、
    return _(", ").join(items)


def sentences(items: Iterable[str]) -> str:
    """Whole sentences one after the other in a paragraph: "One. Two." in English, "一。二。"
    in Chinese (no space between sentences)."""
    text = ""
    for sentence in items:
        # Translators: a paragraph so far, then one more whole sentence; Chinese: no space
        text = _("{text} {sentence}").format(text=text, sentence=sentence) if text else sentence
    return text


def N_(message: str) -> str:
    """Marks *message* for the catalogue without translating it (translate where shown)."""
    return message


def install(languages: list[str] | None = None, *, localedir: Path | None = None) -> str:
    """Use the catalogue of the first of *languages* that has one (None: from the environment,
    ``LANGUAGE`` (a colon-separated list), ``LC_ALL``, ``LC_MESSAGES``, ``LANG``).

    English (``en``, ``C``, ``POSIX``) before any language with a catalogue means the built-in
    text. Returns the language in use ("en" when none matched).
    """
    global _translation, _language
    if languages is None:
        value = next((v for v in (os.environ.get(n) for n in _ENV_VARS) if v), "")
        languages = [x for x in value.split(":") if x]
    found = None
    for lang in languages:
        if lang.split("_")[0].split(".")[0].lower() in ("en", "c", "posix"):
            break
        found = gettext.find(DOMAIN, str(localedir or LOCALE_DIR), languages=[lang])
        if found is not None:
            break
    with _lock:
        if found is None:
            _translation, _language = gettext.NullTranslations(), "en"
        else:
            with open(found, "rb") as f:
                _translation = gettext.GNUTranslations(f)
            _language = Path(found).parents[1].name
        return _language


def current_language() -> str:
    """The language of the catalogue in use ("en" for the built-in English)."""
    return _language


def gettext_language(tag: str) -> str:
    """A BCP 47 tag as Windows and Qt give it (``zh-Hans-CN``, ``zh-CN``, ``en-US``) in the
    form gettext looks for (``zh_CN``, ``en_US``)."""
    parts = tag.replace("-", "_").split("_")
    lang, rest = parts[0].lower(), parts[1:]
    script = next((p for p in rest if len(p) == 4 and p.isalpha()), "")
    region = next((p.upper() for p in rest if len(p) in (2, 3) and p != script), "")
    if lang == "zh" and not region:
        region = {"hant": "TW"}.get(script.lower(), "CN")
    return f"{lang}_{region}" if region else lang


def _windows_ui_languages() -> list[str]:  # pragma: no cover - Windows only
    import ctypes
    import locale

    langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
    name = locale.windows_locale.get(int(langid))
    return [name] if name else []


def system_languages(*, platform: str = sys.platform, environ: Mapping[str, str] | None = None,
                     ui_languages: Callable[[], list[str]] | None = None) -> list[str] | None:
    """The user's languages, best first; None means "gettext reads the environment".

    ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG`` win where set (the command line follows
    them everywhere); on Windows, where they are normally unset, the Windows display
    language (*ui_languages*: e.g. Qt's ``QLocale.system().uiLanguages()``; by default
    ``GetUserDefaultUILanguage``).
    """
    env = os.environ if environ is None else environ
    if platform != "win32" or any(env.get(v) for v in _ENV_VARS):
        return None
    tags = (ui_languages or _windows_ui_languages)()
    return [gettext_language(t) for t in tags if t]


def languages_for(choice: str, **system: object) -> list[str] | None:
    """The language list for :func:`install` from the Settings choice (``""``: the system)."""
    if choice and choice != SYSTEM:
        return [choice]
    return system_languages(**system)  # type: ignore[arg-type]
