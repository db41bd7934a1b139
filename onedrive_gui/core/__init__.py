"""Qt-free core of onedrive_gui. Nothing under this package may import PySide6."""
