#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/glib-check against the servers of mailservers.py: the progress
# ticks of a passing and a failing check, driven by a GLib main loop.
. "${0%/*}/lib.sh"
exe=$1
export WRONG_PASSWORD=not-the-password

# Both servers with STARTTLS, the mode a dialog most often meets.
set -- "$exe" --email "$MAILCONN_TEST_USER" \
	--imap-host "$MAILCONN_TEST_HOSTNAME" \
	--imap-port "$MAILCONN_TEST_IMAP_STARTTLS_PORT" --imap-security starttls \
	--smtp-host "$MAILCONN_TEST_HOSTNAME" \
	--smtp-port "$MAILCONN_TEST_SMTP_STARTTLS_PORT" --smtp-security starttls \
	--bcc "$MAILCONN_TEST_BCC" --ca-file "$MAILCONN_TEST_CA_FILE"

run good 0 "$@" --password-env MAILCONN_TEST_PASSWORD
expect_output good <<'END'
stage 1 imap_connect: started
stage 1 imap_connect: passed
stage 2 imap_login: started
stage 2 imap_login: passed
stage 3 smtp_connect: started
stage 3 smtp_connect: passed
stage 4 smtp_login: started
stage 4 smtp_login: passed
stage 5 test_send: started
stage 5 test_send: passed
result: OK
END

run wrong 1 "$@" --password-env WRONG_PASSWORD
expect_lines wrong 6
expect_line wrong "stage 1 imap_connect: passed"
expect_line wrong "stage 2 imap_login: failed (UNAUTHORIZED)"
expect_line wrong "result: UNAUTHORIZED at imap_login (AUTH_REJECTED)"
expect_prefix wrong "hint: "
# The first four lines, in this order.
head -n 4 "$tmp/wrong.out" >"$tmp/head.out"
expect_output head <<'END'
stage 1 imap_connect: started
stage 1 imap_connect: passed
stage 2 imap_login: started
stage 2 imap_login: failed (UNAUTHORIZED)
END

run badport 2 "$@" --smtp-port 0 --password-env MAILCONN_TEST_PASSWORD
expect_lines badport 0
expect_prefix badport.err "glib-check: smtp_port"

no_secret "$MAILCONN_TEST_PASSWORD"
finish
