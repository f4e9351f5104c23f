/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's crypto table with the random source replaced by a fixed
 * nonce, so published SCRAM vectors (RFC 5802, RFC 7677) replay byte for
 * byte. Shared by the unit tests and the fuzz harnesses.
 */
#ifndef MAILCONN_TEST_FIXED_CRYPTO_H
#define MAILCONN_TEST_FIXED_CRYPTO_H

#include <string.h>

#include "crypto.h"

static const char *fixed_nonce_text;

static inline int
fixed_nonce(char *out, size_t size)
{
	size_t n = strlen(fixed_nonce_text);
	if (n >= size)
		return -1;
	memcpy(out, fixed_nonce_text, n + 1);
	return 0;
}

/* The table stays valid until the next call; one nonce at a time. */
static inline const struct mailconn__crypto *
fixed_crypto(const char *nonce)
{
	static struct mailconn__crypto c;
	c = mailconn__gnutls_crypto;
	c.nonce = fixed_nonce;
	fixed_nonce_text = nonce;
	return &c;
}

#endif
