#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/poll-many against the servers of mailservers.py: four accounts
# in one poll() loop, including a wrong password, then a wrong expectation.
. "${0%/*}/lib.sh"
exe=$1
user=$MAILCONN_TEST_USER bob=$MAILCONN_TEST_BCC
awkward=$MAILCONN_TEST_AWKWARD_USER
export WRONG_PASSWORD=not-the-password

# IMAP over implicit TLS, SMTP with STARTTLS.
set -- "$exe" \
	--imap-host "$MAILCONN_TEST_HOSTNAME" \
	--imap-port "$MAILCONN_TEST_IMAP_TLS_PORT" --imap-security tls \
	--smtp-host "$MAILCONN_TEST_HOSTNAME" \
	--smtp-port "$MAILCONN_TEST_SMTP_STARTTLS_PORT" --smtp-security starttls \
	--bcc "$bob" --ca-file "$MAILCONN_TEST_CA_FILE"

run many 0 "$@" \
	"$user=MAILCONN_TEST_PASSWORD" \
	"$bob=MAILCONN_TEST_BCC_PASSWORD:OK" \
	"$awkward=MAILCONN_TEST_AWKWARD_PASSWORD" \
	"$user=WRONG_PASSWORD:UNAUTHORIZED"
expect_lines many 4
expect_line many "[1] $user: OK"
expect_line many "[2] $bob: OK"
expect_line many "[3] $awkward: OK"
refused="UNAUTHORIZED at imap_login (AUTH_REJECTED); hint: "
expect_prefix many "[4] $user: $refused"

# The example must notice when an outcome is not the expected one.
run mismatch 1 "$@" "$user=WRONG_PASSWORD:OK"
expect_lines mismatch 1
expect_prefix mismatch "[1] $user: $refused" " [expected OK]"

# Usage errors: exit 2, nothing checked.
run unset 2 "$@" "$user=NO_SUCH_VARIABLE_SET"
expect_lines unset 0
expect_line unset.err "poll-many: $user: NO_SUCH_VARIABLE_SET is not set"
run nobcc 2 "$exe" --imap-host "$MAILCONN_TEST_HOSTNAME" \
	--smtp-host "$MAILCONN_TEST_HOSTNAME" "$user=MAILCONN_TEST_PASSWORD"
expect_prefix nobcc.err "poll-many: E_MISSING_OPTION: "

no_secret "$MAILCONN_TEST_PASSWORD"
no_secret "$MAILCONN_TEST_AWKWARD_PASSWORD"
finish
