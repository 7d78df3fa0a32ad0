#!/bin/sh
# Runs the end-to-end suite. Usage: tests/run-e2e.sh [pytest args...]
# AZLINUX_BIN must name the kubectl-azlinux binary under test.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"
