#!/usr/bin/env bash
# Sets up (first time) and starts the app. Extra arguments go to onedrive-gui.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/onedrive-gui "$@"
