#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compare the built library with the committed ABI baseline. Any change
# other than an added symbol or appended enumerator fails (abidiff status
# bits: 1 error, 2 usage, 4 change, 8 incompatible change).
set -u
lib=$1 baseline=$2 headers=$3
abidiff --no-added-syms --headers-dir2 "$headers" --drop-private-types \
	"$baseline" "$lib"
rc=$?
if [ $rc -ne 0 ]; then
	echo "ABI check failed (abidiff status $rc). If the change only adds API,"
	echo "regenerate the baseline in the same commit: ninja -C build abi-dump"
fi
exit $rc
