/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turning untrusted server text into something safe to show a person. */
#ifndef MAILCONN_CORE_TEXT_H
#define MAILCONN_CORE_TEXT_H

#include <stddef.h>

#include "core/buf.h"

/*
 * Append `in` to `out` as valid UTF-8 with no C0/C1 control characters, no
 * DEL, no bidirectional overrides: tabs become spaces, other controls and
 * invalid bytes become U+FFFD, so terminal escapes and fake lines cannot
 * reach a screen or a log. '\n' is kept when keep_newlines, else it becomes
 * a space. At most max_bytes of the text are appended; longer text is cut
 * at a character boundary and "..." (3 more bytes) marks the cut. 0, or a
 * buf error code.
 */
int mailconn__sanitize(const char *in, size_t len, int keep_newlines,
                       size_t max_bytes, struct mailconn__buf *out);

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
size_t mailconn__utf8_seq(const unsigned char *s, size_t len, unsigned *cp);

/* Protocol keywords are ASCII and case-insensitive, while the text around
 * them may hold NUL bytes: these compare by length, never stopping at a
 * NUL, and never depend on the locale. */

/* Does p[0..n) equal `word`, ignoring ASCII case? */
int mailconn__ascii_ieq(const char *p, size_t n, const char *word);
/* Does p[0..n) start with `prefix`, ignoring ASCII case? */
int mailconn__ascii_iprefix(const char *p, size_t n, const char *prefix);
/* ASCII lower case of one byte; other bytes unchanged. */
unsigned char mailconn__ascii_lower(unsigned char c);
/* Offset of the first needle[0..nn) in hay[0..hn) (exact bytes), or
 * SIZE_MAX when absent or nn is 0. */
size_t mailconn__memfind(const char *hay, size_t hn, const char *needle,
                         size_t nn);

#endif
