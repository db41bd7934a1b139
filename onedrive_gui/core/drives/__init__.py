"""Mounted drives: mount supervision, mount points, uploads and conflicts, crash recovery.

Owns what holds, moves or uploads a user's bytes once an account is set up. May import the
core's app-wide modules, :mod:`onedrive_gui.core.system`, :mod:`onedrive_gui.core.microsoft`
and :mod:`onedrive_gui.core.rclone`; nothing imports it but the facade, the UI and the CLI.
"""
