/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded byte buffer and secret wiping. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
mailconn__wipe(void *p, size_t n)
{
	/* explicit_bzero (glibc 2.25) is never optimised away, even when
	 * the memory is freed right after. */
	if (p && n)
		explicit_bzero(p, n);
}

void
mailconn__free_secret(char *s)
{
	if (!s)
		return;
	mailconn__wipe(s, strlen(s));
	free(s);
}

char *
mailconn__strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
mailconn__buf_init(struct mailconn__buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void
mailconn__buf_free(struct mailconn__buf *b)
{
	if (b->data) {
		mailconn__wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

void
mailconn__buf_clear(struct mailconn__buf *b)
{
	if (b->data) {
		mailconn__wipe(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = 0;
}

/* Grow to hold `need` bytes plus the terminator. Growing copies into a new
 * block and wipes the old one, because realloc could leave secrets behind. */
static int
buf_reserve(struct mailconn__buf *b, size_t need)
{
	if (need > b->limit)
		return -2;
	if (need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
	if (cap > b->limit + 1)
		cap = b->limit + 1;
	char *p = malloc(cap);
	if (!p)
		return -1;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		mailconn__wipe(b->data, b->cap);
		free(b->data);
	} else {
		p[0] = '\0';
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
mailconn__buf_append(struct mailconn__buf *b, const void *p, size_t n)
{
	if (n > b->limit - b->len)
		return -2;
	int rc = buf_reserve(b, b->len + n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
mailconn__buf_append_str(struct mailconn__buf *b, const char *s)
{
	return mailconn__buf_append(b, s, strlen(s));
}

int
mailconn__buf_printf(struct mailconn__buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > b->limit - b->len)
		return -2;
	int rc = buf_reserve(b, b->len + (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
mailconn__buf_consume(struct mailconn__buf *b, size_t n)
{
	if (n >= b->len) {
		mailconn__buf_clear(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	mailconn__wipe(b->data + b->len - n, n);
	b->len -= n;
	b->data[b->len] = '\0';
}
