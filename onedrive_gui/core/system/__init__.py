"""The operating system: app folders, the keyring, start at login, elevation, session end,
the single-instance channel.

May import only the core's app-wide modules (errors, i18n, logging_setup, atomic); every other
core subpackage may import it.
"""
