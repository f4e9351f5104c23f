#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/raii against the servers of mailservers.py: the report of a
# passing and a failing check, and caller errors turned into exceptions.
. "${0%/*}/lib.sh"
exe=$1
export WRONG_PASSWORD=not-the-password

# Implicit TLS for both servers.
set -- "$exe" --email "$MAILCONN_TEST_AWKWARD_USER" \
	--imap-host "$MAILCONN_TEST_HOSTNAME" \
	--imap-port "$MAILCONN_TEST_IMAP_TLS_PORT" --imap-security tls \
	--smtp-host "$MAILCONN_TEST_HOSTNAME" \
	--smtp-port "$MAILCONN_TEST_SMTP_TLS_PORT" --smtp-security tls \
	--bcc "$MAILCONN_TEST_BCC" --ca-file "$MAILCONN_TEST_CA_FILE"

run good 0 "$@" --password-env MAILCONN_TEST_AWKWARD_PASSWORD
for stage in imap_connect imap_login smtp_connect smtp_login test_send; do
	expect_line good "progress: $stage OK"
done
expect_line good "outcome: OK"
expect_match good 'stage 1 imap_connect: passed \([0-9]+ ms\)'
expect_match good 'stage 2 imap_login: passed \([0-9]+ ms\)'
expect_match good 'stage 3 smtp_connect: passed \([0-9]+ ms\)'
expect_match good 'stage 4 smtp_login: passed \([0-9]+ ms\)'
expect_match good 'stage 5 test_send: passed \([0-9]+ ms\)'
expect_line good "  address: 127.0.0.1:$MAILCONN_TEST_IMAP_TLS_PORT"
expect_line good "  address: 127.0.0.1:$MAILCONN_TEST_SMTP_TLS_PORT"
expect_match good '  tls_version: TLS1\.[23]'
expect_match good '  auth_mechanism: [A-Z0-9_-]+'
expect_prefix good "  message_id: "
[ "$(grep -c '^  tls_version: ' "$tmp/good.out")" -eq 2 ] ||
	fail "good: expected a TLS version for IMAP and for SMTP"
[ "$(grep -c '^  auth_mechanism: ' "$tmp/good.out")" -eq 2 ] ||
	fail "good: expected a mechanism for IMAP and for SMTP"

run wrong 1 "$@" --password-env WRONG_PASSWORD
expect_line wrong "progress: imap_login UNAUTHORIZED"
expect_line wrong "outcome: UNAUTHORIZED"
expect_line wrong "failed stage: imap_login"
expect_line wrong "cause: AUTH_REJECTED"
expect_prefix wrong "hint: "
expect_match wrong 'stage 2 imap_login: failed \([0-9]+ ms\)'
expect_line wrong "stage 3 smtp_connect: not run"
expect_line wrong "stage 5 test_send: not run"

# Caller errors come back as mailconn::Error exceptions: exit 2.
run badport 2 "$@" --imap-port 70000 --password-env WRONG_PASSWORD
expect_prefix badport.err "raii: E_INVALID_CONFIG: imap_port"
run nohost 2 "$exe" --email "$MAILCONN_TEST_USER" \
	--password-env MAILCONN_TEST_PASSWORD
expect_prefix nohost.err "raii: E_MISSING_OPTION: "
run argv 2 "$exe" --password secret
expect_line argv.err \
	"raii: --password: secrets are not taken from the command line"

no_secret "$MAILCONN_TEST_AWKWARD_PASSWORD"
finish
