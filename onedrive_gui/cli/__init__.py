"""Command line over the core. Each subcommand lives in its own module and registers itself.

Modules expose ``register(subparsers) -> None``; the handler is stored as ``func`` and
returns the process exit code. Errors are :class:`AppError` and are printed as title,
message and hint on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from onedrive_gui import __version__
from onedrive_gui.core.errors import AppError, CancelledError

_COMMAND_MODULES = ("authorize", "accounts", "mount", "rclone_cmd", "quit")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="onedrive-gui",
        description="OneDrive through your own Azure app registration, with rclone mounts.",
    )
    parser.add_argument("--version", action="version", version=f"onedrive-gui {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument("--self-test", action="store_true", help="start the GUI stack and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"onedrive_gui.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"onedrive_gui.cli.{name}":
                continue  # command not built yet
            raise
        mod.register(sub)
    return parser


def print_error(err: AppError) -> None:
    print(f"Error: {err.title}", file=sys.stderr)
    print(f"  {err.message}", file=sys.stderr)
    if err.hint:
        print(f"  What to do: {err.hint}", file=sys.stderr)


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.command is None:
        from onedrive_gui.app import run_gui, start_logging

        start_logging(verbosity=args.verbose)
        return run_gui(self_test=args.self_test)
    from onedrive_gui.core.logging_setup import setup_logging

    setup_logging(verbosity=args.verbose)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print_error(CancelledError("Cancelled", "Stopped at your request.", ""))
        return CancelledError.exit_code
    except AppError as err:
        logging.getLogger(__name__).debug("command failed: %s", err.title)
        print_error(err)
        return err.exit_code
