#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (gcc, build-asan), the threads test under ThreadSanitizer (gcc,
# build-tsan), then the unit and real-server tests under valgrind memcheck
# in the normal build. Exit non-zero on any error, leak or data race.
#
# "sanitize.sh --valgrind-wrap CMD..." is the wrapper of the "valgrind"
# test setup (tests/meson.build): it runs CMD under memcheck, and for a
# test started through mailservers.py it checks the command that script
# runs instead of the Python interpreter. Children are followed, except
# system programs (Dovecot, Postfix, certtool, sh, Python re-executed):
# what a test starts from the build tree, like mailconn-check, is checked.
# glibc's exit-time cleanup stays off: a session freed during DNS leaves its
# detached resolver thread inside getaddrinfo(), valgrind stops that thread
# at exit with getaddrinfo's internal lock held, and the cleanup would then
# wait for that lock forever (seen as a 3000 s CI timeout in callbacks).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --valgrind-wrap ]; then
	shift
	vg=(valgrind --error-exitcode=3 --leak-check=full
	    --errors-for-leak-kinds=definite,indirect
	    --show-leak-kinds=definite,indirect --num-callers=30
	    --trace-children=yes
	    --trace-children-skip='/usr/*,/bin/*,/sbin/*,/lib/*,/opt/*,*/python*'
	    --suppressions="$root/tests/valgrind.supp"
	    --run-libc-freeres=no)
	case " $* " in
	*/mailservers.py" "*" -- "*)
		for ((i = 1; i <= $#; i++)); do
			if [ "${!i}" = -- ]; then
				exec "${@:1:i}" "${vg[@]}" "${@:i+1}"
			fi
		done
		;;
	esac
	exec "${vg[@]}" "$@"
fi

cd "$root"
status=0

echo "== ASan + UBSan: whole suite (build-asan)"
if [ ! -d build-asan ]; then
	CC=gcc meson setup build-asan -Db_sanitize=address,undefined \
		-Db_lundef=false
fi
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs || status=1

echo "== TSan: sessions and config checks from one config in many threads (build-tsan)"
# Only the library and that one test are built and run: the rest of the
# suite is single-threaded or runs under Python, where TSan has nothing to
# add. Any report fails the run (exit code 66).
if [ ! -d build-tsan ]; then
	CC=gcc meson setup build-tsan -Db_sanitize=thread -Db_lundef=false \
		-Dtests=true -Dexamples=false -Dpython=disabled
fi
ninja -C build-tsan tests/integration/test-threads
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" \
	meson test -C build-tsan --no-rebuild --print-errorlogs threads ||
	status=1

echo "== valgrind memcheck: unit tests and the C integration tests (build)"
[ -d build ] || meson setup build
ninja -C build
# The Python binding's 200 concurrent checks cannot meet their stage
# timeouts at valgrind's pace, and valgrind would check Python rather than
# the library there; the C programs are what memcheck is for.
meson test -C build --setup valgrind --suite unit --print-errorlogs ||
	status=1
meson test -C build --setup valgrind --print-errorlogs \
	real-servers nonblocking secret-wipe cli callbacks threads \
	poll-failure-enomem poll-failure-einval || status=1

exit $status
