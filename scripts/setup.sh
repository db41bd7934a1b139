#!/usr/bin/env bash
# Sets up a development environment: Debian packages (when root or sudo is available and a
# package is missing) and the virtual environment .venv with the app and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(grep -v '^#' scripts/system-packages.txt | grep -v '^$' | tr '\n' ' ')
if command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
  fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
lock=packaging/requirements-frozen.txt
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] \
    || [ "$lock" -nt .venv/.installed ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The app's dependencies exactly as the frozen build ships them (pinned, hash-checked),
  # then the app itself and its test tools.
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  .venv/bin/python -m pip install -q -e '.[test]'
  # The same locked wheels in a local folder (from pip's cache: nothing is fetched twice), so
  # the packaging tests can install the app into a fresh venv as a user would, offline.
  .venv/bin/python -m pip download -q --require-hashes -r "$lock" -d .venv/wheelhouse
  touch .venv/.installed
fi
