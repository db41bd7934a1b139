"""Qt-free core of onedrive_gui. Nothing under this package imports PySide6, the UI, the
command line or ``onedrive_gui.app``.

Layers, bottom to top (checked by ``tests/test_architecture.py``; ``docs/interfaces.md``):

* app-wide modules — errors, i18n, logging_setup, atomic, validation: any core module may
  import them; they import only each other;
* the subpackages, each importing only those below it: :mod:`.system` (the operating system)
  < :mod:`.microsoft` (sign-in, Graph) < :mod:`.rclone` (the rclone engine) < :mod:`.drives`
  (mounted drives);
* the top — settings (the settings file) and the facades accounts, diagnostics, reminders,
  selftest: they may import all of the core, and no subpackage imports them.
"""
