"""Frozen-app entry point: the same main() as ``python -m onedrive_gui``."""

import multiprocessing
import sys

from onedrive_gui.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
