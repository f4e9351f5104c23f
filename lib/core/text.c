/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sanitising untrusted server text (see text.h). */
#include "core/text.h"

#include <stdint.h>
#include <string.h>

size_t
mailconn__utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0];
	size_t n;
	unsigned v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2; v = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; v = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Code points that can reorder or hide text on screen. */
static int
is_format_hazard(unsigned cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

int
mailconn__sanitize(const char *in, size_t len, int keep_newlines,
                   size_t max_bytes, struct mailconn__buf *out)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)in;
	size_t written = 0;
	size_t i = 0;
	int rc;

	while (i < len) {
		unsigned cp;
		size_t n = mailconn__utf8_seq(s + i, len - i, &cp);
		const char *piece = (const char *)s + i;
		size_t piece_len = n;

		if (n == 0) {
			piece = replacement;
			piece_len = 3;
			n = 1;
		} else if (cp == '\n') {
			piece = keep_newlines ? "\n" : " ";
			piece_len = 1;
		} else if (cp == '\t') {
			piece = " ";
			piece_len = 1;
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		           is_format_hazard(cp)) {
			piece = replacement;
			piece_len = 3;
		}
		if (written + piece_len > max_bytes) {
			/* Room for the ellipsis was kept by the caller's bound. */
			return mailconn__buf_append_str(out, "...");
		}
		rc = mailconn__buf_append(out, piece, piece_len);
		if (rc)
			return rc;
		written += piece_len;
		i += n;
	}
	return 0;
}

unsigned char
mailconn__ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

int
mailconn__ascii_ieq(const char *p, size_t n, const char *word)
{
	if (n != strlen(word))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (mailconn__ascii_lower((unsigned char)p[i]) !=
		    mailconn__ascii_lower((unsigned char)word[i]))
			return 0;
	return 1;
}

int
mailconn__ascii_iprefix(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && mailconn__ascii_ieq(p, k, prefix);
}

size_t
mailconn__memfind(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (nn == 0 || nn > hn)
		return SIZE_MAX;
	for (size_t i = 0; i + nn <= hn; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0)
			return i;
	return SIZE_MAX;
}
