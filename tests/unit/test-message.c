/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The test message: exact bytes for a fixed date and id, RFC 2047 subject
 * encoding and folding, body line-end normalisation, quoted-printable for
 * over-long lines, header-injection refusal, Message-ID and SMTPUTF8.
 */
#include "check.h"
#include "core/b64.h"
#include "proto/message.h"

static struct mailconn__buf out;

static const char *
build(const char *subject, const char *body)
{
	struct mailconn__message_params p = {
		.from = "alice@example.com",
		.to = "bcc@example.net",
		.subject = subject,
		.body = body,
		.date = 1700000000,
		.message_id = "0123abcd.1700000000@example.com",
	};
	mailconn__buf_clear(&out);
	if (mailconn__message_build(&p, &out) != 0)
		return "(error)";
	return out.data;
}

#define HEAD(subject_line, cte)                                            \
	"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"                         \
	"From: alice@example.com\r\n"                                       \
	"To: bcc@example.net\r\n"                                           \
	subject_line                                                        \
	"Message-ID: <0123abcd.1700000000@example.com>\r\n"                 \
	"MIME-Version: 1.0\r\n"                                             \
	"Content-Type: text/plain; charset=UTF-8\r\n"                       \
	"Content-Transfer-Encoding: " cte "\r\n"                            \
	"\r\n"

/* Every line of `msg` ends in CRLF, no bare CR or LF, none longer than
 * `max` octets. */
static void
check_lines(const char *msg, size_t max)
{
	const char *p = msg;
	while (*p) {
		const char *e = strstr(p, "\r\n");
		CHECK(e != NULL);
		if (!e)
			return;
		CHECK((size_t)(e - p) <= max);
		CHECK(memchr(p, '\r', (size_t)(e - p)) == NULL);
		CHECK(memchr(p, '\n', (size_t)(e - p)) == NULL);
		p = e + 2;
	}
}

static void
test_exact(void)
{
	CHECK_STR(build("Hello", "Line one\r\nLine two\r\n"),
	          HEAD("Subject: Hello\r\n", "8bit")
	          "Line one\r\nLine two\r\n");

	/* Defaults. */
	CHECK_STR(build(NULL, NULL),
	          HEAD("Subject: libmailconn test message\r\n", "8bit")
	          "This message was sent by libmailconn to verify that this "
	          "mailbox\r\ncan send mail. You can delete it.\r\n");

	/* The epoch, and single-digit fields padded. */
	struct mailconn__message_params p = {
		.from = "a@b", .to = "c@d", .subject = "s", .body = "",
		.date = 0, .message_id = "x@b",
	};
	mailconn__buf_clear(&out);
	CHECK_INT(mailconn__message_build(&p, &out), 0);
	CHECK_STR(out.data,
	          "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
	          "From: a@b\r\nTo: c@d\r\nSubject: s\r\n"
	          "Message-ID: <x@b>\r\nMIME-Version: 1.0\r\n"
	          "Content-Type: text/plain; charset=UTF-8\r\n"
	          "Content-Transfer-Encoding: 8bit\r\n\r\n");
}

static void
test_subject(void)
{
	CHECK_STR(build("Prøve", "x"),
	          HEAD("Subject: =?UTF-8?B?UHLDuHZl?=\r\n", "8bit") "x\r\n");

	/* 61 bytes: the first word would end inside a "€", so it stops at
	 * 40 bytes and the rest goes on a folded line. */
	char s[128] = "a";
	for (int i = 0; i < 20; i++)
		strcat(s, "\xe2\x82\xac");
	CHECK_STR(build(s, "x"),
	          HEAD("Subject: =?UTF-8?B?YeKCrOKCrOKCrOKCrOKCrOKCrOKCrOKCrOKC"
	               "rOKCrOKCrOKCrOKCrA==?=\r\n"
	               " =?UTF-8?B?4oKs4oKs4oKs4oKs4oKs4oKs4oKs?=\r\n",
	               "8bit") "x\r\n");
	check_lines(out.data, 78);

	/* A long mixed subject: decoding every word gives it back, and no
	 * line passes 78 columns. */
	const char *long_subject =
		"Prøve – テスト メッセージ from the libmailconn checker ✓ with "
		"enough text to need several encoded words in a row";
	build(long_subject, "x");
	check_lines(out.data, 78);
	struct mailconn__buf joined;
	mailconn__buf_init(&joined, 4096);
	const char *p = strstr(out.data, "Subject: ");
	const char *end = strstr(out.data, "Message-ID:");
	int words = 0;
	while (p && (p = strstr(p, "=?UTF-8?B?")) && p < end) {
		p += 10;
		const char *q = strstr(p, "?=");
		CHECK(q != NULL);
		if (!q)
			break;
		CHECK_INT(mailconn__b64_decode(p, (size_t)(q - p), &joined), 0);
		words++;
		p = q + 2;
	}
	CHECK(words >= 3);
	CHECK_STR(joined.data, long_subject);
	mailconn__buf_free(&joined);

	/* "=?" and control characters are encoded too. */
	CHECK_CONTAINS(build("=?x?=", "x"), "Subject: =?UTF-8?B?PT94Pz0=?=\r\n");
	CHECK_CONTAINS(build("a\tb\x1b[31m", "x"), "Subject: =?UTF-8?B?");

	/* A long ASCII subject folds before a space. */
	build("The quick brown fox jumps over the lazy dog and keeps running "
	      "until the line is far too long for one header line", "x");
	CHECK_CONTAINS(out.data,
	               "Subject: The quick brown fox jumps over the lazy dog "
	               "and keeps running until\r\n the line is far too long "
	               "for one header line\r\n");
	check_lines(out.data, 78);
}

static void
test_body(void)
{
	/* Bare LF, bare CR and CRLF all become CRLF; a final line end is
	 * added. */
	CHECK_STR(build("s", "a\nb\rc\r\nd\n\ne\r\r\nf"),
	          HEAD("Subject: s\r\n", "8bit")
	          "a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\nf\r\n");
	check_lines(out.data, 998);
	/* UTF-8 passes through as 8bit. */
	CHECK_STR(build("s", "Grüße\n"),
	          HEAD("Subject: s\r\n", "8bit") "Grüße\r\n");
	/* Dots are left for the SMTP engine to stuff. */
	CHECK_STR(build("s", ".\n..x\n"),
	          HEAD("Subject: s\r\n", "8bit") ".\r\n..x\r\n");

	/* A 998-octet line is still fine as 8bit. */
	char line[1200];
	memset(line, 'x', 998);
	line[998] = '\0';
	build("s", line);
	CHECK_CONTAINS(out.data, "Content-Transfer-Encoding: 8bit\r\n");
}

static void
test_qp(void)
{
	/* 999 octets: quoted-printable, soft breaks at 76 columns. */
	char body[1200];
	memset(body, 'x', 999);
	strcpy(body + 999, "\nshort=line \nGrüß\n");
	build("s", body);
	CHECK_CONTAINS(out.data, "Content-Transfer-Encoding: quoted-printable"
	               "\r\n\r\n");
	check_lines(out.data, 76);
	/* 999 = 13 * 75 + 24 */
	char expect[1300];
	size_t at = 0;
	for (int i = 0; i < 13; i++) {
		memcpy(expect + at, body, 75);
		memcpy(expect + at + 75, "=\r\n", 3);
		at += 78;
	}
	memcpy(expect + at, body, 24);
	strcpy(expect + at + 24, "\r\nshort=3Dline=20\r\nGr=C3=BC=C3=9F\r\n");
	const char *b = strstr(out.data, "\r\n\r\n");
	CHECK(b != NULL);
	if (b)
		CHECK_STR(b + 4, expect);

	/* An escape never straddles a soft break. */
	char body2[1100];
	memset(body2, 'y', 74);
	memset(body2 + 74, '=', 1000);
	body2[1074] = '\0';
	build("s", body2);
	check_lines(out.data, 76);
	b = strstr(out.data, "\r\n\r\n");
	CHECK(b && strncmp(b + 4, "yyyyyyyyyy", 10) == 0);
	CHECK_CONTAINS(out.data, "yy=\r\n=3D=3D");
}

static void
test_reject(void)
{
	CHECK_STR(build("Hello\r\nBcc: victim@example.org", "x"), "(error)");
	CHECK_STR(build("Hello\nBcc: x", "x"), "(error)");
	CHECK_STR(build("Hello\r", "x"), "(error)");
	struct mailconn__message_params p = {
		.from = "a@b\r\nX-Evil: 1", .to = "c@d", .subject = NULL,
		.body = NULL, .date = 0, .message_id = "x@b",
	};
	struct mailconn__buf b;
	mailconn__buf_init(&b, 4096);
	mailconn__buf_append_str(&b, "keep");
	CHECK_INT(mailconn__message_build(&p, &b), -3);
	p.from = "a@b";
	p.to = "c@d\n";
	CHECK_INT(mailconn__message_build(&p, &b), -3);
	p.to = "c@d";
	p.message_id = "x@b\r\n";
	CHECK_INT(mailconn__message_build(&p, &b), -3);
	p.message_id = NULL;
	CHECK_INT(mailconn__message_build(&p, &b), -3);
	CHECK_STR(b.data, "keep");
	mailconn__buf_free(&b);

	/* Over the limit: an error, and the buffer is left as it was. */
	mailconn__buf_init(&b, 100);
	p.message_id = "x@b";
	CHECK_INT(mailconn__message_build(&p, &b), -2);
	CHECK_INT(b.len, 0);
	mailconn__buf_free(&b);
}

static void
test_message_id(void)
{
	unsigned char r[16];
	for (int i = 0; i < 16; i++)
		r[i] = (unsigned char)(i * 17);
	struct mailconn__buf b;
	mailconn__buf_init(&b, 256);
	CHECK_INT(mailconn__message_id(r, 1700000000, "alice@Example.COM", &b),
	          0);
	CHECK_STR(b.data,
	          "00112233445566778899aabbccddeeff.1700000000@Example.COM");
	mailconn__buf_clear(&b);
	/* Unusable domains fall back rather than break the header. */
	CHECK_INT(mailconn__message_id(r, 5, "weird@bücher.de", &b), 0);
	CHECK_STR(b.data, "00112233445566778899aabbccddeeff.5@localhost");
	mailconn__buf_clear(&b);
	CHECK_INT(mailconn__message_id(r, 5, "noat", &b), 0);
	CHECK_STR(b.data, "00112233445566778899aabbccddeeff.5@localhost");
	mailconn__buf_clear(&b);
	CHECK_INT(mailconn__message_id(r, 5, "a@b> x", &b), 0);
	CHECK_STR(b.data, "00112233445566778899aabbccddeeff.5@localhost");
	mailconn__buf_free(&b);

	CHECK_INT(mailconn__address_needs_smtputf8("user@example.com"), 0);
	CHECK_INT(mailconn__address_needs_smtputf8("jörg@example.com"), 1);
	CHECK_INT(mailconn__address_needs_smtputf8("user@bücher.de"), 1);
	CHECK_INT(mailconn__address_needs_smtputf8(""), 0);
}

int
main(void)
{
	mailconn__buf_init(&out, 65536);
	test_exact();
	test_subject();
	test_body();
	test_qp();
	test_reject();
	test_message_id();
	mailconn__buf_free(&out);
	return check_finish();
}
