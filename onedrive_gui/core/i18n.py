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
import threading
from pathlib import Path

DOMAIN = "onedrive_gui"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_lock = threading.Lock()
_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _(message: str) -> str:
    """*message* in the user's language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of *singular*/*plural* for *n*, in the user's language."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks *message* for the catalogue without translating it (translate where shown)."""
    return message


def install(languages: list[str] | None = None) -> str:
    """Use the catalogue of the first of *languages* that has one (None: from the environment).

    Returns the language in use ("en" when none matched).
    """
    global _translation, _language
    found = gettext.find(DOMAIN, str(LOCALE_DIR), languages=languages)
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
