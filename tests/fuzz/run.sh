#!/bin/sh
# Runs libFuzzer targets (tests/fuzz/fuzz_<name>.c, built by make) on their
# corpus (tests/fuzz/corpus/<name>/) and regression inputs
# (tests/fuzz/regress/<name>/), and prints one line per target.
#
#   tests/fuzz/run.sh SECONDS BIN...          fuzz each target for SECONDS
#   tests/fuzz/run.sh -replay SECONDS BIN...  run every regression input and
#                                             corpus file once, then fuzz
#                                             for the rest of SECONDS
# New inputs go to build/fuzz/run/corpus/<name>/, findings to
# build/fuzz/run/artifacts/<name>/ (copy a crash into regress/<name>/ once
# fixed). Exits 1 when any target found anything.
set -u
replay=0
if [ "${1:-}" = -replay ]; then
	replay=1
	shift
fi
secs=$1
shift
run=build/fuzz/run
failed=""
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=tests/fuzz/corpus/$name
	regress=tests/fuzz/regress/$name
	work=$run/corpus/$name
	art=$run/artifacts/$name
	log=$run/$name.log
	[ "$replay" = 1 ] && rm -rf "$work"
	mkdir -p "$work" "$art"
	: >"$log"
	rc=0
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
		"$bin" -rss_limit_mb=2048 -timeout=10 "$regress"/* >>"$log" 2>&1 || rc=$?
	fi
	if [ "$rc" = 0 ]; then
		dirs="$work"
		[ -d "$corpus" ] && dirs="$dirs $corpus"
		# shellcheck disable=SC2086
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$art/" $dirs >>"$log" 2>&1 || rc=$?
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" = 0 ]; then
		echo "fuzz: $name: ${runs:-0} runs, ${cov:-cov: ? ft: ?}: ok"
	else
		echo "fuzz: $name: FAILED (exit $rc) after ${runs:-?} runs; log $log, inputs in $art/" >&2
		grep -m 1 -A 12 'ERROR: \|runtime error\|==ERROR\|deadly signal\|timeout' "$log" >&2
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed" >&2
	exit 1
fi
echo "fuzz: $# targets ran clean for ${secs}s each"
