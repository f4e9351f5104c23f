/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GnuTLS behind the crypto table of core/crypto.h. */
#include "crypto.h"

#include <stdint.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "core/b64.h"
#include "core/buf.h"

/* 18 bytes encode to 24 base64 characters without padding, and base64
 * never contains the ',' that ends a SCRAM attribute. */
#define NONCE_BYTES 18

static int
gt_nonce(char *out, size_t size)
{
	unsigned char rnd[NONCE_BYTES];
	struct mailconn__buf b;
	int rc = -1;

	mailconn__buf_init(&b, size ? size - 1 : 0);
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) == 0 &&
	    mailconn__b64_encode(rnd, sizeof(rnd), &b) == 0 && b.data) {
		memcpy(out, b.data, b.len + 1);
		rc = 0;
	}
	mailconn__buf_free(&b);
	mailconn__wipe(rnd, sizeof(rnd));
	return rc;
}

static int
gt_sha256(const void *data, size_t len, unsigned char out[MAILCONN__SHA256_LEN])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0 ? -1 : 0;
}

static int
gt_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
               unsigned char out[MAILCONN__SHA256_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, data, len,
	                        out) < 0 ? -1 : 0;
}

static int
gt_pbkdf2_sha256(const void *password, size_t password_len, const void *salt,
                 size_t salt_len, unsigned iterations, unsigned char *out,
                 size_t out_len)
{
	if (password_len > UINT32_MAX || salt_len > UINT32_MAX)
		return -1;
	/* GnuTLS takes non-const datums but only reads them. */
	gnutls_datum_t key = { (unsigned char *)(uintptr_t)password,
	                       (unsigned)password_len };
	gnutls_datum_t salt_d = { (unsigned char *)(uintptr_t)salt,
	                          (unsigned)salt_len };
	return gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &salt_d, iterations, out,
	                     out_len) < 0 ? -1 : 0;
}

const struct mailconn__crypto mailconn__gnutls_crypto = {
	.nonce = gt_nonce,
	.sha256 = gt_sha256,
	.hmac_sha256 = gt_hmac_sha256,
	.pbkdf2_sha256 = gt_pbkdf2_sha256,
};

int
mailconn__random_bytes(void *out, size_t n)
{
	return gnutls_rnd(GNUTLS_RND_NONCE, out, n) == 0 ? 0 : -1;
}
