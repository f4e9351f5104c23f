/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test message of stage 5 (RFC 5322 + MIME, UTF-8 text body). */
#ifndef MAILCONN_PROTO_MESSAGE_H
#define MAILCONN_PROTO_MESSAGE_H

#include <stdint.h>
#include <time.h>

#include "core/buf.h"

struct mailconn__message_params {
	const char *from;            /* the mailbox address */
	const char *to;              /* the BCC address */
	const char *subject;         /* UTF-8; RFC 2047-encoded when not ASCII */
	const char *body;            /* UTF-8; any line ends, normalised to CRLF */
	time_t date;                 /* seconds since the epoch, rendered in UTC */
	const char *message_id;      /* without angle brackets, "id@domain" */
};

/* Build the complete message with CRLF line ends, NOT dot-stuffed (the SMTP
 * engine stuffs it). Headers: Date, From, To, Subject, Message-ID,
 * MIME-Version, Content-Type text/plain; charset=UTF-8,
 * Content-Transfer-Encoding 8bit or quoted-printable for lines longer
 * than 998 octets. 0, or a buf error code, or -3 when from/to/message_id
 * is NULL, a header value holds CR or LF, or the date cannot be rendered
 * (`out` is then left as it was). */
int mailconn__message_build(const struct mailconn__message_params *p,
                            struct mailconn__buf *out);

/* Make a unique Message-ID "<random hex>.<time>@<domain of from>" into
 * out (without brackets) from 16 caller-provided random bytes. */
int mailconn__message_id(const unsigned char random16[16], time_t now,
                         const char *from, struct mailconn__buf *out);

/* 1 when the address needs SMTPUTF8 (any non-ASCII byte in it). */
int mailconn__address_needs_smtputf8(const char *address);

#endif
