"""Microsoft's side: the clouds, sign-in (msal, the loopback server, AADSTS errors), Graph.

Owns everything that talks to the identity platform or Graph directly (the system browser,
TLS trust, app registration). May import the core's app-wide modules (errors, i18n,
logging_setup, atomic, validation) and :mod:`onedrive_gui.core.system`; never rclone or drives.
"""
