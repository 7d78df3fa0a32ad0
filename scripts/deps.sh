#!/bin/sh
# Installs the Debian packages that building, testing and the demo need.
# As root it installs what is missing; otherwise it prints the one command to run.
set -eu

PACKAGES="gcc make pkg-config clang libclang-rt-14-dev cppcheck clang-tidy
libcurl4-openssl-dev libcjson-dev libyaml-dev libsecret-1-dev libcmocka-dev libssl-dev python3-dbus python3-gi gir1.2-secret-1
python3 python3-pytest python3-pytest-xdist python3-yaml python3-uvloop python3-azure openssl ca-certificates libssl-dev nghttp2-proxy
dbus dbus-bin gnome-keyring libsecret-tools
bash bash-completion zsh fish tmux man-db groff-base"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root: apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
