/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Secret scrubbing for server text (see scrub.h). */
#include "core/scrub.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/b64.h"

static const char redacted[] = "[redacted]";

void
mailconn__scrub_init(struct mailconn__scrub *s)
{
	memset(s, 0, sizeof *s);
}

void
mailconn__scrub_free(struct mailconn__scrub *s)
{
	for (int i = 0; i < s->n; i++)
		mailconn__free_secret(s->needle[i]);
	memset(s, 0, sizeof *s);
}

static int
add_needle(struct mailconn__scrub *s, const char *p, size_t len)
{
	if (len < 3)
		return 0;
	for (int i = 0; i < s->n; i++)
		if (s->len[i] == len && memcmp(s->needle[i], p, len) == 0)
			return 0;
	if (s->n == MAILCONN__SCRUB_MAX)
		return -1;
	char *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, p, len);
	copy[len] = '\0';
	s->needle[s->n] = copy;
	s->len[s->n] = len;
	s->n++;
	return 0;
}

int
mailconn__scrub_add(struct mailconn__scrub *s, const char *secret)
{
	size_t len = secret ? strlen(secret) : 0;
	if (len < 3)
		return 0;
	if (add_needle(s, secret, len))
		return -1;
	/* In a blob, the secret starts at some byte offset; k filler bytes
	 * stand for offset mod 3. Only the base64 groups made of secret bytes
	 * alone are the same in every blob, so those are the needle. */
	for (size_t k = 0; k < 3; k++) {
		struct mailconn__buf plain, enc;
		mailconn__buf_init(&plain, len + 3);
		mailconn__buf_init(&enc, 2 * len + 16);
		int rc = mailconn__buf_append(&plain, "\0\0\0", k) ||
		         mailconn__buf_append(&plain, secret, len) ||
		         mailconn__b64_encode((const unsigned char *)plain.data,
		                              plain.len, &enc);
		size_t first_group = (k + 2) / 3;          /* groups with filler */
		size_t last_group = (k + len) / 3;         /* whole groups only */
		if (rc == 0 && last_group > first_group)
			rc = add_needle(s, enc.data + 4 * first_group,
			                4 * (last_group - first_group));
		mailconn__buf_free(&plain);
		mailconn__buf_free(&enc);
		if (rc)
			return -1;
	}
	return 0;
}

int
mailconn__scrub_apply(const struct mailconn__scrub *s, const char *in,
                      size_t len, struct mailconn__buf *out)
{
	size_t i = 0;
	while (i < len) {
		/* The earliest needle wins; on a tie, the longest. */
		size_t best_at = SIZE_MAX, best_len = 0;
		for (int k = 0; k < s->n; k++) {
			size_t at = mailconn__memfind(in + i, len - i,
			                              s->needle[k], s->len[k]);
			if (at != SIZE_MAX && (at < best_at ||
			                         (at == best_at && s->len[k] > best_len))) {
				best_at = at;
				best_len = s->len[k];
			}
		}
		size_t plain = best_at == SIZE_MAX ? len - i : best_at;
		int rc = mailconn__buf_append(out, in + i, plain);
		if (rc)
			return rc;
		i += plain;
		if (best_at == SIZE_MAX)
			break;
		rc = mailconn__buf_append(out, redacted, sizeof redacted - 1);
		if (rc)
			return rc;
		i += best_len;
	}
	return 0;
}

int
mailconn__show_text(const struct mailconn__scrub *s, const char *in,
                    size_t len, int keep_newlines, size_t max_bytes,
                    struct mailconn__buf *out)
{
	/* Scrubbing grows text at most 10/3 times ("[redacted]" for a
	 * 3-byte needle). */
	struct mailconn__buf scrubbed, clean;
	mailconn__buf_init(&scrubbed, 4 * len + 16);
	mailconn__buf_init(&clean, max_bytes + 16);
	int rc = mailconn__scrub_apply(s, in, len, &scrubbed);
	if (rc == 0)
		rc = mailconn__sanitize(scrubbed.data ? scrubbed.data : "",
		                        scrubbed.len, keep_newlines, max_bytes,
		                        &clean);
	if (rc == 0)
		rc = mailconn__scrub_apply(s, clean.data ? clean.data : "",
		                           clean.len, out);
	mailconn__buf_free(&scrubbed);
	mailconn__buf_free(&clean);
	return rc;
}
