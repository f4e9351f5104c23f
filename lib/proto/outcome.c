/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/sniff.h"

mailconn_error
mailconn__stage_outcome(mailconn_protocol protocol, mailconn_stage stage)
{
	switch (stage) {
	case MAILCONN_STAGE_IMAP_CONNECT:
		return MAILCONN_IMAP_SETTINGS;
	case MAILCONN_STAGE_IMAP_LOGIN:
		return MAILCONN_IMAP_VALIDATION;
	case MAILCONN_STAGE_SMTP_CONNECT:
	case MAILCONN_STAGE_SMTP_LOGIN:
		return MAILCONN_SMTP_SETTINGS;
	case MAILCONN_STAGE_TEST_SEND:
		return MAILCONN_TEST_SEND;
	default:
		return protocol == MAILCONN_PROTOCOL_IMAP ? MAILCONN_IMAP_SETTINGS
		                                          : MAILCONN_SMTP_SETTINGS;
	}
}

static int
is_imap(const struct mailconn__link *link)
{
	return link->protocol == MAILCONN_PROTOCOL_IMAP;
}

/* A server that got as far as speaking TLS is there: what it refused is
 * the account's problem for IMAP and the server settings' for SMTP,
 * whatever the stage. */
static mailconn_error
tls_outcome(const struct mailconn__link *link)
{
	return is_imap(link) ? MAILCONN_IMAP_VALIDATION : MAILCONN_SMTP_SETTINGS;
}

static const char *
or_unknown(const char *text)
{
	return text ? text : "?";
}

static void
verdict(struct mailconn__failure *out, const struct mailconn__link *link,
        mailconn_error outcome, mailconn_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
verdict(struct mailconn__failure *out, const struct mailconn__link *link,
        mailconn_error outcome, mailconn_cause cause, const char *fmt, ...)
{
	va_list ap;
	memset(out, 0, sizeof *out);
	out->stage = link->stage;
	out->outcome = outcome;
	out->cause = cause;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof out->detail, fmt, ap);
	va_end(ap);
}

int
mailconn__diagnose_tls_alert(const struct mailconn__link *link,
                             const struct mailconn__tls_fault *fault,
                             struct mailconn__failure *out)
{
	const char *name = or_unknown(fault->alert);
	switch (fault->kind) {
	case MAILCONN__TLS_FAULT_ALERT_VERSION:
		verdict(out, link, tls_outcome(link), MAILCONN_CAUSE_TLS_VERSION,
		        "the server refused TLS 1.2 and 1.3 with secure ciphers "
		        "(alert: %s); it may only speak outdated TLS", name);
		return 1;
	case MAILCONN__TLS_FAULT_ALERT_CLIENT_CERT:
		verdict(out, link, tls_outcome(link), MAILCONN_CAUSE_TLS_HANDSHAKE,
		        "the server requires a TLS client certificate (alert: %s), "
		        "which this check does not send", name);
		return 1;
	case MAILCONN__TLS_FAULT_ALERT:
		verdict(out, link, tls_outcome(link), MAILCONN_CAUSE_TLS_HANDSHAKE,
		        "the server ended the TLS session with alert: %s", name);
		return 1;
	default:
		return 0;
	}
}

void
mailconn__diagnose_handshake(const struct mailconn__link *link,
                             const struct mailconn__tls_fault *fault,
                             const char *first, size_t n,
                             struct mailconn__failure *out)
{
	mailconn_error outcome = mailconn__stage_outcome(link->protocol,
	                                                 link->stage);
	enum mailconn__wire wire = mailconn__sniff(first, n);
	const char *plain = wire == MAILCONN__WIRE_TLS ? NULL
	                                              : mailconn__wire_name(wire);

	/* Naming what answered on a TLS port is the most useful thing we can
	 * say; after STARTTLS a plaintext reply is only a broken server. */
	if (plain && !link->starttls) {
		enum mailconn__wire own = is_imap(link) ? MAILCONN__WIRE_IMAP
		                                        : MAILCONN__WIRE_SMTP;
		verdict(out, link, outcome,
		        wire == own ? MAILCONN_CAUSE_TLS_MODE_MISMATCH
		                    : MAILCONN_CAUSE_WRONG_PROTOCOL,
		        "port %d speaks plaintext %s, not TLS: use STARTTLS security "
		        "on this port, or port %d for TLS", link->port, plain,
		        is_imap(link) ? 993 : 465);
		return;
	}
	if (mailconn__diagnose_tls_alert(link, fault, out))
		return;
	if (fault->kind == MAILCONN__TLS_FAULT_VERSION) {
		verdict(out, link, tls_outcome(link), MAILCONN_CAUSE_TLS_VERSION,
		        "TLS handshake failed: the server offers no TLS 1.2 or newer "
		        "with a secure cipher (%s)", or_unknown(fault->text));
		return;
	}
	/* Silence then a close on a TLS port is no TLS server at all, which
	 * is a settings matter like a refused connection. */
	int nothing_answered = !link->starttls && n == 0 &&
	                       fault->kind == MAILCONN__TLS_FAULT_CLOSED;
	verdict(out, link, nothing_answered ? outcome : tls_outcome(link),
	        MAILCONN_CAUSE_TLS_HANDSHAKE, "TLS handshake with %s failed: %s",
	        or_unknown(link->peer), or_unknown(fault->text));
}

int
mailconn__diagnose_plaintext(const struct mailconn__link *link,
                             const char *first, size_t n,
                             struct mailconn__failure *out)
{
	if (mailconn__sniff(first, n) != MAILCONN__WIRE_TLS)
		return 0;
	verdict(out, link, mailconn__stage_outcome(link->protocol, link->stage),
	        MAILCONN_CAUSE_TLS_MODE_MISMATCH,
	        "port %d expects TLS from the first byte: use TLS security on "
	        "this port", link->port);
	return 1;
}
