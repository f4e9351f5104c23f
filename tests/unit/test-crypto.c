/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GnuTLS crypto table against published vectors, and the fixed-nonce
 * table the tests use in its place. */
#include "check.h"
#include "fixed-crypto.h"

static int
hex_is(const unsigned char *p, size_t n, const char *want)
{
	char got[2 * MAILCONN__SHA256_LEN + 1];
	for (size_t i = 0; i < n && i < MAILCONN__SHA256_LEN; i++)
		snprintf(got + 2 * i, 3, "%02x", p[i]);
	got[2 * n] = '\0';
	if (strcmp(got, want) != 0)
		fprintf(stderr, "got %s\nwant %s\n", got, want);
	return strcmp(got, want) == 0;
}

int
main(void)
{
	const struct mailconn__crypto *c = &mailconn__gnutls_crypto;
	unsigned char out[MAILCONN__SHA256_LEN];

	/* FIPS 180-2 "abc". */
	CHECK_INT(c->sha256("abc", 3, out), 0);
	CHECK(hex_is(out, sizeof(out), "ba7816bf8f01cfea414140de5dae2223"
	                               "b00361a396177a9cb410ff61f20015ad"));
	/* RFC 4231 test case 2. */
	CHECK_INT(c->hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28,
	                         out), 0);
	CHECK(hex_is(out, sizeof(out), "5bdcc146bf60754e6a042426089575c7"
	                               "5a003f089d2739839dec58b964ec3843"));
	/* RFC 7914 section 11, first 32 bytes. */
	CHECK_INT(c->pbkdf2_sha256("passwd", 6, "salt", 4, 1, out, sizeof(out)),
	          0);
	CHECK(hex_is(out, sizeof(out), "55ac046e56e3089fec1691c22544b605"
	                               "f94185216dde0465e68b9d57c20dacbc"));

	/* Fresh nonces: 24 base64 characters, never the same twice. */
	char a[MAILCONN__NONCE_MAX], b[MAILCONN__NONCE_MAX];
	CHECK_INT(c->nonce(a, sizeof(a)), 0);
	CHECK_INT(c->nonce(b, sizeof(b)), 0);
	CHECK_INT(strlen(a), 24);
	CHECK(strchr(a, ',') == NULL);
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(c->nonce(a, 10), -1);

	const struct mailconn__crypto *f = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	CHECK_INT(f->nonce(a, sizeof(a)), 0);
	CHECK_STR(a, "rOprNGfwEbeRWgbNEkqO");
	CHECK(f->sha256 == c->sha256);

	CHECK(mailconn__mem_equal_ct("abcd", "abcd", 4));
	CHECK(!mailconn__mem_equal_ct("abcd", "abce", 4));
	CHECK(mailconn__mem_equal_ct("", "x", 0));
	return check_finish();
}
