#!/usr/bin/env bash
# Runs the test suite with the real services it needs: a private D-Bus session with an
# unlocked gnome-keyring (Secret Service) and a virtual X display. Arguments go to pytest.
# The tests run in parallel worker processes (pytest-xdist; each worker starts its own
# Secret Service, tests/conftest.py): most of their time is waiting on rclone, FUSE and timers,
# so more workers than cores pays. `-n 0` runs them in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
keyring_home=$(mktemp -d)
runtime_dir=$(mktemp -d)  # private: a keyring daemon of another session is never reused
chmod 700 "$runtime_dir"
trap 'rm -rf "$keyring_home" "$runtime_dir"' EXIT
export ONEDRIVE_GUI_TEST_KEYRING_HOME="$keyring_home"
export XDG_RUNTIME_DIR="$runtime_dir"
exec dbus-run-session -- bash -c '
  set -e
  # The keyring daemon keeps its files in a throwaway data dir, unlocked with a fixed password.
  eval "$(printf test | XDG_DATA_HOME="$ONEDRIVE_GUI_TEST_KEYRING_HOME" \
      gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m pytest \
      -n 6 --dist loadgroup "$@"
' test.sh "$@"
