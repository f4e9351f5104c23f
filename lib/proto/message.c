/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stage-5 test message: RFC 5322 headers, RFC 2047 subject encoding,
 * MIME text/plain UTF-8 body with CRLF line ends (8bit, or quoted-printable
 * when a line would break the 998-octet limit of RFC 5322 section 2.1.1).
 */
#include "proto/message.h"

#include <stdio.h>
#include <string.h>

#include "core/b64.h"

#define DEFAULT_SUBJECT "libmailconn test message"
#define DEFAULT_BODY                                                        \
	"This message was sent by libmailconn to verify that this mailbox\n" \
	"can send mail. You can delete it.\n"

#define MAX_LINE_OCTETS 998   /* RFC 5322 2.1.1, without CRLF */
#define FOLD_AT 78            /* RFC 5322 2.1.1 "SHOULD" */
#define QP_LINE 76            /* RFC 2045 6.7 rule 5 */
/* Bytes of UTF-8 per encoded-word: 42 bytes are 56 base64 characters, and
 * "Subject: =?UTF-8?B?" + 56 + "?=" is 77 columns. */
#define EW_CHUNK 42

static int
has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static int
needs_encoding(const char *s)
{
	size_t run = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		/* Non-ASCII and controls other than tab need encoded-words;
		 * a literal "=?" would be taken for one by readers. */
		if (*p >= 0x80 || (*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 1;
		if (p[0] == '=' && p[1] == '?')
			return 1;
		/* A word too long to fold would break the line limit. */
		run = (*p == ' ' || *p == '\t') ? 0 : run + 1;
		if (run > MAX_LINE_OCTETS - 20)
			return 1;
	}
	return 0;
}

/* RFC 2047 B encoding, split between UTF-8 characters (section 5 forbids
 * splitting one across encoded-words), one encoded-word per line. */
static int
append_encoded_subject(struct mailconn__buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	int rc = 0;

	while (!rc && i < len) {
		size_t n = len - i < EW_CHUNK ? len - i : EW_CHUNK;
		/* Back off to a character start if we would split one. */
		if (i + n < len) {
			size_t m = n;
			while (m > 0 && (p[i + m] & 0xc0) == 0x80)
				m--;
			if (m > 0)
				n = m;
		}
		if (i > 0)
			rc = mailconn__buf_append_str(out, "\r\n ");
		if (!rc)
			rc = mailconn__buf_append_str(out, "=?UTF-8?B?");
		if (!rc)
			rc = mailconn__b64_encode(p + i, n, out);
		if (!rc)
			rc = mailconn__buf_append_str(out, "?=");
		i += n;
	}
	return rc;
}

/* Fold plain ASCII before a space when the line would pass 78 columns. */
static int
append_folded(struct mailconn__buf *out, const char *s, size_t col)
{
	size_t len = strlen(s), i = 0;
	int rc = 0;

	while (!rc && i < len) {
		/* A chunk is optional leading blanks plus one word. */
		size_t j = i;
		while (j < len && (s[j] == ' ' || s[j] == '\t'))
			j++;
		int blank_only = j == len;
		while (j < len && s[j] != ' ' && s[j] != '\t')
			j++;
		size_t n = j - i;
		if (i > 0 && col + n > FOLD_AT && !blank_only &&
		    (s[i] == ' ' || s[i] == '\t')) {
			rc = mailconn__buf_append_str(out, "\r\n");
			col = 0;
		}
		if (!rc)
			rc = mailconn__buf_append(out, s + i, n);
		col += n;
		i = j;
	}
	return rc;
}

static int
append_date(struct mailconn__buf *out, time_t date)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct tm tm;
	/* Names by hand: strftime would follow the caller's locale. */
	if (!gmtime_r(&date, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return -3;
	return mailconn__buf_printf(out,
	                            "Date: %s, %02d %s %04d %02d:%02d:%02d "
	                            "+0000\r\n",
	                            days[tm.tm_wday], tm.tm_mday,
	                            months[tm.tm_mon], tm.tm_year + 1900,
	                            tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Call `fn` for each body line without its line end; any of CRLF, LF or a
 * lone CR ends a line. A final line without a line end still counts. */
typedef int (*line_fn)(struct mailconn__buf *out, const char *line,
                       size_t len);

static int
for_each_line(const char *body, struct mailconn__buf *out, line_fn fn)
{
	const char *p = body;
	while (*p) {
		size_t n = strcspn(p, "\r\n");
		int rc = fn(out, p, n);
		if (rc)
			return rc;
		p += n;
		if (p[0] == '\r' && p[1] == '\n')
			p += 2;
		else if (*p)
			p++;
	}
	return 0;
}

static int
append_line_crlf(struct mailconn__buf *out, const char *line, size_t len)
{
	int rc = mailconn__buf_append(out, line, len);
	return rc ? rc : mailconn__buf_append(out, "\r\n", 2);
}

/* RFC 2045 section 6.7 with soft breaks so no line passes 76 columns. */
static int
append_line_qp(struct mailconn__buf *out, const char *line, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	int rc = 0;

	for (size_t i = 0; !rc && i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		char enc[3];
		size_t n;
		int last = i + 1 == len;
		/* Trailing blanks would be stripped in transit (rule 3). */
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !last)) {
			enc[0] = (char)c;
			n = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			n = 3;
		}
		/* Keep room for the '=' of a soft break, except on the last
		 * character of the line. */
		if (col + n > (last ? QP_LINE : QP_LINE - 1)) {
			rc = mailconn__buf_append(out, "=\r\n", 3);
			col = 0;
		}
		if (!rc)
			rc = mailconn__buf_append(out, enc, n);
		col += n;
	}
	return rc ? rc : mailconn__buf_append(out, "\r\n", 2);
}

static int
body_has_long_line(const char *body)
{
	const char *p = body;
	while (*p) {
		size_t n = strcspn(p, "\r\n");
		if (n > MAX_LINE_OCTETS)
			return 1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

int
mailconn__message_build(const struct mailconn__message_params *p,
                        struct mailconn__buf *out)
{
	const char *subject = p->subject ? p->subject : DEFAULT_SUBJECT;
	const char *body = p->body ? p->body : DEFAULT_BODY;

	/* Header injection: a CR or LF would start a header of its own. */
	if (!p->from || !p->to || !p->message_id || has_crlf(p->from) ||
	    has_crlf(p->to) || has_crlf(subject) || has_crlf(p->message_id))
		return -3;

	size_t old_len = out->len;
	int qp = body_has_long_line(body);
	int rc = append_date(out, p->date);
	if (!rc)
		rc = mailconn__buf_printf(out, "From: %s\r\nTo: %s\r\n", p->from,
		                          p->to);
	if (!rc)
		rc = mailconn__buf_append_str(out, "Subject: ");
	if (!rc)
		rc = needs_encoding(subject) ?
		     append_encoded_subject(out, subject) :
		     append_folded(out, subject, strlen("Subject: "));
	if (!rc)
		rc = mailconn__buf_printf(out,
		                          "\r\nMessage-ID: <%s>\r\n"
		                          "MIME-Version: 1.0\r\n"
		                          "Content-Type: text/plain; "
		                          "charset=UTF-8\r\n"
		                          "Content-Transfer-Encoding: %s\r\n"
		                          "\r\n",
		                          p->message_id,
		                          qp ? "quoted-printable" : "8bit");
	if (!rc)
		rc = for_each_line(body, out,
		                   qp ? append_line_qp : append_line_crlf);
	if (rc && out->data) {
		mailconn__wipe(out->data + old_len, out->len - old_len);
		out->len = old_len;
		out->data[old_len] = '\0';
	}
	return rc;
}

/* A domain we can put in a msg-id as is (RFC 5322 dot-atom-text or a
 * domain literal); anything else falls back to "localhost". */
static int
domain_usable(const char *d)
{
	if (!*d || strlen(d) > 255)
		return 0;
	for (const char *q = d; *q; q++) {
		char c = *q;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '[' || c == ']' || c == ':'))
			return 0;
	}
	return 1;
}

int
mailconn__message_id(const unsigned char random16[16], time_t now,
                     const char *from, struct mailconn__buf *out)
{
	static const char hex[] = "0123456789abcdef";
	char r[33];
	for (int i = 0; i < 16; i++) {
		r[2 * i] = hex[random16[i] >> 4];
		r[2 * i + 1] = hex[random16[i] & 15];
	}
	r[32] = '\0';
	const char *at = from ? strrchr(from, '@') : NULL;
	const char *domain = at && domain_usable(at + 1) ? at + 1 : "localhost";
	return mailconn__buf_printf(out, "%s.%lld@%s", r, (long long)now,
	                            domain);
}

int
mailconn__address_needs_smtputf8(const char *address)
{
	for (const unsigned char *p = (const unsigned char *)address;
	     p && *p; p++)
		if (*p >= 0x80)
			return 1;
	return 0;
}
