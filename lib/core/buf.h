/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded byte buffer. Every buffer in libmailconn has a hard limit, so a
 * hostile server can make us fail with a typed error but never grow memory
 * without end.
 */
#ifndef MAILCONN_CORE_BUF_H
#define MAILCONN_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct mailconn__buf {
	char *data;     /* always NUL-terminated when non-NULL */
	size_t len;     /* bytes in use, excluding the terminator */
	size_t cap;     /* allocated bytes */
	size_t limit;   /* len may never exceed this */
};

/* Start empty with a hard limit; no allocation happens yet. */
void mailconn__buf_init(struct mailconn__buf *b, size_t limit);
/* Wipe (secrets may have passed through) and release. */
void mailconn__buf_free(struct mailconn__buf *b);
/* Wipe contents, keep the allocation. */
void mailconn__buf_clear(struct mailconn__buf *b);
/* Return 0, -1 when out of memory, -2 when the limit would be exceeded. */
int mailconn__buf_append(struct mailconn__buf *b, const void *p, size_t n);
int mailconn__buf_append_str(struct mailconn__buf *b, const char *s);
/* printf-style append with the same return codes. */
int mailconn__buf_printf(struct mailconn__buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len), wiping what moves. */
void mailconn__buf_consume(struct mailconn__buf *b, size_t n);

/* Wipe memory in a way the compiler may not optimise away. */
void mailconn__wipe(void *p, size_t n);
/* Wipe and free a NUL-terminated secret; NULL allowed. */
void mailconn__free_secret(char *s);
/* strdup that returns NULL for NULL. */
char *mailconn__strdup(const char *s);

#endif
