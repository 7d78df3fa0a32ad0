#!/bin/sh
# Builds the release archive for krew and records it in the manifest.
#
#   scripts/dist.sh VERSION
#
# VERSION is the build's version (the Makefile passes `git describe`); a
# release tag such as v0.1.0 is used as is, anything else (an untagged
# commit) becomes a semver pre-release, v0.0.0-g<describe>, because krew
# accepts only v-prefixed semver.
#
# Environment (defaults in brackets):
#   BIN_DIR    where kubectl-azlinux was built [bin]
#   DIST_DIR   where the archive goes [dist]
#   MANIFEST   the krew manifest to update [krew-manifest.yaml]
#   DIST_URL   release download base; VERSION and the archive name are
#              appended [https://github.com/kubectl-azlinux/kubectl-azlinux/releases/download]
#   SOURCE_DATE_EPOCH  timestamp stored in the archive [last commit's time]
#
# The archive holds regular files only (krew refuses links), with the exec
# bit on both programs, and is byte-for-byte reproducible: sorted names,
# owner 0, fixed mtime, gzip without a name or time stamp.
set -eu

cd "$(dirname "$0")/.."

version=${1:?usage: scripts/dist.sh VERSION}
BIN_DIR=${BIN_DIR:-bin}
DIST_DIR=${DIST_DIR:-dist}
MANIFEST=${MANIFEST:-krew-manifest.yaml}
DIST_URL=${DIST_URL:-https://github.com/kubectl-azlinux/kubectl-azlinux/releases/download}

semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
if ! printf '%s\n' "$version" | grep -Eq "$semver"; then
	version="v0.0.0-g$(printf '%s' "$version" | tr -c '0-9A-Za-z.\n-' '-')"
fi

os=linux
arch=amd64
case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*) echo "dist: only linux/amd64 builds here; see README for the other platforms" >&2; exit 1 ;;
esac

name="kubectl-azlinux_${version}_${os}_${arch}"
archive="$DIST_DIR/$name.tar.gz"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi

for f in "$BIN_DIR/kubectl-azlinux" LICENSE README.md \
	completions/kubectl-azlinux.bash completions/kubectl-azlinux.zsh \
	completions/kubectl-azlinux.fish; do
	[ -f "$f" ] || { echo "dist: $f is missing; run make first" >&2; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -m 0755 "$stage/completions"
# Copies, not links: kubectl_complete-azlinux is a hard link in bin/, and a
# tar hard-link entry would make krew fail ("unable to handle file type").
install -m 0755 "$BIN_DIR/kubectl-azlinux" "$stage/kubectl-azlinux"
install -m 0755 "$BIN_DIR/kubectl-azlinux" "$stage/kubectl_complete-azlinux"
install -m 0644 LICENSE README.md "$stage/"
install -m 0644 completions/kubectl-azlinux.bash completions/kubectl-azlinux.zsh \
	completions/kubectl-azlinux.fish "$stage/completions/"

mkdir -p "$DIST_DIR"
tar --create --format=ustar --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$SOURCE_DATE_EPOCH" --hard-dereference --directory="$stage" \
	kubectl-azlinux kubectl_complete-azlinux LICENSE README.md completions |
	gzip -9 -n >"$archive.tmp"
mv "$archive.tmp" "$archive"

sha=$(sha256sum "$archive" | cut -d' ' -f1)
uri="$DIST_URL/$version/$name.tar.gz"

# Rewrite version, and uri and sha256 of the linux/amd64 platform, keeping
# the rest of the manifest (comments, wrapping) exactly as written.
/usr/bin/python3 - "$MANIFEST" "$version" "$uri" "$sha" "_${os}_${arch}.tar.gz" <<'EOF'
import re
import sys

path, version, uri, sha, suffix = sys.argv[1:]
lines = open(path, encoding="utf-8").read().split("\n")
out, in_platform, done = [], False, False
for line in lines:
    if re.match(r"^  version:", line):
        line = "  version: " + version
    elif re.match(r"^  - selector:", line):
        in_platform = False
    m = re.match(r"^(\s+)uri:\s*(\S+)", line)
    if m and m.group(2).endswith(suffix):
        line, in_platform, done = m.group(1) + "uri: " + uri, True, True
    m = re.match(r"^(\s+)sha256:", line)
    if m and in_platform:
        line = m.group(1) + "sha256: " + sha
    out.append(line)
if not done:
    sys.exit("dist: %s has no platform whose uri ends in %s" % (path, suffix))
open(path, "w", encoding="utf-8").write("\n".join(out))
EOF

echo "$archive"
echo "sha256 $sha"
