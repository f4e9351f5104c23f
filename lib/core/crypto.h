/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cryptography the sans-I/O code needs, as a table the driver hands
 * in (lib/crypto.c implements it with GnuTLS). The SASL code thus links
 * no crypto library, and tests replace the random source with a fixed
 * one to replay published SCRAM vectors byte for byte.
 */
#ifndef MAILCONN_CORE_CRYPTO_H
#define MAILCONN_CORE_CRYPTO_H

#include <stddef.h>

#define MAILCONN__SHA256_LEN 32
/* Room for a client nonce and its NUL. */
#define MAILCONN__NONCE_MAX 64

struct mailconn__crypto {
	/* Every function returns 0, or -1 on failure (outputs then unset). */

	/* The random source: a fresh SCRAM client nonce (RFC 5802), i.e.
	 * printable ASCII without ',', NUL-terminated, at most size - 1
	 * characters. A nonce rather than raw bytes, because the published
	 * test vectors fix the nonce's text, length included. */
	int (*nonce)(char *out, size_t size);
	int (*sha256)(const void *data, size_t len,
	              unsigned char out[MAILCONN__SHA256_LEN]);
	int (*hmac_sha256)(const void *key, size_t key_len, const void *data,
	                   size_t len, unsigned char out[MAILCONN__SHA256_LEN]);
	int (*pbkdf2_sha256)(const void *password, size_t password_len,
	                     const void *salt, size_t salt_len,
	                     unsigned iterations, unsigned char *out,
	                     size_t out_len);
};

/* 1 when a[0..n) equals b[0..n), in time that does not depend on where
 * they differ (a signature check must not leak how much matched). */
int mailconn__mem_equal_ct(const void *a, const void *b, size_t n);

#endif
