/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: a whole sans-I/O verification, the IMAP and SMTP engines on
 * one stream of hostile server bytes, one after the other or overlapped,
 * with every server text scrubbed and sanitised as the session shows it. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/scrub.h"
#include "core/text.h"
#include "driver.h"

/* As in session.c: what a transcript line and a result string may take. */
#define SHOWN_LINE 2048
#define SHOWN_REPLY 4096
#define ELLIPSIS 3

/* Our own decoder: the check must not share a bug with text.c. */
static size_t
utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], v, min;
	size_t k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		k = 2; v = c & 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		k = 3; v = c & 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		k = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return k;
}

/* What reaches a screen: valid UTF-8, no control characters (a newline
 * only where asked), no code point that reorders text, bounded. */
static void
check_screen_safe(const char *s, size_t n, int newlines, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;

	FZ_CHECK(n <= max + ELLIPSIS, "sanitised text longer than its bound");
	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t k = utf8_next(u + i, n - i, &cp);
		FZ_CHECK(k > 0, "sanitised text is not valid UTF-8");
		if (cp == '\n')
			FZ_CHECK(newlines, "newline in single-line text");
		else
			FZ_CHECK(cp >= 0x20 && cp != 0x7f &&
			         !(cp >= 0x80 && cp < 0xa0),
			         "control character survived sanitising");
		FZ_CHECK(!(cp >= 0x202a && cp <= 0x202e) &&
		         !(cp >= 0x2066 && cp <= 0x2069) &&
		         cp != 0x200e && cp != 0x200f && cp != 0x061c,
		         "bidirectional control survived sanitising");
		i += k;
	}
}

struct run {
	unsigned creds;
	struct mailconn__scrub secrets;
};

/* What session.c does before a caller sees server text. The server may
 * well have sent the secret itself (it was sent to it), so no text may
 * show it, whatever the input. */
static void
show(struct run *r, const char *text, size_t len, int newlines, size_t max)
{
	struct mailconn__buf b;
	mailconn__buf_init(&b, 4 * max + 16);
	FZ_CHECK(mailconn__show_text(&r->secrets, text, len, newlines, max,
	                             &b) == 0,
	         "showing text failed within its bound");
	const char *s = b.data ? b.data : "";
	check_screen_safe(s, b.len, newlines, max);
	FZ_CHECK(strlen(s) == b.len, "NUL inside sanitised text");
	FZ_CHECK(!fz_has_secret(s, b.len, r->creds),
	         "secret in text shown to the user");
	mailconn__buf_free(&b);
}

static void
on_line(void *userdata, mailconn_direction dir, const char *line, size_t len)
{
	(void)dir;
	show(userdata, line, len, 0, SHOWN_LINE);
}

static void
on_end(void *userdata, const struct mailconn__failure *f, const char *caps)
{
	show(userdata, f->reply, strlen(f->reply), 1, SHOWN_REPLY);
	show(userdata, f->detail, strlen(f->detail), 0, SHOWN_REPLY);
	show(userdata, caps, strlen(caps), 1, SHOWN_REPLY);
}

/* The engines see the records' bytes without their length bytes, so a
 * secret may be split by one in the input: look at what they see. */
static int
tainted(const uint8_t *p, size_t n, int routed, unsigned creds)
{
	uint8_t *seen = malloc(n + 1);
	FZ_CHECK(seen != NULL, "out of memory in the harness");
	size_t k = 0;
	while (n) {
		size_t len = routed ? p[0] & 0x7f : p[0];
		p++;
		n--;
		if (len == (routed ? 0x7f : FZ_RECORD_ABORT))
			continue;
		if (len > n)
			len = n;
		memcpy(seen + k, p, len);
		k += len;
		p += len;
		n -= len;
	}
	int t = fz_tainted(seen, k, creds);
	free(seen);
	return t;
}

/* Sequential, as the session runs by default: IMAP until it stops, then
 * SMTP on the records left. */
static void
sequential(struct fz_options *imap, struct fz_options *smtp,
           struct fz_stream *in)
{
	fz_run(imap, in);
	fz_run(smtp, in);
}

/* Overlapped: both connections at once, SMTP held after its login until
 * IMAP has passed. A record's top bit sends it to SMTP; length 127 frees
 * that connection on the spot. */
static void
overlapped(struct fz_options *imap_o, struct fz_options *smtp_o,
           const uint8_t *p, size_t n)
{
	struct fz_conn *imap = fz_open(imap_o), *smtp = fz_open(smtp_o);
	enum fz_state si = FZ_WANTS_INPUT, ss = FZ_WANTS_INPUT;
	enum mailconn__action imap_end = MAILCONN__ACT_NEED_INPUT;

	for (;;) {
		if (imap)
			si = fz_pump(imap, NULL);
		if (smtp)
			ss = fz_pump(smtp, NULL);
		if (imap && si == FZ_STOPPED) {
			imap_end = fz_close(imap);
			imap = NULL;
		}
		/* The send goes ahead only once IMAP has passed. */
		if (smtp && ss == FZ_HELD && !imap) {
			if (imap_end != MAILCONN__ACT_DONE)
				break;
			fz_release(smtp);
			continue;
		}
		if ((!imap || si == FZ_STOPPED) &&
		    (!smtp || ss == FZ_STOPPED))
			break;
		if (n == 0) {
			/* Both servers hang up. */
			if (imap)
				fz_eof(imap);
			if (smtp)
				fz_eof(smtp);
			continue;
		}
		int to_smtp = p[0] & 0x80;
		size_t len = p[0] & 0x7f;
		p++;
		n--;
		struct fz_conn **target = to_smtp ? &smtp : &imap;
		if (len == 0x7f) {
			if (*target) {
				if (target == &imap)
					imap_end = fz_close(imap);
				else
					fz_close(smtp);
				*target = NULL;
			}
			continue;
		}
		if (len > n)
			len = n;
		if (*target) {
			if (len)
				fz_feed(*target, p, len);
			else
				fz_eof(*target);
		}
		p += len;
		n -= len;
	}
	if (imap)
		fz_close(imap);
	if (smtp)
		fz_close(smtp);
}

/* Input: [IMAP options][SMTP options][mode] then records [u8 n][n bytes];
 * each record is one read, an empty record closes the connection, 255
 * frees the engine. Mode bit 0: overlapped (records routed by their top
 * bit), bit 1: SMTP holds after login even when sequential. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_options imap, smtp;

	if (size < 3)
		return 0;
	fz_options_from_byte(&imap, MAILCONN_PROTOCOL_IMAP, data[0]);
	fz_options_from_byte(&smtp, MAILCONN_PROTOCOL_SMTP, data[1]);
	int overlap = data[2] & 1;
	/* One user: the same identity on both servers. */
	smtp.creds = imap.creds;
	smtp.hold = overlap || (data[2] & 2);
	imap.tainted = smtp.tainted = tainted(data + 3, size - 3, overlap,
	                                      imap.creds);
	struct run r;
	r.creds = imap.creds;
	mailconn__scrub_init(&r.secrets);
	FZ_CHECK(mailconn__scrub_add(&r.secrets,
	                             fz_secret(fz_creds(imap.creds))) == 0,
	         "scrubber refused the secret");
	imap.on_line = smtp.on_line = on_line;
	imap.on_end = smtp.on_end = on_end;
	imap.userdata = smtp.userdata = &r;

	if (overlap) {
		overlapped(&imap, &smtp, data + 3, size - 3);
	} else {
		struct fz_stream in = { data + 3, size - 3, FZ_SPLIT_RECORDS, 0 };
		sequential(&imap, &smtp, &in);
	}
	mailconn__scrub_free(&r.secrets);
	return 0;
}
