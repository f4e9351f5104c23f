#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the libFuzzer harnesses with clang, ASan and UBSan in build-fuzz and
# run each for a bounded time; exit non-zero on any crash, leak or timeout.
#   FUZZ_SECONDS  seconds per harness (default 60)
#   FUZZ_ONLY     space-separated harness names to run (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
dir=build-fuzz
harnesses=${FUZZ_ONLY:-"imap smtp session classify b64-sasl"}

if [ ! -d "$dir" ]; then
	CC=clang meson setup "$dir" -Dfuzzing=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dexamples=false -Dpython=disabled -Dabi_check=disabled
fi
targets=()
for h in $harnesses; do
	targets+=("tests/fuzz/fuzz-$h")
done
ninja -C "$dir" "${targets[@]}"

# The project's corpus of real server replies (tests/data) is turned into
# classifier seeds at fuzz time.
shared_seeds="$dir/shared-seeds"
rm -rf "$shared_seeds"
python3 tests/fuzz/make-seeds.py --shared-seeds "$shared_seeds"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
summary=()
for h in $harnesses; do
	# New inputs go to a scratch corpus; the committed seeds stay as they
	# are (copy worthwhile ones back by hand, minimised with -merge=1).
	work="$dir/fuzz-corpus/$h"
	artifacts="$dir/fuzz-artifacts/$h"
	log="$dir/fuzz-$h.log"
	mkdir -p "$work" "$artifacts"
	echo "== fuzz-$h: ${seconds}s"
	rc=0
	"$dir/tests/fuzz/fuzz-$h" \
		-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
		-max_len=20000 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" \
		"$work" "tests/fuzz/corpus/$h" \
		$( [ -d "$shared_seeds/$h" ] && echo "$shared_seeds/$h" ) \
		>"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1 || true)
	if [ "$rc" -ne 0 ]; then
		status=1
		summary+=("fuzz-$h: FINDING (exit $rc), see $log and $artifacts")
		grep -E -A 30 'ERROR|invariant broken|SUMMARY' "$log" | head -n 60 || true
	else
		summary+=("fuzz-$h: ok, ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-?}")
	fi
done

printf '%s\n' "${summary[@]}"
exit $status
