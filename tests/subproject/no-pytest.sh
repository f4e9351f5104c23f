#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `meson setup` of this tree on a machine without pytest: it must work,
# say once that the pytest suites are skipped, and keep the C tests.
# pytest is hidden by a module of that name that fails to import, found
# first through PYTHONPATH by the configure-time `import pytest` check.
# usage: no-pytest.sh SOURCE_ROOT MESON
set -eu
src=$1 meson=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/hide"
echo 'raise ImportError("pytest hidden by the no-pytest test")' > "$tmp/hide/pytest.py"

if ! PYTHONPATH="$tmp/hide" PYTHONDONTWRITEBYTECODE=1 \
	"$meson" setup "$tmp/build" "$src" >"$tmp/setup.log" 2>&1; then
	cat "$tmp/setup.log"
	echo "FAILED: meson setup without pytest"
	exit 1
fi
n=$(grep -c 'pytest suites .* are skipped' "$tmp/setup.log" || true)
if [ "$n" != 1 ]; then
	cat "$tmp/setup.log"
	echo "FAILED: want one line saying the pytest suites are skipped, got $n"
	exit 1
fi
"$meson" introspect --tests "$tmp/build" >"$tmp/tests.json"
for t in config version real-servers; do
	grep -q "\"name\": \"$t\"" "$tmp/tests.json" || {
		echo "FAILED: the C test $t is not registered without pytest"; exit 1; }
done
for t in cli python-binding hostile-peer corpus-engine; do
	if grep -q "\"name\": \"$t\"" "$tmp/tests.json"; then
		echo "FAILED: the pytest suite $t is registered without pytest"
		exit 1
	fi
done
echo "ok: set up without pytest; the pytest suites skipped, the C tests kept"
