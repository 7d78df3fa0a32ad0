#!/bin/sh
# Runs every cmocka test binary given as arguments, then one summary line.
# Exits non-zero when any test failed or any binary crashed.
set -u
binaries=0 tests=0 failed_bins=""
for t in "$@"; do
	binaries=$((binaries + 1))
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | tail -n 1)
	tests=$((tests + ${n:-0}))
	[ "$rc" -eq 0 ] || failed_bins="$failed_bins $(basename "$t")"
done
if [ -n "$failed_bins" ]; then
	echo "unit: $tests tests passed in $binaries binaries; FAILED:$failed_bins"
	exit 1
fi
echo "unit: $tests tests passed in $binaries binaries"
