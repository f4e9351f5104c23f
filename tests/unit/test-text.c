/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server text must come out as harmless, valid, bounded UTF-8. */
#include <stdint.h>

#include "check.h"
#include "core/text.h"

static const char *
clean(const char *in, size_t len, int keep_nl, size_t max)
{
	static struct mailconn__buf b;
	mailconn__buf_free(&b);
	mailconn__buf_init(&b, 4096);
	CHECK_INT(mailconn__sanitize(in, len, keep_nl, max, &b), 0);
	return b.data ? b.data : "";
}

int
main(void)
{
	CHECK_STR(clean("hello", 5, 0, 100), "hello");
	/* A terminal escape loses its ESC, so it cannot act on a terminal. */
	CHECK_STR(clean("a\x1b[2Jb", 6, 0, 100), "a\xef\xbf\xbd[2Jb");
	/* CR would let a server overwrite what a log line shows. */
	CHECK_STR(clean("ok\rFAKE", 7, 0, 100), "ok\xef\xbf\xbd" "FAKE");
	CHECK_STR(clean("a\nb", 3, 1, 100), "a\nb");
	CHECK_STR(clean("a\nb", 3, 0, 100), "a b");
	CHECK_STR(clean("a\0b", 3, 0, 100), "a\xef\xbf\xbd" "b");
	/* Invalid and overlong UTF-8, lone continuation, surrogate. */
	CHECK_STR(clean("\xc0\xaf", 2, 0, 100), "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(clean("\x80", 1, 0, 100), "\xef\xbf\xbd");
	CHECK_STR(clean("\xed\xa0\x80", 3, 0, 100),
	          "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Valid multi-byte text passes unchanged. */
	CHECK_STR(clean("\xc3\x86\xc3\xb8", 4, 0, 100), "\xc3\x86\xc3\xb8");
	/* C1 control (U+009B, the 8-bit CSI) and a bidi override. */
	CHECK_STR(clean("\xc2\x9b" "1m", 4, 0, 100), "\xef\xbf\xbd" "1m");
	CHECK_STR(clean("x\xe2\x80\xaey", 5, 0, 100), "x\xef\xbf\xbdy");
	/* Bounded, cut on a character boundary. */
	CHECK_STR(clean("abcdefgh", 8, 0, 4), "abcd...");
	CHECK_STR(clean("\xc3\x86\xc3\x86\xc3\x86", 6, 0, 5), "\xc3\x86\xc3\x86...");

	/* Keywords compare by length and ASCII case only: a NUL in server
	 * text is a byte like any other, not the end. */
	CHECK(mailconn__ascii_ieq("Capability", 10, "CAPABILITY"));
	CHECK(!mailconn__ascii_ieq("CAPABILIT", 9, "CAPABILITY"));
	CHECK(!mailconn__ascii_ieq("OK\0", 3, "OK"));
	CHECK(!mailconn__ascii_ieq("\xc3\xa9", 2, "\xc3\x89"));
	CHECK(mailconn__ascii_iprefix("auth=PLAIN", 10, "AUTH="));
	CHECK(!mailconn__ascii_iprefix("AUT", 3, "AUTH="));
	CHECK_INT(mailconn__ascii_lower('Q'), 'q');
	CHECK_INT(mailconn__ascii_lower(0xC9), 0xC9);
	CHECK_INT(mailconn__memfind("a\0bcbc", 6, "bc", 2), 2);
	CHECK_INT(mailconn__memfind("abc", 3, "abcd", 4), SIZE_MAX);
	CHECK_INT(mailconn__memfind("abc", 3, "", 0), SIZE_MAX);
	CHECK_INT(mailconn__memfind("abC", 3, "bc", 2), SIZE_MAX);
	return check_finish();
}
