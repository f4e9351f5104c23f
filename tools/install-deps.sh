#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the Debian 12 packages libmailconn needs to build and test. As
# root it runs apt-get; otherwise it prints the one line to run as root.
set -euo pipefail

packages=(
	meson ninja-build pkg-config gcc g++ libgnutls28-dev libidn2-dev
	gnutls-bin abigail-tools valgrind python3 python3-pytest
	python3-venv python3-setuptools python3-wheel
	dovecot-imapd dovecot-lmtpd postfix libglib2.0-dev
	clang libclang-rt-14-dev curl libcurl4-gnutls-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "Missing packages. Run as root:" >&2
	echo "  apt-get install -y ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# No system-wide Postfix: the tests run private instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Keep package scripts from starting system Dovecot and Postfix services.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	created_policy=1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ $created_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
