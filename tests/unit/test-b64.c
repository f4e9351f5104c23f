/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Base64: RFC 4648 test vectors, strict rejection of malformed input, and
 * bounded output that is left untouched on failure. */
#include "check.h"
#include "core/b64.h"

static const char *
enc(const char *s, size_t n)
{
	static struct mailconn__buf b;
	mailconn__buf_free(&b);
	mailconn__buf_init(&b, 1024);
	if (mailconn__b64_encode((const unsigned char *)s, n, &b) != 0)
		return "(error)";
	return b.data;
}

/* Decode into a static buffer; returns the rc, the result in *out. */
static int
dec(const char *s, const char **out, size_t *outlen)
{
	static struct mailconn__buf b;
	mailconn__buf_free(&b);
	mailconn__buf_init(&b, 1024);
	int rc = mailconn__b64_decode(s, strlen(s), &b);
	*out = b.data ? b.data : "";
	*outlen = b.len;
	return rc;
}

static void
check_roundtrip(const char *plain, const char *coded)
{
	const char *out;
	size_t n;
	CHECK_STR(enc(plain, strlen(plain)), coded);
	CHECK_INT(dec(coded, &out, &n), 0);
	CHECK_INT(n, strlen(plain));
	CHECK_STR(out, plain);
}

int
main(void)
{
	const char *out;
	size_t n;

	/* RFC 4648 section 10. */
	check_roundtrip("", "");
	check_roundtrip("f", "Zg==");
	check_roundtrip("fo", "Zm8=");
	check_roundtrip("foo", "Zm9v");
	check_roundtrip("foob", "Zm9vYg==");
	check_roundtrip("fooba", "Zm9vYmE=");
	check_roundtrip("foobar", "Zm9vYmFy");

	/* All byte values, including NUL and 0xff, through the alphabet. */
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	struct mailconn__buf e, d;
	mailconn__buf_init(&e, 4096);
	mailconn__buf_init(&d, 4096);
	CHECK_INT(mailconn__b64_encode(all, sizeof(all), &e), 0);
	CHECK_INT(e.len, 344);
	CHECK_INT(mailconn__b64_decode(e.data, e.len, &d), 0);
	CHECK_INT(d.len, 256);
	CHECK(d.len == 256 && memcmp(d.data, all, 256) == 0);
	mailconn__buf_free(&e);
	mailconn__buf_free(&d);

	/* "+" and "/" map to 62 and 63. */
	CHECK_STR(enc("\xfb\xff\xbf", 3), "+/+/");
	CHECK_INT(dec("+/+/", &out, &n), 0);
	CHECK(n == 3 && memcmp(out, "\xfb\xff\xbf", 3) == 0);

	/* Strict decoding. */
	CHECK_INT(dec("Zg", &out, &n), -3);          /* missing padding */
	CHECK_INT(dec("Zg=", &out, &n), -3);
	CHECK_INT(dec("Zg===", &out, &n), -3);
	CHECK_INT(dec("Z===", &out, &n), -3);
	CHECK_INT(dec("====", &out, &n), -3);
	CHECK_INT(dec("Zg==Zg==", &out, &n), -3);    /* padding mid-stream */
	CHECK_INT(dec("Zm9v\r\nYmFy", &out, &n), -3);
	CHECK_INT(dec("Zm9v YmFy", &out, &n), -3);
	CHECK_INT(dec(" Zm9v", &out, &n), -3);
	CHECK_INT(dec("Zm9-", &out, &n), -3);        /* base64url char */
	CHECK_INT(dec("Zm9_", &out, &n), -3);
	CHECK_INT(dec("Zh==", &out, &n), -3);        /* non-zero pad bits */
	CHECK_INT(dec("Zm9=", &out, &n), -3);
	CHECK_INT(dec("Zm=v", &out, &n), -3);
	CHECK_INT(dec("Zm8=", &out, &n), 0);
	{
		/* An embedded NUL is a bad character, not the end. */
		struct mailconn__buf b;
		mailconn__buf_init(&b, 64);
		CHECK_INT(mailconn__b64_decode("Zm9v\0mFy", 8, &b), -3);
		CHECK_INT(b.len, 0);
		mailconn__buf_free(&b);
	}

	/* Failure leaves earlier content intact. */
	{
		struct mailconn__buf b;
		mailconn__buf_init(&b, 64);
		CHECK_INT(mailconn__buf_append_str(&b, "keep"), 0);
		CHECK_INT(mailconn__b64_decode("Zm9vYmFy!!!!", 12, &b), -3);
		CHECK_STR(b.data, "keep");
		CHECK_INT(b.len, 4);
		CHECK_INT(mailconn__b64_encode((const unsigned char *)"x", 1,
		                               &b), 0);
		CHECK_STR(b.data, "keepeA==");
		mailconn__buf_free(&b);
	}

	/* Limits: encode needs 4 bytes per 3; refused whole, not truncated. */
	{
		struct mailconn__buf b;
		mailconn__buf_init(&b, 7);
		CHECK_INT(mailconn__b64_encode((const unsigned char *)"foobar",
		                               6, &b), -2);
		CHECK_INT(b.len, 0);
		CHECK_INT(mailconn__b64_encode((const unsigned char *)"foo", 3,
		                               &b), 0);
		CHECK_STR(b.data, "Zm9v");
		mailconn__buf_free(&b);

		mailconn__buf_init(&b, 5);
		CHECK_INT(mailconn__b64_decode("Zm9vYmFy", 8, &b), -2);
		CHECK_INT(b.len, 0);
		CHECK_INT(mailconn__b64_decode("Zm9vYg==", 8, &b), 0);
		CHECK_STR(b.data, "foob");
		mailconn__buf_free(&b);
	}

	/* Long input crosses the internal chunk boundaries. */
	{
		struct mailconn__buf src, b64, back;
		mailconn__buf_init(&src, 10000);
		mailconn__buf_init(&b64, 20000);
		mailconn__buf_init(&back, 10000);
		for (int i = 0; i < 1000; i++) {
			char c = (char)(i * 7 + 3);
			mailconn__buf_append(&src, &c, 1);
		}
		CHECK_INT(mailconn__b64_encode((unsigned char *)src.data,
		                               src.len, &b64), 0);
		CHECK_INT(b64.len, 1336);
		CHECK_INT(mailconn__b64_decode(b64.data, b64.len, &back), 0);
		CHECK(back.len == 1000 &&
		      memcmp(back.data, src.data, 1000) == 0);
		mailconn__buf_free(&src);
		mailconn__buf_free(&b64);
		mailconn__buf_free(&back);
	}

	dec("", &out, &n); /* free the static buffers */
	enc("", 0);
	return check_finish();
}
