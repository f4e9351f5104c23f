/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Removing secrets from text a server sent back. Servers quote failed
 * commands, so a password can come back raw or inside any base64 blob we
 * sent (AUTH PLAIN, LOGIN, XOAUTH2...). For every secret the scrubber
 * also knows the base64 runs that encode it at each of the three byte
 * alignments, so an echoed blob loses the part that carries the secret,
 * whatever came before it in the blob.
 */
#ifndef MAILCONN_CORE_SCRUB_H
#define MAILCONN_CORE_SCRUB_H

#include <stddef.h>

#include "core/buf.h"

#define MAILCONN__SCRUB_MAX 16

struct mailconn__scrub {
	char *needle[MAILCONN__SCRUB_MAX];   /* wiped on free */
	size_t len[MAILCONN__SCRUB_MAX];
	int n;
};

void mailconn__scrub_init(struct mailconn__scrub *s);
/* Wipe and free every needle. */
void mailconn__scrub_free(struct mailconn__scrub *s);
/* Learn a secret (NULL or shorter than 3 bytes is ignored: redacting
 * every "a" would destroy the text without protecting anything). 0, or
 * -1 when out of memory or full. */
int mailconn__scrub_add(struct mailconn__scrub *s, const char *secret);
/* Append `in` to `out` with every needle replaced by "[redacted]".
 * 0, or a buf error code. */
int mailconn__scrub_apply(const struct mailconn__scrub *s, const char *in,
                          size_t len, struct mailconn__buf *out);

/* Server text as a caller may see it: secrets out, then sanitised (see
 * text.h), then secrets out again, because sanitising can turn an echo
 * that differs from the secret (a tab where the secret has a space) into
 * the secret itself. Appends to `out`; 0, or a buf error code. */
int mailconn__show_text(const struct mailconn__scrub *s, const char *in,
                        size_t len, int keep_newlines, size_t max_bytes,
                        struct mailconn__buf *out);

#endif
