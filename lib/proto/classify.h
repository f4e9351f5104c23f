/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error classifier: a server's refusal, in context, to one of the
 * eight outcomes plus a finer cause. Pure and table-driven (classify.c);
 * the advice texts live in one table per language (proto/lang.h).
 */
#ifndef MAILCONN_PROTO_CLASSIFY_H
#define MAILCONN_PROTO_CLASSIFY_H

#include <stddef.h>

#include "proto/engine.h"
#include "proto/provider.h"

struct mailconn__classify_input {
	mailconn_protocol protocol;
	enum mailconn__step step;    /* what the reply answers */
	/* Every line the server sent for this step, without CRLF, joined by
	 * "\n": IMAP untagged lines first, then the tagged line; SMTP all
	 * lines of the (multi-line) reply. Need not be UTF-8 or NUL-free. */
	const char *reply;
	size_t reply_len;
	const char *host;            /* configured host name, may be NULL */
	int tls_active;              /* 1 when the reply came over TLS */
	const char *mechanism;       /* login mechanism used, may be NULL */
	/* Overlapped mode: 1 when SMTP accepted the same credentials, 0 when it
	 * refused them, -1 when unknown. */
	int other_protocol_auth_ok;
};

struct mailconn__classification {
	mailconn_error outcome;      /* MAILCONN_OK when the reply is no error */
	mailconn_cause cause;
	const char *provider;        /* static provider id ("gmail"...), or NULL */
};

void mailconn__classify(const struct mailconn__classify_input *in,
                        struct mailconn__classification *out);

/* Advice for an outcome, refined by cause and provider (NULL allowed):
 * the English row's text as stored, placeholders unfilled (see
 * proto/lang.h); never NULL ("" for MAILCONN_OK). */
const char *mailconn__hint(mailconn_error outcome, mailconn_cause cause,
                           const char *provider);

#endif
