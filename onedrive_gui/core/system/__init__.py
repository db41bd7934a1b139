"""The operating system: app folders, the keyring, start at login, elevation, processes
(alive, start time, executable), session end, the single-instance channel.

May import only the core's app-wide modules (errors, i18n, logging_setup, atomic,
validation); every other core subpackage may import it.
"""
