#!/bin/sh
# Runs clang-tidy (checks in .clang-tidy, warnings are errors) over the given
# sources in parallel. Usage: scripts/tidy.sh "<compiler flags>" file.c...
set -u
flags=$1
shift
echo "clang-tidy: $# files"
printf '%s\n' "$@" | xargs -P "$(nproc)" -I{} sh -c \
	'out=$(clang-tidy --quiet "$1" -- $2 2>&1); rc=$?; printf "%s\n" "$out" | grep -v "warnings generated" | grep . ; exit $rc' \
	sh {} "$flags" >&2
rc=$?
[ $rc -eq 0 ] && echo "clang-tidy: clean"
exit $rc
