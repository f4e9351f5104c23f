/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a server's first bytes say it speaks. A port that answers with
 * another protocol (or with TLS where text was expected, or the reverse)
 * is best explained by naming what answered.
 */
#ifndef MAILCONN_PROTO_SNIFF_H
#define MAILCONN_PROTO_SNIFF_H

#include <stddef.h>

enum mailconn__wire {
	MAILCONN__WIRE_UNKNOWN = 0,
	MAILCONN__WIRE_IMAP,        /* "* ..." */
	MAILCONN__WIRE_SMTP,        /* "220 ..." or "220-..." */
	MAILCONN__WIRE_POP3,        /* "+OK" or "-ERR" */
	MAILCONN__WIRE_HTTP,        /* "HTTP/" */
	MAILCONN__WIRE_SSH,         /* "SSH-" */
	MAILCONN__WIRE_TLS          /* a TLS handshake or alert record */
};

/* Classify the first bytes a server sent (at least the first line's
 * beginning; fewer bytes give UNKNOWN or a best guess). */
enum mailconn__wire mailconn__sniff(const char *p, size_t n);

/* "IMAP", "SMTP", "POP3", "HTTP", "SSH", "TLS"; NULL for UNKNOWN. */
const char *mailconn__wire_name(enum mailconn__wire wire);

#endif
