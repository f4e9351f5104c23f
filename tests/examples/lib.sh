# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for the example tests: each records a failure instead of exiting,
# so one run reports every wrong line; finish sets the exit status.
set -u
: "${MAILCONN_TEST_USER:?run this through tests/servers/mailservers.py run}"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail()
{
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run NAME EXPECTED_STATUS CMD ARG...: output goes to $tmp/NAME.out and
# $tmp/NAME.err, and both are shown for the test log.
run()
{
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	got=$?
	echo "--- $name (exit $got)"
	cat "$tmp/$name.out" "$tmp/$name.err"
	[ "$got" -eq "$want" ] || fail "$name: exit status $got, expected $want"
}

# In the checks below, NAME means the stdout of run NAME and NAME.err its
# stderr.
output_of()
{
	case $1 in *.err) echo "$tmp/$1" ;; *) echo "$tmp/$1.out" ;; esac
}

# expect_line NAME LINE: NAME has exactly this line.
expect_line()
{
	grep -qxF -- "$2" "$(output_of "$1")" || fail "$1: no line '$2'"
}

# expect_match NAME ERE: a line of NAME matches the whole ERE.
expect_match()
{
	grep -qxE -- "$2" "$(output_of "$1")" ||
		fail "$1: no line matching '$2'"
}

# expect_prefix NAME PREFIX [SUFFIX]: a line that starts with PREFIX, has
# more text after it, and ends with SUFFIX.
expect_prefix()
{
	file=$(output_of "$1")
	suffix=${3-}
	while IFS= read -r line; do
		case $line in "$2"?*"$suffix") return 0 ;; esac
	done <"$file"
	fail "$1: no line '$2...$suffix'"
}

# expect_lines NAME N: NAME has exactly N lines.
expect_lines()
{
	n=$(wc -l <"$(output_of "$1")")
	[ "$n" -eq "$2" ] || fail "$1: $n lines of output, expected $2"
}

# expect_output NAME: the stdout of NAME is exactly the text on stdin.
expect_output()
{
	cat >"$tmp/$1.want"
	diff -u "$tmp/$1.want" "$tmp/$1.out" || fail "$1: output differs"
}

# no_secret SECRET: no output of any run shows it.
no_secret()
{
	if grep -qF -- "$1" "$tmp"/*.out "$tmp"/*.err; then
		fail "a password shows up in the output"
	fi
}

finish()
{
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
