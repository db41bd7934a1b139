"""onedrive_gui: OneDrive through your own Azure app, rclone mounts and a tray icon.

Importing this package has no side effects and pulls in nothing heavy: ``--version``
relies on it.
"""

__version__ = "0.1.0"
APP_NAME = "onedrive-gui"
APP_DISPLAY_NAME = "OneDrive GUI"
