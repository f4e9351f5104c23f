/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A secret echoed by a server, raw or inside any base64 blob we sent,
 * must not survive scrubbing. */
#include "check.h"
#include "core/scrub.h"
#include "core/b64.h"

static struct mailconn__scrub s;

static const char *
scrubbed(const char *in, size_t len)
{
	static struct mailconn__buf out;
	mailconn__buf_free(&out);
	mailconn__buf_init(&out, 4096);
	CHECK_INT(mailconn__scrub_apply(&s, in, len, &out), 0);
	return out.data ? out.data : "";
}

static const char *
b64(const char *in, size_t len)
{
	static struct mailconn__buf out;
	mailconn__buf_free(&out);
	mailconn__buf_init(&out, 4096);
	mailconn__b64_encode((const unsigned char *)in, len, &out);
	return out.data;
}

int
main(void)
{
	const char *pw = "correct horse battery";
	mailconn__scrub_init(&s);
	CHECK_INT(mailconn__scrub_add(&s, pw), 0);
	CHECK_INT(mailconn__scrub_add(&s, "ab"), 0);     /* too short: ignored */

	CHECK_STR(scrubbed("535 you sent correct horse battery!", 35),
	          "535 you sent [redacted]!");
	CHECK_STR(scrubbed("no secret here", 14), "no secret here");

	/* AUTH PLAIN blobs with user names of every length mod 3. */
	const char *users[] = { "a", "ab", "abc", "alice@mail.test" };
	for (size_t u = 0; u < 4; u++) {
		char blob[128], line[256];
		size_t ul = strlen(users[u]);
		blob[0] = '\0';
		memcpy(blob + 1, users[u], ul);
		blob[1 + ul] = '\0';
		memcpy(blob + 2 + ul, pw, strlen(pw));
		snprintf(line, sizeof line, "A2 NO AUTHENTICATE PLAIN %s failed",
		         b64(blob, 2 + ul + strlen(pw)));
		const char *out = scrubbed(line, strlen(line));
		CHECK_CONTAINS(out, "[redacted]");
		/* Decoding what is left cannot give the secret back: the longest
		 * run of the password that survives is at most 2 bytes per edge. */
		CHECK(strstr(out, b64(pw, strlen(pw))) == NULL);
	}
	/* SASL LOGIN sends base64(password) alone. */
	const char *alone = b64(pw, strlen(pw));
	char line[128];
	snprintf(line, sizeof line, "535 bad %s", alone);
	CHECK(strstr(scrubbed(line, strlen(line)), alone) == NULL);

	/* NUL bytes in server text do not stop the scan. */
	const char with_nul[] = "x\0correct horse battery";
	struct mailconn__buf out;
	mailconn__buf_init(&out, 100);
	CHECK_INT(mailconn__scrub_apply(&s, with_nul, sizeof with_nul - 1, &out), 0);
	CHECK_INT(out.len, 2 + 10);
	mailconn__buf_free(&out);
	mailconn__scrub_free(&s);
	CHECK_INT(s.n, 0);
	return check_finish();
}
