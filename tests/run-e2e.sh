#!/bin/sh
# Runs the end-to-end suite. Usage: tests/run-e2e.sh [pytest args...]
# AZLINUX_BIN must name the kubectl-azlinux binary under test.
#
# The suite runs inside its own D-Bus session with a real Secret Service
# (gnome-keyring-daemon, unlocked with a known password), and with HOME and
# the XDG directories in a fresh temporary folder, so the keyring tests
# never see the user's keyring and leave nothing behind. Tests that need
# "no Secret Service" or a locked keyring arrange that themselves.
set -eu
cd "$(dirname "$0")/.."

if [ -z "${AZL_E2E_SESSION:-}" ]; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/azl-e2e.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT INT TERM
	mkdir -p "$tmp/home/.local/share/keyrings" "$tmp/home/.config" "$tmp/home/.cache" "$tmp/run"
	chmod -R 700 "$tmp"
	export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run"
	export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache"
	export AZL_E2E_SESSION=1 AZL_E2E_KEYRING_PASSWORD="azl-e2e-keyring"
	# The bus, and the keyring daemon with it, end when the session does.
	status=0
	timeout 3600 dbus-run-session -- "$0" "$@" || status=$?
	exit "$status"
fi

# Inside the session: printf, not echo, since a newline would become part of
# the password (credentials.md §6.3).
printf %s "$AZL_E2E_KEYRING_PASSWORD" |
	gnome-keyring-daemon --unlock --components=secrets >/dev/null
# Paths among the arguments narrow the run; otherwise it is all of tests/e2e.
for arg in "$@"; do
	case "$arg" in tests/*) exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" ;; esac
done
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"
