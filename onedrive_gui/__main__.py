"""Entry point: ``onedrive-gui`` / ``python -m onedrive_gui``.

With no subcommand the desktop app starts; subcommands give a command line over the same
core. ``--version`` answers before anything heavy (msal, requests, Qt) is imported.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["--version"], ["-V"]):
        from onedrive_gui import __version__

        print(f"onedrive-gui {__version__}")
        return 0
    if args in ([], ["--self-test"]):
        # The desktop app: straight to the GUI, without building the command line's parser
        # (start-up time is benchmarked).
        from onedrive_gui.app import run_gui, start_logging

        start_logging(verbosity=0)  # the app's own log file, from the first line
        return run_gui(self_test=bool(args))
    from onedrive_gui.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
