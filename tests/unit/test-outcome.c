/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The outcome module's TLS diagnosis, from fabricated facts: each branch
 * gives the outcome, cause and words users and the hostile-peer tests
 * rely on, without a socket or a TLS library in sight.
 */
#include "check.h"
#include "proto/outcome.h"

static const struct mailconn__link imap_tls = {
	.protocol = MAILCONN_PROTOCOL_IMAP, .stage = MAILCONN_STAGE_IMAP_CONNECT,
	.port = 143, .starttls = 0, .peer = "192.0.2.1:143",
};
static const struct mailconn__link smtp_tls = {
	.protocol = MAILCONN_PROTOCOL_SMTP, .stage = MAILCONN_STAGE_SMTP_CONNECT,
	.port = 587, .starttls = 0, .peer = "[2001:db8::1]:587",
};

static struct mailconn__failure out;

static void
handshake(const struct mailconn__link *link, enum mailconn__tls_fault_kind kind,
          const char *alert, const char *first)
{
	struct mailconn__tls_fault fault = { kind, alert, "library words" };
	/* Leftovers from an earlier case must not survive. */
	memset(&out, 0x5a, sizeof out);
	mailconn__diagnose_handshake(link, &fault, first, strlen(first), &out);
}

static void
test_stage_outcome(void)
{
	CHECK_INT(mailconn__stage_outcome(MAILCONN_PROTOCOL_IMAP,
	                                  MAILCONN_STAGE_NONE),
	          MAILCONN_IMAP_SETTINGS);
	CHECK_INT(mailconn__stage_outcome(MAILCONN_PROTOCOL_SMTP,
	                                  MAILCONN_STAGE_NONE),
	          MAILCONN_SMTP_SETTINGS);
	CHECK_INT(mailconn__stage_outcome(MAILCONN_PROTOCOL_IMAP,
	                                  MAILCONN_STAGE_IMAP_LOGIN),
	          MAILCONN_IMAP_VALIDATION);
	CHECK_INT(mailconn__stage_outcome(MAILCONN_PROTOCOL_SMTP,
	                                  MAILCONN_STAGE_SMTP_LOGIN),
	          MAILCONN_SMTP_SETTINGS);
	CHECK_INT(mailconn__stage_outcome(MAILCONN_PROTOCOL_SMTP,
	                                  MAILCONN_STAGE_TEST_SEND),
	          MAILCONN_TEST_SEND);
}

static void
test_plaintext_server_on_tls_port(void)
{
	/* The right protocol in the wrong mode. */
	handshake(&imap_tls, MAILCONN__TLS_FAULT_OTHER, NULL, "* OK ready\r\n");
	CHECK_INT(out.stage, MAILCONN_STAGE_IMAP_CONNECT);
	CHECK_INT(out.outcome, MAILCONN_IMAP_SETTINGS);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_MODE_MISMATCH);
	CHECK_STR(out.detail, "port 143 speaks plaintext IMAP, not TLS: use "
	          "STARTTLS security on this port, or port 993 for TLS");
	CHECK_STR(out.reply, "");
	CHECK(out.provider == NULL);

	handshake(&smtp_tls, MAILCONN__TLS_FAULT_OTHER, NULL, "220 mx ESMTP\r\n");
	CHECK_INT(out.outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_MODE_MISMATCH);
	CHECK_STR(out.detail, "port 587 speaks plaintext SMTP, not TLS: use "
	          "STARTTLS security on this port, or port 465 for TLS");

	/* Another protocol altogether. */
	handshake(&imap_tls, MAILCONN__TLS_FAULT_CLOSED, NULL, "+OK POP3\r\n");
	CHECK_INT(out.cause, MAILCONN_CAUSE_WRONG_PROTOCOL);
	CHECK_CONTAINS(out.detail, "speaks plaintext POP3");
	handshake(&smtp_tls, MAILCONN__TLS_FAULT_OTHER, NULL, "* OK IMAP\r\n");
	CHECK_INT(out.cause, MAILCONN_CAUSE_WRONG_PROTOCOL);
	CHECK_CONTAINS(out.detail, "speaks plaintext IMAP");

	/* After STARTTLS the link was plaintext on purpose: no mode advice. */
	struct mailconn__link upgraded = imap_tls;
	upgraded.starttls = 1;
	handshake(&upgraded, MAILCONN__TLS_FAULT_OTHER, NULL, "* OK again\r\n");
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_HANDSHAKE);
	CHECK_STR(out.detail, "TLS handshake with 192.0.2.1:143 failed: "
	          "library words");
}

static void
test_alerts(void)
{
	/* An alert is the server's word even if plaintext-like bytes came. */
	handshake(&imap_tls, MAILCONN__TLS_FAULT_ALERT_VERSION,
	          "Protocol version", "\x15\x03\x03");
	CHECK_INT(out.outcome, MAILCONN_IMAP_VALIDATION);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_VERSION);
	CHECK_STR(out.detail, "the server refused TLS 1.2 and 1.3 with secure "
	          "ciphers (alert: Protocol version); it may only speak "
	          "outdated TLS");

	handshake(&smtp_tls, MAILCONN__TLS_FAULT_ALERT_CLIENT_CERT,
	          "Handshake failed", "");
	CHECK_INT(out.outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_HANDSHAKE);
	CHECK_STR(out.detail, "the server requires a TLS client certificate "
	          "(alert: Handshake failed), which this check does not send");

	handshake(&imap_tls, MAILCONN__TLS_FAULT_ALERT, NULL, "");
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_HANDSHAKE);
	CHECK_STR(out.detail, "the server ended the TLS session with alert: ?");

	/* After the handshake only alerts are diagnosed; the rest is left
	 * to the caller as a network error. */
	struct mailconn__link late = smtp_tls;
	late.stage = MAILCONN_STAGE_TEST_SEND;
	struct mailconn__tls_fault fault = {
		MAILCONN__TLS_FAULT_ALERT_CLIENT_CERT, "Certificate is required", "x"
	};
	memset(&out, 0, sizeof out);
	CHECK_INT(mailconn__diagnose_tls_alert(&late, &fault, &out), 1);
	CHECK_INT(out.stage, MAILCONN_STAGE_TEST_SEND);
	CHECK_INT(out.outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_CONTAINS(out.detail, "(alert: Certificate is required)");
	fault.kind = MAILCONN__TLS_FAULT_CLOSED;
	out.cause = MAILCONN_CAUSE_NONE;
	CHECK_INT(mailconn__diagnose_tls_alert(&late, &fault, &out), 0);
	CHECK_INT(out.cause, MAILCONN_CAUSE_NONE);
}

static void
test_local_refusals(void)
{
	handshake(&imap_tls, MAILCONN__TLS_FAULT_VERSION, NULL, "\x16\x03\x01");
	CHECK_INT(out.outcome, MAILCONN_IMAP_VALIDATION);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_VERSION);
	CHECK_STR(out.detail, "TLS handshake failed: the server offers no TLS "
	          "1.2 or newer with a secure cipher (library words)");

	handshake(&smtp_tls, MAILCONN__TLS_FAULT_OTHER, NULL, "\x16\x03\x03");
	CHECK_INT(out.outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_HANDSHAKE);
	CHECK_STR(out.detail, "TLS handshake with [2001:db8::1]:587 failed: "
	          "library words");
}

static void
test_nothing_answered(void)
{
	/* Silence then a close: the stage decides, like a refused connect. */
	handshake(&imap_tls, MAILCONN__TLS_FAULT_CLOSED, NULL, "");
	CHECK_INT(out.outcome, MAILCONN_IMAP_SETTINGS);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_HANDSHAKE);
	/* Something TLS-like did answer: the server is there. */
	handshake(&imap_tls, MAILCONN__TLS_FAULT_CLOSED, NULL, "\x16\x03");
	CHECK_INT(out.outcome, MAILCONN_IMAP_VALIDATION);
	/* Other errors and upgrades keep the TLS outcome. */
	handshake(&imap_tls, MAILCONN__TLS_FAULT_OTHER, NULL, "");
	CHECK_INT(out.outcome, MAILCONN_IMAP_VALIDATION);
	struct mailconn__link upgraded = imap_tls;
	upgraded.starttls = 1;
	handshake(&upgraded, MAILCONN__TLS_FAULT_CLOSED, NULL, "");
	CHECK_INT(out.outcome, MAILCONN_IMAP_VALIDATION);
}

static void
test_tls_on_plaintext_port(void)
{
	struct mailconn__link plain = smtp_tls;
	plain.stage = MAILCONN_STAGE_SMTP_CONNECT;
	memset(&out, 0x5a, sizeof out);
	CHECK_INT(mailconn__diagnose_plaintext(&plain, "\x16\x03\x01\x02", 4,
	                                       &out), 1);
	CHECK_INT(out.stage, MAILCONN_STAGE_SMTP_CONNECT);
	CHECK_INT(out.outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(out.cause, MAILCONN_CAUSE_TLS_MODE_MISMATCH);
	CHECK_STR(out.detail, "port 587 expects TLS from the first byte: use "
	          "TLS security on this port");

	memset(&out, 0, sizeof out);
	CHECK_INT(mailconn__diagnose_plaintext(&plain, "220 mx\r\n", 8, &out), 0);
	CHECK_INT(mailconn__diagnose_plaintext(&plain, "\x16", 1, &out), 0);
	CHECK_INT(mailconn__diagnose_plaintext(&plain, "", 0, &out), 0);
	CHECK_INT(out.cause, MAILCONN_CAUSE_NONE);
}

int
main(void)
{
	test_stage_outcome();
	test_plaintext_server_on_tls_port();
	test_alerts();
	test_local_refusals();
	test_nothing_answered();
	test_tls_on_plaintext_port();
	return check_finish();
}
