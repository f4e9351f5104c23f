#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build tests/subproject/consumer in a temporary directory with this tree
# as its subprojects/libmailconn, run it, and check that only the library
# was built for it (no examples, tests or benchmarks).
# usage: consume.sh SOURCE_ROOT MESON NINJA
set -eu
src=$1 meson=$2 ninja=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cp "$src/tests/subproject/consumer/meson.build" \
   "$src/tests/subproject/consumer/main.c" "$tmp/"
mkdir "$tmp/subprojects"
ln -s "$src" "$tmp/subprojects/libmailconn"
# The directory is there already, so nothing is downloaded; [provide]
# maps dependency('mailconn') to the subproject's override.
cat > "$tmp/subprojects/libmailconn.wrap" <<'WRAP'
[wrap-file]
directory = libmailconn

[provide]
dependency_names = mailconn
WRAP

# A nested meson must not think it runs inside the outer one's test.
unset MESON_TEST_ITERATION MESONINTROSPECT 2>/dev/null || true
if ! "$meson" setup "$tmp/build" "$tmp" >"$tmp/setup.log" 2>&1; then
	cat "$tmp/setup.log"
	echo "FAILED: meson setup of a project using libmailconn as a subproject"
	exit 1
fi
if ! "$ninja" -C "$tmp/build" >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "FAILED: building the consumer"
	exit 1
fi
"$tmp/build/consumer"

sub="$tmp/build/subprojects/libmailconn"
[ -e "$sub/lib/libmailconn.so.1" ] || {
	echo "FAILED: no libmailconn.so.1 in $sub/lib"; exit 1; }
for extra in examples tests bench python; do
	if [ -e "$sub/$extra" ]; then
		echo "FAILED: the subproject build made $extra/"
		exit 1
	fi
done
if grep -qi pytest "$tmp/setup.log"; then
	echo "FAILED: the subproject's setup looked for pytest"
	exit 1
fi
echo "ok: built and ran a consumer of libmailconn as a subproject"
