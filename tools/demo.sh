#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what is missing, build, start a throwaway Dovecot + Postfix on
# loopback, and run the full five-stage check against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
[ -d build ] || meson setup build
ninja -C build
exec python3 tests/servers/mailservers.py run -- bash -c '
	export DEMO_PASSWORD="$MAILCONN_TEST_PASSWORD"
	exec build/examples/mailconn-check \
		--email "$MAILCONN_TEST_USER" --password-env DEMO_PASSWORD \
		--imap-host "$MAILCONN_TEST_HOSTNAME" --imap-port "$MAILCONN_TEST_IMAP_TLS_PORT" \
		--smtp-host "$MAILCONN_TEST_HOSTNAME" --smtp-port "$MAILCONN_TEST_SMTP_STARTTLS_PORT" \
		--smtp-security starttls \
		--bcc "$MAILCONN_TEST_BCC" --ca-file "$MAILCONN_TEST_CA_FILE" "$@"' demo "$@"
