/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engines' shared core: CRLF framing under the line limit (strict and
 * lenient), the transcript without secrets, and failure records that keep
 * secrets, NUL bytes and split UTF-8 out of the reply.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"
#include "proto/pingpong.h"

#define SECRET "s3cret-Pa55"

static char seen[256];

static void
on_line(void *userdata, mailconn_direction dir, const char *line, size_t len)
{
	(void)userdata;
	(void)dir;
	snprintf(seen, sizeof(seen), "%.*s", (int)len, line);
}

static void
init(struct mailconn__pp *pp)
{
	struct mailconn__engine_params p = {
		.host = "imap.gmail.com",
		.password = SECRET,
		.on_line = on_line,
	};
	CHECK_INT(mailconn__pp_init(pp, &p), 0);
}

static void
record(struct mailconn__pp *pp, const char *reply, size_t len,
       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mailconn__pp_record(pp, MAILCONN_STAGE_IMAP_LOGIN,
	                    MAILCONN__STEP_LOGIN, MAILCONN_UNAUTHORIZED,
	                    MAILCONN_CAUSE_AUTH_REJECTED, reply, len, fmt, ap);
	va_end(ap);
}

static void
test_framing(void)
{
	struct mailconn__pp pp;
	const char *l;
	size_t n;

	init(&pp);
	const char in[] = "one\r\ntw";
	CHECK_INT(mailconn__pp_take(&pp, in, sizeof(in) - 1), sizeof(in) - 1);
	CHECK_INT(mailconn__pp_next_line(&pp, 1, &l, &n), MAILCONN__PP_LINE);
	CHECK_STR(l, "one");
	CHECK_INT(n, 3);
	CHECK_INT(mailconn__pp_next_line(&pp, 1, &l, &n), MAILCONN__PP_MORE);
	CHECK_INT(mailconn__pp_take(&pp, "o\r\n", 3), 3);
	CHECK_INT(mailconn__pp_next_line(&pp, 1, &l, &n), MAILCONN__PP_LINE);
	CHECK_STR(l, "two");

	/* A bare LF: an error for SMTP, part of the line for IMAP. */
	CHECK_INT(mailconn__pp_take(&pp, "a\nb\r\n", 5), 5);
	CHECK_INT(mailconn__pp_next_line(&pp, 1, &l, &n), MAILCONN__PP_BARE_LF);
	CHECK_INT(mailconn__pp_next_line(&pp, 0, &l, &n), MAILCONN__PP_LINE);
	CHECK_INT(n, 3);
	CHECK(memcmp(l, "a\nb", 3) == 0);

	/* The longest line passes; one byte more never fits. */
	char *big = malloc(MAILCONN__MAX_LINE + 3);
	CHECK(big != NULL);
	memset(big, 'x', MAILCONN__MAX_LINE);
	memcpy(big + MAILCONN__MAX_LINE, "\r\n", 2);
	CHECK_INT(mailconn__pp_take(&pp, big, MAILCONN__MAX_LINE + 2),
	          MAILCONN__MAX_LINE + 2);
	CHECK_INT(mailconn__pp_next_line(&pp, 1, &l, &n), MAILCONN__PP_LINE);
	CHECK_INT(n, MAILCONN__MAX_LINE);
	memset(big, 'y', MAILCONN__MAX_LINE + 3);
	CHECK_INT(mailconn__pp_take(&pp, big, MAILCONN__MAX_LINE + 3),
	          MAILCONN__MAX_LINE + 2);
	CHECK_INT(mailconn__pp_next_line(&pp, 0, &l, &n), MAILCONN__PP_TOO_LONG);
	CHECK_INT(pp.in.len, MAILCONN__MAX_LINE + 2);
	mailconn__pp_drop_input(&pp);
	CHECK_INT(pp.in.len, 0);
	CHECK_INT(mailconn__pp_next_line(&pp, 0, &l, &n), MAILCONN__PP_MORE);
	free(big);
	mailconn__pp_free(&pp);
}

static void
test_transcript_and_failure(void)
{
	struct mailconn__pp pp;

	init(&pp);
	const char echo[] = "A1 NO LOGIN user " SECRET " failed";
	mailconn__pp_report_received(&pp, echo, sizeof(echo) - 1);
	CHECK_STR(seen, "A1 NO LOGIN user [redacted] failed");
	mailconn__pp_report(&pp, MAILCONN_DIR_SENT, "A2 LOGOUT", 9);
	CHECK_STR(seen, "A2 LOGOUT");

	const char reply[] = "A1 NO \0" SECRET;
	record(&pp, reply, sizeof(reply) - 1, "refused (%d)", 7);
	const struct mailconn__failure *f = &pp.failure;
	CHECK_INT(f->stage, MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(f->step, MAILCONN__STEP_LOGIN);
	CHECK_INT(f->outcome, MAILCONN_UNAUTHORIZED);
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_STR(f->detail, "refused (7)");
	CHECK_STR(f->reply, "A1 NO ?[redacted]");

	/* Cut before a UTF-8 sequence that would not fit, not inside it. */
	static char longer[MAILCONN__MAX_FAILURE_REPLY + 8];
	memset(longer, 'a', sizeof(longer));
	memcpy(longer + MAILCONN__MAX_FAILURE_REPLY - 2, "\xe2\x82\xac", 3);
	record(&pp, longer, sizeof(longer), "long");
	CHECK_INT(strlen(f->reply), MAILCONN__MAX_FAILURE_REPLY - 2);
	record(&pp, NULL, 0, "none");
	CHECK_STR(f->reply, "");
	mailconn__pp_free(&pp);
}

static void
test_judge(void)
{
	struct mailconn__pp pp;
	struct mailconn__classification c;
	const char reply[] = "A1 NO [AUTHENTICATIONFAILED] Invalid credentials";

	init(&pp);
	mailconn__pp_judge(&pp, MAILCONN_PROTOCOL_IMAP, MAILCONN__STEP_LOGIN,
	                   reply, sizeof(reply) - 1, 1, "LOGIN", &c);
	CHECK_INT(c.outcome, MAILCONN_UNAUTHORIZED);
	CHECK_STR(c.provider ? c.provider : "", "gmail");
	mailconn__pp_judge(&pp, MAILCONN_PROTOCOL_IMAP, MAILCONN__STEP_LOGIN,
	                   "A1 OK done", 10, 1, "LOGIN", &c);
	CHECK_INT(c.outcome, MAILCONN_OK);
	mailconn__pp_free(&pp);
}

int
main(void)
{
	test_framing();
	test_transcript_and_failure();
	test_judge();
	return check_finish();
}
