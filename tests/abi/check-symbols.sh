#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The exported dynamic symbols, the version script and the functions the
# public header declares must be the same set, and every export versioned.
set -eu
lib=$1 map=$2 header=$3
exported=$(readelf --dyn-syms -W "$lib" |
	awk '$7 != "UND" && $4 == "FUNC" { print $8 }' | sort -u)
unversioned=$(echo "$exported" | grep -v '@@MAILCONN_' || true)
exported=$(echo "$exported" | sed 's/@.*//' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(mailconn_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u)
declared=$(tr '\n' ' ' < "$header" | grep -o 'MAILCONN_API[^;]*;' |
	grep -o 'mailconn_[a-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u)
other_objects=$(readelf --dyn-syms -W "$lib" |
	awk '$7 != "UND" && $7 != "ABS" && $4 == "OBJECT" && $5 == "GLOBAL" { print $8 }')
fail=0
if [ -n "$unversioned" ]; then
	echo "exported without a MAILCONN_ version node:"; echo "$unversioned"; fail=1
fi
if [ "$exported" != "$listed" ]; then
	echo "exports differ from $map:"; diff <(echo "$exported") <(echo "$listed") || true; fail=1
fi
if [ "$declared" != "$listed" ]; then
	echo "header declarations differ from $map:"; diff <(echo "$declared") <(echo "$listed") || true; fail=1
fi
if [ -n "$other_objects" ]; then
	echo "exported data objects:"; echo "$other_objects"; fail=1
fi
n=$(echo "$exported" | wc -l)
[ $fail -eq 0 ] && echo "ok: $n functions exported, all versioned and declared"
exit $fail
