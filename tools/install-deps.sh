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
	libxapian30 libical3 libidn12 libmailutils9 libgsasl18 libltdl7
	sasl2-bin libsasl2-modules libnss-wrapper
)

# Cyrus IMAP, Exim and GNU imap4d for the real-server suite. cyrus-imapd
# conflicts with dovecot-imapd and exim4 with postfix as packages, so these
# are downloaded and unpacked (dpkg -x) into a private root that nothing
# else uses; only their libraries (above) are installed. The tests look for
# them in $MAILCONN_TEST_SERVER_ROOT (default below).
server_root=${MAILCONN_TEST_SERVER_ROOT:-/opt/mailconn-test-servers}
server_debs=(cyrus-imapd cyrus-common exim4-daemon-light exim4-base
	mailutils-imap4d)

unpack_servers() {
	[ -x "$server_root/usr/lib/cyrus/bin/master" ] &&
		[ -x "$server_root/usr/sbin/exim4" ] &&
		[ -x "$server_root/usr/sbin/imap4d" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		# Not fatal: the tests that need them are skipped.
		echo "Cyrus, Exim and imap4d are not unpacked in $server_root" \
			"(their tests will be skipped); run this script as root." >&2
		return 0
	fi
	local dl
	dl=$(mktemp -d)
	chmod 755 "$dl"         # apt's download sandbox user must write here
	# Package lists may be stale (a version since replaced): update once.
	(cd "$dl" && { apt-get download -qq "${server_debs[@]}" ||
		{ apt-get update -qq && apt-get download -qq "${server_debs[@]}"; }; })
	mkdir -p "$server_root"
	for deb in "$dl"/*.deb; do
		dpkg -x "$deb" "$server_root"
	done
	rm -rf "$dl"
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	unpack_servers
	exit
fi

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
unpack_servers
