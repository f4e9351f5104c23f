/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a server reply for the classifier: status words, response and
 * enhanced codes, capabilities and EHLO keywords, and the normalised text
 * the phrase rules match (struct view in classify-int.h).
 */
#include <string.h>

#include "core/text.h"
#include "proto/classify-int.h"
#include "proto/sasl.h"

static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static void
text_add(struct view *v, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || c == '-')
			c = ' ';
		else
			c = mailconn__ascii_lower(c);
		if (c == ' ' &&
		    (v->text_len == 0 || v->text[v->text_len - 1] == ' '))
			continue;
		if (v->text_len >= sizeof v->text - 1)
			break;
		v->text[v->text_len++] = (char)c;
	}
	v->text[v->text_len] = '\0';
}

/* Phrases match at the start of a word (or anywhere, for a phrase that
 * does not start with a letter or digit). */
int
mailconn__view_has(const struct view *v, const char *phrase)
{
	size_t n = strlen(phrase);
	if (n == 0 || n > v->text_len)
		return 0;
	int word = is_alnum((unsigned char)phrase[0]);
	for (size_t i = 0; i + n <= v->text_len; i++) {
		if (word && i > 0 && is_alnum((unsigned char)v->text[i - 1]))
			continue;
		if (memcmp(v->text + i, phrase, n) == 0)
			return 1;
	}
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
skip_blanks(const char *p, size_t n, size_t i)
{
	while (i < n && is_blank(p[i]))
		i++;
	return i;
}

/* End of a token: at a blank, or at '[' so that "NO[CODE]" still parses. */
static size_t
token_end(const char *p, size_t n, size_t i)
{
	while (i < n && !is_blank(p[i]) && p[i] != '[')
		i++;
	return i;
}

static void
imap_capability(struct view *v, const char *p, size_t n)
{
	v->cap_listed = 1;
	for (size_t i = skip_blanks(p, n, 0); i < n; i = skip_blanks(p, n, i)) {
		size_t e = i;
		while (e < n && !is_blank(p[e]) && p[e] != ']')
			e++;
		const char *a = p + i;
		size_t an = e - i;
		if (mailconn__ascii_ieq(a, an, "IMAP4rev1") ||
		    mailconn__ascii_ieq(a, an, "IMAP4rev2"))
			v->cap_rev1 = 1;
		else if (mailconn__ascii_ieq(a, an, "LOGINDISABLED"))
			v->cap_logindisabled = 1;
		else if (an > 5 && mailconn__ascii_ieq(a, 5, "AUTH=") &&
		         mailconn__mech_usable(a + 5, an - 5))
			v->cap_usable_auth = 1;
		if (e < n && p[e] == ']')
			break;
		i = e;
	}
}

static enum imap_status
imap_status_word(const char *p, size_t n)
{
	if (mailconn__ascii_ieq(p, n, "OK"))
		return ST_OK;
	if (mailconn__ascii_ieq(p, n, "NO"))
		return ST_NO;
	if (mailconn__ascii_ieq(p, n, "BAD"))
		return ST_BAD;
	if (mailconn__ascii_ieq(p, n, "BYE"))
		return ST_BYE;
	if (mailconn__ascii_ieq(p, n, "PREAUTH"))
		return ST_PREAUTH;
	return ST_NONE;
}

/* After a status word: an optional "[ATOM args]" response code. */
static void
imap_code(struct view *v, const char *p, size_t n, size_t i)
{
	i = skip_blanks(p, n, i);
	if (i >= n || p[i] != '[')
		return;
	size_t s = ++i;
	while (i < n && !is_blank(p[i]) && p[i] != ']')
		i++;
	size_t an = i - s;
	if (mailconn__ascii_ieq(p + s, an, "CAPABILITY")) {
		imap_capability(v, p + i, n - i);
		return;
	}
	if (an == 0 || an >= CODE_LEN || v->ncodes >= MAX_CODES)
		return;
	char *c = v->codes[v->ncodes++];
	for (size_t k = 0; k < an; k++) {
		unsigned char ch = (unsigned char)p[s + k];
		c[k] = (char)((ch >= 'a' && ch <= 'z') ? ch - 'a' + 'A' : ch);
	}
	c[an] = '\0';
}

struct imap_acc {
	enum imap_status tagged, untagged;
	int have_tagged, bye;
	int continuation;          /* the last line was "+ ..." */
};

static void
imap_line(struct view *v, struct imap_acc *acc, const char *p, size_t n)
{
	text_add(v, p, n);
	size_t i = skip_blanks(p, n, 0);
	size_t e = token_end(p, n, i);
	if (e == i)
		return;
	int untagged = (e - i == 1 && p[i] == '*');
	acc->continuation = (e - i == 1 && p[i] == '+');
	if (acc->continuation)
		return; /* text only */
	size_t s = skip_blanks(p, n, e);
	size_t se = token_end(p, n, s);
	if (untagged && mailconn__ascii_ieq(p + s, se - s, "CAPABILITY")) {
		imap_capability(v, p + se, n - se);
		return;
	}
	enum imap_status st = imap_status_word(p + s, se - s);
	if (st == ST_NONE)
		return;
	imap_code(v, p, n, se);
	if (!untagged) {
		acc->tagged = st;
		acc->have_tagged = 1;
	} else {
		acc->untagged = st;
		if (st == ST_BYE)
			acc->bye = 1;
	}
}

/* "d.ddd.ddd" right after the basic code; class 2, 4 or 5 (RFC 3463).
 * Returns the index after it, or 0 when there is none. */
static size_t
smtp_esc(const char *p, size_t n, size_t i, int part[3])
{
	if (i >= n || (p[i] != '2' && p[i] != '4' && p[i] != '5'))
		return 0;
	for (int k = 0; k < 3; k++) {
		size_t s = i;
		part[k] = 0;
		while (i < n && is_digit(p[i]) && i - s < 3)
			part[k] = part[k] * 10 + (p[i++] - '0');
		if (i == s || (k == 0 && i - s != 1))
			return 0;
		if (k < 2) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && (is_digit(p[i]) || p[i] == '.'))
		return 0;
	return i;
}

static void
smtp_ehlo_keyword(struct view *v, const char *p, size_t n)
{
	size_t e = 0;
	while (e < n && !is_blank(p[e]) && p[e] != '=')
		e++;
	if (mailconn__ascii_ieq(p, e, "STARTTLS")) {
		v->ehlo_starttls = 1;
		return;
	}
	if (!mailconn__ascii_ieq(p, e, "AUTH"))
		return;
	v->ehlo_auth_listed = 1;
	/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN" form. */
	for (size_t i = e + 1; i < n; ) {
		i = skip_blanks(p, n, i);
		size_t s = i;
		while (i < n && !is_blank(p[i]))
			i++;
		if (i > s && mailconn__mech_usable(p + s, i - s))
			v->ehlo_usable_mech = 1;
	}
}

static void
smtp_line(struct view *v, const char *p, size_t n, size_t index)
{
	size_t i = skip_blanks(p, n, 0);
	if (n - i < 3 || !is_digit(p[i]) || !is_digit(p[i + 1]) ||
	    !is_digit(p[i + 2]) ||
	    (n - i > 3 && p[i + 3] != ' ' && p[i + 3] != '-' &&
	     p[i + 3] != '\t')) {
		text_add(v, p, n); /* not "ddd[ -]text": text only */
		return;
	}
	v->basic = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 +
	           (p[i + 2] - '0');
	i = skip_blanks(p, n, i + (n - i > 3 ? 4 : 3));
	/* The first enhanced code counts; every line's is left out of the
	 * text, so that a phrase may run on across continuation lines. */
	int part[3];
	size_t after = smtp_esc(p, n, i, part);
	if (after) {
		if (v->esc[0] < 0)
			memcpy(v->esc, part, sizeof part);
		i = skip_blanks(p, n, after);
	}
	text_add(v, p + i, n - i);
	if (index > 0)
		smtp_ehlo_keyword(v, p + i, n - i);
}

void
mailconn__view_read(struct view *v, mailconn_protocol proto, const char *reply,
                    size_t len)
{
	struct imap_acc acc = { ST_NONE, ST_NONE, 0, 0, 0 };
	memset(v, 0, sizeof *v);
	v->basic = -1;
	v->esc[0] = -1;
	if (!reply)
		len = 0;
	size_t pos = 0, index = 0;
	while (pos < len) {
		const char *nl = memchr(reply + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - reply) : len;
		const char *line = reply + pos;
		size_t n = end - pos;
		while (n > 0 && (line[n - 1] == '\r' || is_blank(line[n - 1])))
			n--;
		if (n > 0) {
			if (index == 0)
				v->first = mailconn__sniff(line, n);
			if (v->text_len > 0)
				text_add(v, " ", 1);
			if (proto == MAILCONN_PROTOCOL_IMAP)
				imap_line(v, &acc, line, n);
			else
				smtp_line(v, line, n, index);
			index++;
		}
		pos = end + 1;
	}
	if (acc.have_tagged)
		v->status = acc.tagged;
	else if (acc.continuation && !acc.bye)
		v->status = ST_OK; /* the server asks for more: no verdict */
	else if (acc.bye)
		v->status = ST_BYE;
	else
		v->status = acc.untagged;
}
