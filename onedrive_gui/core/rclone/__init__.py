"""The rclone engine: locate the binary, run one ``rclone rcd`` per account, drive it over rc,
keep its encrypted config (remotes), read its log.

May import the core's app-wide modules, :mod:`onedrive_gui.core.system` and
:mod:`onedrive_gui.core.microsoft`; never drives.
"""
