"""argparse's own words (usage:, options, its error messages) in the user's language.

argparse looks them up through its module's ``_``/``ngettext``; :func:`install` points those at
the app's catalogue. The message ids below are argparse's own (Python 3.11-3.13), listed here
so that extraction puts them into the catalogue — their ``%s`` placeholders are argparse's.
"""

from __future__ import annotations

from onedrive_gui.core.i18n import N_, _, ngettext

MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)


def install() -> None:
    """argparse's text from the app's catalogue (in the language core.i18n installed)."""
    import argparse

    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]
