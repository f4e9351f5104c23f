/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: base64 and the SASL mechanisms on their own, where a server's
 * challenge reaches the SCRAM parser in one step instead of a whole
 * login. */
#include <stdlib.h>
#include <string.h>

#include "../unit/fixed-crypto.h"
#include "core/b64.h"
#include "core/buf.h"
#include "driver.h"
#include "proto/sasl.h"

#define NONCE "fyko+d2lbbFgONRv9qkxdawL"
#define SASL_LIMIT 65536

static const unsigned char cb_data[16] = "0123456789abcdef";
static const struct mailconn__channel_binding cb = {
	"tls-exporter", cb_data, sizeof(cb_data)
};

/* A plain loop: libFuzzer learns the needle of an intercepted memcmp(). */
static int
has(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k && i + k <= n; i++) {
		size_t j = 0;
		while (j < k && s[i + j] == needle[j])
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

/* Decoding is strict, so every accepted text is the one encoding of its
 * bytes; a refused text leaves the buffer as it was. */
static void
fuzz_b64(const uint8_t *data, size_t size, size_t limit)
{
	struct mailconn__buf out, again;
	mailconn__buf_init(&out, limit);
	mailconn__buf_init(&again, 4 * limit + 8);

	int rc = mailconn__b64_decode((const char *)data, size, &out);
	FZ_CHECK(rc == 0 || rc == -1 || rc == -2 || rc == -3,
	         "decoder returned an undefined code");
	if (rc == 0) {
		FZ_CHECK(size % 4 == 0 && out.len <= size / 4 * 3 &&
		         out.len + 2 >= size / 4 * 3,
		         "decoded length is wrong");
		FZ_CHECK(mailconn__b64_encode((const unsigned char *)out.data,
		                              out.len, &again) == 0,
		         "re-encoding failed");
		FZ_CHECK(again.len == size &&
		         memcmp(again.data ? again.data : "", data, size) == 0,
		         "accepted a non-canonical encoding");
	} else {
		FZ_CHECK(out.len == 0, "failed decode left bytes behind");
	}
	FZ_CHECK(out.len <= limit, "decoder overran its limit");

	mailconn__buf_free(&out);
	mailconn__buf_free(&again);

	/* Every byte string survives a round trip through buffers of exactly
	 * the needed size, and one byte less is refused cleanly. */
	size_t need = (size + 2) / 3 * 4;
	struct mailconn__buf enc, back, tight;
	mailconn__buf_init(&enc, need);
	mailconn__buf_init(&back, size);
	FZ_CHECK(mailconn__b64_encode(data, size, &enc) == 0,
	         "encoding failed");
	FZ_CHECK(enc.len == need, "encoded length is wrong");
	FZ_CHECK(mailconn__b64_decode(enc.data ? enc.data : "", enc.len,
	                              &back) == 0, "own encoding refused");
	FZ_CHECK(back.len == size &&
	         memcmp(back.data ? back.data : "", data, size) == 0,
	         "round trip changed the bytes");
	if (size) {
		mailconn__buf_init(&tight, need - 1);
		FZ_CHECK(mailconn__b64_encode(data, size, &tight) == -2 &&
		         tight.len == 0, "encoder overran its limit");
		mailconn__buf_free(&tight);
		mailconn__buf_init(&tight, size - 1);
		FZ_CHECK(mailconn__b64_decode(enc.data, enc.len, &tight) ==
		         -2 && tight.len == 0, "decoder overran its limit");
		mailconn__buf_free(&tight);
	}
	mailconn__buf_free(&enc);
	mailconn__buf_free(&back);
}

/* The mechanism a server's list leads to must be offered and fit the
 * credentials. */
static void
fuzz_choose(const uint8_t *data, size_t size, uint8_t flags)
{
	char *offered = malloc(size + 1);
	FZ_CHECK(offered != NULL, "out of memory in the harness");
	memcpy(offered, data, size);
	offered[size] = '\0';
	int pw = flags & 1, token = (flags >> 1) & 1, bind = (flags >> 2) & 1;
	enum mailconn__mech m = mailconn__sasl_choose(offered, pw, token, bind);
	if (m != MAILCONN__MECH_NONE) {
		const char *name = mailconn__mech_name(m);
		FZ_CHECK(*name, "chosen mechanism has no name");
		int oauth = m == MAILCONN__MECH_XOAUTH2 ||
		            m == MAILCONN__MECH_OAUTHBEARER;
		FZ_CHECK(oauth ? token : pw,
		         "mechanism does not fit the credentials");
		if (m == MAILCONN__MECH_SCRAM_SHA_256_PLUS)
			FZ_CHECK(bind,
			         "-PLUS chosen without a channel binding");
		/* strncasecmp would do, but a word match is the point. */
		size_t n = strlen(name), len = strlen(offered);
		int found = 0;
		for (size_t i = 0; !found && i + n <= len; i++) {
			size_t k = 0;
			while (k < n &&
			       (offered[i + k] | 0x20) == (name[k] | 0x20))
				k++;
			found = k == n &&
			        (i == 0 || offered[i - 1] == ' ' ||
			         offered[i - 1] == '\t') &&
			        (i + n == len || offered[i + n] == ' ' ||
			         offered[i + n] == '\t');
		}
		FZ_CHECK(found, "chosen mechanism was not offered");
	}
	free(offered);
}

/* One exchange: the initial response, then one step per record
 * ([u8 n][n bytes] of decoded challenge). */
static void
fuzz_sasl(const uint8_t *data, size_t size, uint8_t sel)
{
	static const enum mailconn__mech mechs[8] = {
		MAILCONN__MECH_SCRAM_SHA_256, MAILCONN__MECH_SCRAM_SHA_256_PLUS,
		MAILCONN__MECH_PLAIN, MAILCONN__MECH_LOGIN,
		MAILCONN__MECH_XOAUTH2, MAILCONN__MECH_OAUTHBEARER,
		MAILCONN__MECH_SCRAM_SHA_256, MAILCONN__MECH_NONE,
	};
	enum mailconn__mech m = mechs[sel & 7];
	const struct fz_creds *c = fz_creds((sel >> 3) & 3);
	int oauth = m == MAILCONN__MECH_XOAUTH2 ||
	            m == MAILCONN__MECH_OAUTHBEARER;
	/* Stand-ins are long: a two-letter "pw" turns up in base64 output by
	 * chance and would read as a leak. */
	const char *secret = oauth ? (c->token ? c->token : "fz-stand-in-token-7Q")
	                           : (c->password ? c->password
	                                          : "fz-stand-in-password-7Q");
	int scram = m == MAILCONN__MECH_SCRAM_SHA_256 ||
	            m == MAILCONN__MECH_SCRAM_SHA_256_PLUS;

	struct mailconn__sasl *s = mailconn__sasl_new(m, c->username, secret,
	                                              "imap.example.org", 993,
	                                              (sel & 0x20) ? &cb : NULL,
	                                              fixed_crypto(NONCE));
	FZ_CHECK(s != NULL, "sasl_new failed");
	struct mailconn__buf out;
	mailconn__buf_init(&out, SASL_LIMIT);

	/* A server nonce may carry any printable text, the password too. */
	int tainted = has((const char *)data, size, secret);
	enum mailconn__sasl_status st = mailconn__sasl_start(s, &out);
	int errored = st == MAILCONN__SASL_ERROR, done = 0, finals = 0;
	for (;;) {
		FZ_CHECK(st == MAILCONN__SASL_CONTINUE ||
		         st == MAILCONN__SASL_DONE ||
		         st == MAILCONN__SASL_ERROR, "status out of range");
		FZ_CHECK(out.len <= SASL_LIMIT, "response overran its buffer");
		if (scram && !tainted)
			FZ_CHECK(!has(out.data ? out.data : "", out.len,
			              secret), "SCRAM sent the password");
		if (scram && st == MAILCONN__SASL_CONTINUE && finals++ == 1)
			FZ_CHECK(out.len > 2 &&
			         memcmp(out.data, "c=", 2) == 0 &&
			         has(out.data, out.len, ",p="),
			         "SCRAM client-final without binding or proof");
		if (st == MAILCONN__SASL_ERROR) {
			mailconn_cause cause = mailconn__sasl_error_cause(s);
			FZ_CHECK(cause != MAILCONN_CAUSE_NONE &&
			         fz_cause_valid(cause),
			         "SASL error without a defined cause");
			errored = 1;
		} else {
			FZ_CHECK(!errored, "SASL recovered from an error");
		}
		done |= st == MAILCONN__SASL_DONE;
		if (size == 0)
			break;
		size_t n = data[0];
		if (n > size - 1)
			n = size - 1;
		mailconn__buf_clear(&out);
		st = mailconn__sasl_step(s, data + 1, n, &out);
		data += 1 + n;
		size -= 1 + n;
	}
	/* A later stray challenge is an error, but the proof stays valid. */
	if (scram && mailconn__sasl_server_verified(s))
		FZ_CHECK(done, "SCRAM verified without finishing");
	mailconn__buf_free(&out);
	mailconn__sasl_free(s);
}

/* Input: [selector] then the data; selector bits 6-7 pick base64, the
 * mechanism choice or an exchange. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	switch (sel >> 6) {
	case 0:
		fuzz_b64(data + 1, size - 1, (size_t)(sel & 0x3f) * 16);
		break;
	case 1:
		fuzz_choose(data + 1, size - 1, sel);
		break;
	default:
		fuzz_sasl(data + 1, size - 1, sel);
		break;
	}
	return 0;
}
