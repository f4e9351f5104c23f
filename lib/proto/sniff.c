/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/sniff.h"

#include "core/text.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

enum mailconn__wire
mailconn__sniff(const char *p, size_t n)
{
	/* Content type 22 (handshake) or 21 (alert), then major version 3. */
	if (n >= 2 && (p[0] == 0x16 || p[0] == 0x15) && p[1] == 0x03)
		return MAILCONN__WIRE_TLS;
	if (n >= 1 && p[0] == '*' && (n == 1 || p[1] == ' ' || p[1] == '\t'))
		return MAILCONN__WIRE_IMAP;
	if (n >= 3 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
	    (n == 3 || p[3] == ' ' || p[3] == '-' || p[3] == '\r'))
		return MAILCONN__WIRE_SMTP;
	if (mailconn__ascii_iprefix(p, n, "+OK") ||
	    mailconn__ascii_iprefix(p, n, "-ERR"))
		return MAILCONN__WIRE_POP3;
	if (mailconn__ascii_iprefix(p, n, "HTTP/"))
		return MAILCONN__WIRE_HTTP;
	if (mailconn__ascii_iprefix(p, n, "SSH-"))
		return MAILCONN__WIRE_SSH;
	return MAILCONN__WIRE_UNKNOWN;
}

const char *
mailconn__wire_name(enum mailconn__wire wire)
{
	static const char *const names[] = {
		[MAILCONN__WIRE_IMAP] = "IMAP", [MAILCONN__WIRE_SMTP] = "SMTP",
		[MAILCONN__WIRE_POP3] = "POP3", [MAILCONN__WIRE_HTTP] = "HTTP",
		[MAILCONN__WIRE_SSH] = "SSH",   [MAILCONN__WIRE_TLS] = "TLS",
	};
	return (unsigned)wire < sizeof names / sizeof names[0] ? names[wire] : NULL;
}
