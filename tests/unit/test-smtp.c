/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SMTP engine against scripted server bytes: exact client bytes for
 * the happy paths (fed whole and one byte at a time), STARTTLS stripping
 * and injection, wrong protocol, AUTH refusals, SCRAM through AUTH,
 * relay refusal, bounded parsing, dot-stuffing and redaction.
 */
#include <stdlib.h>

#include "check.h"
#include "core/buf.h"
#include "fixed-crypto.h"
#include "proto/smtp.h"

#define PASSWORD "secret-pass"
#define PLAIN_IR "AHVzZXJAZXhhbXBsZS5jb20Ac2VjcmV0LXBhc3M=" /* b64 */
#define MESSAGE                                                            \
	"Subject: t\r\n\r\n.hidden\r\nline\r\n..\r\n.\r\nend\r\n"
#define STUFFED "Subject: t\r\n\r\n..hidden\r\nline\r\n...\r\n..\r\nend\r\n"

static unsigned char cbdata[32];
/* 1: the driver reports the certificate as accepted unverified, which
 * makes SCRAM the preferred mechanism. */
static int cert_unverified;

struct run {
	struct mailconn__smtp *e;
	struct mailconn__buf client;     /* bytes the client sent */
	struct mailconn__buf transcript; /* "C: line\n" / "S: line\n" */
	enum mailconn__action last;
	int tls_starts;
};

static void
on_line(void *ud, mailconn_direction dir, const char *line, size_t len)
{
	struct run *r = ud;
	mailconn__buf_append_str(&r->transcript,
	                         dir == MAILCONN_DIR_SENT ? "C: " : "S: ");
	mailconn__buf_append(&r->transcript, line, len);
	mailconn__buf_append(&r->transcript, "\n", 1);
}

static struct mailconn__engine_params
params(enum mailconn__tls_mode mode)
{
	struct mailconn__engine_params p = {
		.tls_mode = mode,
		.host = "smtp.example.com",
		.username = "user@example.com",
		.password = PASSWORD,
		.client_name = "client.example",
		.mail_from = "user@example.com",
		.rcpt_to = "bcc@example.net",
		.message = MESSAGE,
		.on_line = on_line,
		.crypto = &mailconn__gnutls_crypto,
	};
	return p;
}

enum feed_mode { WHOLE, BYTES };

/* Play `turns` (NULL-terminated): each turn is fed when the engine asks
 * for input, whole or byte by byte; EOF once they run out. */
static void
play(struct run *r, struct mailconn__engine_params p, const char *const *turns,
     enum feed_mode mode)
{
	for (int i = 0; i < 32; i++)
		cbdata[i] = (unsigned char)(0xa0 + i);
	struct mailconn__channel_binding cb = { "tls-exporter", cbdata, 32 };
	mailconn__buf_init(&r->client, 1 << 20);
	mailconn__buf_init(&r->transcript, 1 << 20);
	p.line_userdata = r;
	r->e = mailconn__smtp_new(&p);
	r->tls_starts = 0;
	CHECK(r->e != NULL);
	if (p.tls_mode == MAILCONN__TLS_IMPLICIT) {
		/* as the driver does */
		if (cert_unverified)
			mailconn__smtp_tls_unverified(r->e);
		mailconn__smtp_tls_started(r->e, &cb);
	}
	size_t t = 0, pos = 0;
	for (int guard = 0; guard < 1000000; guard++) {
		enum mailconn__action a = mailconn__smtp_next(r->e);
		r->last = a;
		if (a == MAILCONN__ACT_DONE || a == MAILCONN__ACT_FAILED)
			return;
		if (a == MAILCONN__ACT_SEND) {
			const char *d;
			size_t n = mailconn__smtp_output(r->e, &d);
			CHECK(n > 0);
			/* Byte mode also sends one byte at a time. */
			if (mode == BYTES)
				n = 1;
			mailconn__buf_append(&r->client, d, n);
			mailconn__smtp_output_done(r->e, n);
		} else if (a == MAILCONN__ACT_START_TLS) {
			mailconn__buf_append_str(&r->client, "<TLS>");
			r->tls_starts++;
			if (cert_unverified)
				mailconn__smtp_tls_unverified(r->e);
			mailconn__smtp_tls_started(r->e, &cb);
		} else if (!turns[t]) {
			mailconn__smtp_eof(r->e);
		} else if (mode == WHOLE) {
			mailconn__smtp_feed(r->e, turns[t], strlen(turns[t]));
			t++;
		} else {
			mailconn__smtp_feed(r->e, turns[t] + pos, 1);
			if (turns[t][++pos] == '\0') {
				t++;
				pos = 0;
			}
		}
	}
	CHECK(!"engine did not finish");
}

static void
done(struct run *r)
{
	/* The password may reach the wire only base64-encoded in AUTH,
	 * and never the transcript or the failure. */
	CHECK(strstr(r->transcript.data ? r->transcript.data : "",
	             PASSWORD) == NULL);
	CHECK(strstr(r->transcript.data ? r->transcript.data : "",
	             "c2VjcmV0LXBhc3M") == NULL);
	CHECK(strstr(r->transcript.data ? r->transcript.data : "",
	             PLAIN_IR) == NULL);
	const struct mailconn__failure *f = mailconn__smtp_failure(r->e);
	CHECK(strstr(f->detail, PASSWORD) == NULL);
	CHECK(strstr(f->reply, PASSWORD) == NULL);
	CHECK(strstr(r->client.data ? r->client.data : "", PASSWORD) == NULL);
	mailconn__smtp_free(r->e);
	mailconn__buf_free(&r->client);
	mailconn__buf_free(&r->transcript);
}

static const char *
client(const struct run *r)
{
	return r->client.data ? r->client.data : "";
}

static const char *
transcript(const struct run *r)
{
	return r->transcript.data ? r->transcript.data : "";
}

#define GREETING "220 smtp.example.com ESMTP ready\r\n"
#define EHLO_PIPE                                                          \
	"250-smtp.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"   \
	"250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n"
#define EHLO_NOPIPE                                                        \
	"250-smtp.example.com\r\n250-AUTH=PLAIN LOGIN\r\n250 8BITMIME\r\n"
#define EHLO_SENT "EHLO client.example\r\n"
#define AUTH_SENT "AUTH PLAIN " PLAIN_IR "\r\n"
#define ENVELOPE                                                           \
	"MAIL FROM:<user@example.com>\r\nRCPT TO:<bcc@example.net>\r\n"     \
	"DATA\r\n"

static void
test_happy_pipelining(enum feed_mode mode)
{
	static const char *const turns[] = {
		GREETING, EHLO_PIPE, "235 2.7.0 Authentication successful\r\n",
		"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
		"<CR><LF>.<CR><LF>\r\n",
		"250 2.0.0 Ok: queued as 4F00\r\n", "221 2.0.0 Bye\r\n", NULL,
	};
	struct run r;
	play(&r, params(MAILCONN__TLS_IMPLICIT), turns, mode);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	CHECK_STR(client(&r), EHLO_SENT AUTH_SENT ENVELOPE STUFFED ".\r\n"
	          "QUIT\r\n");
	CHECK_INT(mailconn__smtp_stage(r.e), MAILCONN_STAGE_TEST_SEND);
	CHECK_STR(mailconn__smtp_capabilities(r.e),
	          "PIPELINING\nSIZE 10240000\nAUTH PLAIN LOGIN\n"
	          "ENHANCEDSTATUSCODES");
	CHECK_STR(mailconn__smtp_mechanism(r.e), "PLAIN");
	CHECK_STR(transcript(&r),
	          "S: 220 smtp.example.com ESMTP ready\n"
	          "C: EHLO client.example\n"
	          "S: 250-smtp.example.com\n"
	          "S: 250-PIPELINING\n"
	          "S: 250-SIZE 10240000\n"
	          "S: 250-AUTH PLAIN LOGIN\n"
	          "S: 250 ENHANCEDSTATUSCODES\n"
	          "C: AUTH PLAIN [redacted]\n"
	          "C: MAIL FROM:<user@example.com>\n"
	          "C: RCPT TO:<bcc@example.net>\n"
	          "C: DATA\n"
	          "S: 235 2.7.0 Authentication successful\n"
	          "S: 250 2.1.0 Ok\n"
	          "S: 250 2.1.5 Ok\n"
	          "S: 354 End data with <CR><LF>.<CR><LF>\n"
	          "C: [message: 41 bytes]\n"
	          "C: .\n"
	          "S: 250 2.0.0 Ok: queued as 4F00\n"
	          "C: QUIT\n");   /* done without waiting for 221 */
	done(&r);
}

static void
test_happy_no_pipelining(enum feed_mode mode)
{
	static const char *const turns[] = {
		"220-smtp.example.com ESMTP\r\n220-multi-line\r\n"
		"220 greeting\r\n",
		EHLO_NOPIPE, "235 ok\r\n", "250 ok\r\n", "250 ok\r\n",
		"354 go\r\n", "250 queued\r\n", NULL, /* EOF after QUIT */
	};
	struct run r;
	play(&r, params(MAILCONN__TLS_IMPLICIT), turns, mode);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	CHECK_STR(client(&r), EHLO_SENT AUTH_SENT
	          "MAIL FROM:<user@example.com>\r\n"
	          "RCPT TO:<bcc@example.net>\r\n"
	          "DATA\r\n" STUFFED ".\r\nQUIT\r\n");
	CHECK_STR(mailconn__smtp_capabilities(r.e),
	          "AUTH=PLAIN LOGIN\n8BITMIME");
	done(&r);
}

static void
test_starttls(void)
{
	static const char *const turns[] = {
		GREETING,
		"250-smtp.example.com\r\n250-STARTTLS\r\n250 AUTH CRAM-MD5\r\n",
		"220 2.0.0 Ready to start TLS\r\n",
		"250-smtp.example.com\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n",
		"235 ok\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", "250 ok\r\n",
		"221 bye\r\n", NULL,
	};
	for (int m = WHOLE; m <= BYTES; m++) {
		struct run r;
		play(&r, params(MAILCONN__TLS_STARTTLS), turns,
		     (enum feed_mode)m);
		CHECK_INT(r.last, MAILCONN__ACT_DONE);
		CHECK_INT(r.tls_starts, 1);
		CHECK_STR(client(&r), EHLO_SENT "STARTTLS\r\n<TLS>" EHLO_SENT
		          AUTH_SENT ENVELOPE STUFFED ".\r\nQUIT\r\n");
		/* Only what EHLO said over TLS counts. */
		CHECK_STR(mailconn__smtp_capabilities(r.e),
		          "AUTH PLAIN\nPIPELINING");
		done(&r);
	}
}

static void
test_starttls_missing(void)
{
	static const char *const turns[] = {
		GREETING, "250-smtp.example.com\r\n250 AUTH PLAIN LOGIN\r\n",
		NULL,
	};
	struct run r;
	play(&r, params(MAILCONN__TLS_STARTTLS), turns, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	const struct mailconn__failure *f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_STARTTLS_UNAVAILABLE);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_CONNECT);
	CHECK_STR(client(&r), EHLO_SENT);
	CHECK(strstr(client(&r), "AUTH") == NULL);
	done(&r);

	/* STARTTLS refused with 454. */
	static const char *const turns2[] = {
		GREETING, "250-smtp.example.com\r\n250 STARTTLS\r\n",
		"454 4.7.0 TLS not available due to local problem\r\n", NULL,
	};
	play(&r, params(MAILCONN__TLS_STARTTLS), turns2, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_STARTTLS_REFUSED);
	CHECK_INT(f->step, MAILCONN__STEP_STARTTLS);
	CHECK_STR(f->reply, "454 4.7.0 TLS not available due to local problem");
	CHECK_STR(client(&r), EHLO_SENT "STARTTLS\r\n");
	done(&r);
}

static void
test_starttls_injection(void)
{
	static const char *const turns[] = {
		GREETING, "250-smtp.example.com\r\n250 STARTTLS\r\n",
		"220 2.0.0 Ready\r\n235 2.7.0 ok\r\n", NULL,
	};
	struct run r;
	play(&r, params(MAILCONN__TLS_STARTTLS), turns, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	const struct mailconn__failure *f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_STARTTLS_INJECTION);
	CHECK_INT(r.tls_starts, 0);
	CHECK_STR(client(&r), EHLO_SENT "STARTTLS\r\n");
	done(&r);

	/* Even a partial line counts. */
	static const char *const turns2[] = {
		GREETING, "250-smtp.example.com\r\n250 STARTTLS\r\n",
		"220 2.0.0 Ready\r\n2", NULL,
	};
	play(&r, params(MAILCONN__TLS_STARTTLS), turns2, WHOLE);
	CHECK_INT(mailconn__smtp_failure(r.e)->cause,
	          MAILCONN_CAUSE_STARTTLS_INJECTION);
	done(&r);
}

static const struct mailconn__failure *
expect_failure(struct run *r, enum mailconn__tls_mode tls,
               const char *const *turns, enum feed_mode mode)
{
	play(r, params(tls), turns, mode);
	CHECK_INT(r->last, MAILCONN__ACT_FAILED);
	return mailconn__smtp_failure(r->e);
}

static void
test_greetings(void)
{
	struct run r;
	static const char *const imap[] = {
		"* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", NULL,
	};
	const struct mailconn__failure *f =
		expect_failure(&r, MAILCONN__TLS_IMPLICIT, imap, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_WRONG_PROTOCOL);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_CONNECT);
	CHECK_INT(f->step, MAILCONN__STEP_GREETING);
	CHECK_CONTAINS(f->detail, "speaks IMAP");
	CHECK_STR(f->reply, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.");
	CHECK_STR(client(&r), "");
	done(&r);

	static const char *const busy[] = {
		"421 4.3.2 Service not available\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, busy, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_GREETING_REJECTED);
	CHECK_STR(f->reply, "421 4.3.2 Service not available");
	done(&r);

	static const char *const no[] = {
		"554-mx.example.com\r\n554 No SMTP service here\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, no, BYTES);
	CHECK_INT(f->cause, MAILCONN_CAUSE_GREETING_REJECTED);
	CHECK_STR(f->reply, "554-mx.example.com\n554 No SMTP service here");
	done(&r);

	static const char *const junk[] = { "HTTP/1.1 400 Bad\r\n", NULL };
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, junk, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_PROTOCOL_ERROR);
	done(&r);

	static const char *const closed[] = { NULL };
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, closed, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_CONNECTION_CLOSED);
	done(&r);

	static const char *const ehlo_no[] = {
		GREETING, "502 5.5.2 Error: command not recognized\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, ehlo_no, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_EHLO_REJECTED);
	CHECK_INT(f->step, MAILCONN__STEP_CAPABILITY);
	done(&r);
}

static void
test_malformed(void)
{
	struct run r;
	const struct mailconn__failure *f;
	static const char *const cases[][2] = {
		{ "199 too low\r\n", NULL },
		{ "600 too high\r\n", NULL },
		{ "22 short\r\n", NULL },
		{ "220x no separator\r\n", NULL },
		{ "2a0 letters\r\n", NULL },
		{ "220 bare lf\n", NULL },
		{ "220-a\r\n250 changed code\r\n", NULL },
		{ "\r\n", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, cases[i], WHOLE);
		CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
		CHECK_INT(f->cause, MAILCONN_CAUSE_PROTOCOL_ERROR);
		done(&r);
	}

	/* "220" alone and NUL bytes inside a line are fine. */
	static const char nul_greeting[] = "220 hi\0there\r\n";
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.on_line = NULL;
	struct mailconn__smtp *e = mailconn__smtp_new(&p);
	mailconn__smtp_feed(e, nul_greeting, sizeof(nul_greeting) - 1);
	CHECK_INT(mailconn__smtp_next(e), MAILCONN__ACT_SEND);
	mailconn__smtp_free(e);
	static const char *const bare[] = {
		"220\r\n", "250\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, bare, WHOLE);
	/* EHLO with no keywords: no AUTH. */
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_NOT_OFFERED);
	done(&r);

	/* A reply nobody asked for (two greetings at once). */
	static const char *const early[] = {
		GREETING GREETING, NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, early, WHOLE);
	CHECK_INT(f->cause, MAILCONN_CAUSE_PROTOCOL_ERROR);
	done(&r);
}

static void
test_bounded(void)
{
	/* An EHLO reply that never ends fails at the line cap. */
	static char endless[200 * 10];
	endless[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(endless, "250-EXT\r\n");
	static const char *turns[] = { GREETING, endless, NULL };
	for (int m = WHOLE; m <= BYTES; m++) {
		struct run r;
		const struct mailconn__failure *f =
			expect_failure(&r, MAILCONN__TLS_IMPLICIT, turns,
			               (enum feed_mode)m);
		CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
		CHECK_INT(f->cause, MAILCONN_CAUSE_PROTOCOL_ERROR);
		CHECK_CONTAINS(f->detail, "64 lines");
		CHECK_INT(strlen(f->reply), 65 * 8 - 1);
		/* The transcript stops at the cap too. */
		const char *t = transcript(&r);
		int lines = 0;
		for (const char *q = t; (q = strstr(q, "S: 250-EXT")); q++)
			lines++;
		CHECK_INT(lines, 65);
		done(&r);
	}

	/* A line without end. */
	char *huge = malloc(MAILCONN__MAX_LINE + 100);
	memset(huge, 'A', MAILCONN__MAX_LINE + 99);
	huge[MAILCONN__MAX_LINE + 99] = '\0';
	memcpy(huge, "220 ", 4);
	const char *turns2[] = { huge, NULL };
	struct run r;
	const struct mailconn__failure *f =
		expect_failure(&r, MAILCONN__TLS_IMPLICIT, turns2, WHOLE);
	CHECK_INT(f->cause, MAILCONN_CAUSE_LINE_TOO_LONG);
	done(&r);

	/* Exactly MAX_LINE bytes is still a line. */
	huge[MAILCONN__MAX_LINE] = '\r';
	huge[MAILCONN__MAX_LINE + 1] = '\n';
	huge[MAILCONN__MAX_LINE + 2] = '\0';
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.on_line = NULL;
	struct mailconn__smtp *e = mailconn__smtp_new(&p);
	mailconn__smtp_feed(e, huge, MAILCONN__MAX_LINE + 2);
	CHECK_INT(mailconn__smtp_next(e), MAILCONN__ACT_SEND);
	mailconn__smtp_free(e);
	free(huge);
}

static void
test_auth_failures(void)
{
	struct run r;
	const struct mailconn__failure *f;

	static const char *const wrong[] = {
		GREETING, EHLO_PIPE,
		"535 5.7.8 Error: authentication failed: authentication "
		"failure\r\n", NULL,
	};
	for (int m = WHOLE; m <= BYTES; m++) {
		f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, wrong,
		                   (enum feed_mode)m);
		CHECK_INT(f->outcome, MAILCONN_UNAUTHORIZED);
		CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_REJECTED);
		CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
		CHECK_INT(f->step, MAILCONN__STEP_AUTHENTICATE);
		CHECK_STR(f->reply, "535 5.7.8 Error: authentication failed: "
		          "authentication failure");
		/* One attempt only: nothing after the pipelined envelope,
		 * and never the message. */
		CHECK_STR(client(&r), EHLO_SENT AUTH_SENT ENVELOPE);
		done(&r);
	}

	static const char *const temp[] = {
		GREETING, EHLO_PIPE,
		"454 4.7.0 Temporary authentication failure\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, temp, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_TEMPORARY);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
	done(&r);

	static const char *const none[] = {
		GREETING, "250-smtp.example.com\r\n250 PIPELINING\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, none, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_NOT_OFFERED);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
	CHECK_STR(client(&r), EHLO_SENT);
	done(&r);

	static const char *const nomech[] = {
		GREETING, "250-smtp.example.com\r\n250 AUTH CRAM-MD5 GSSAPI\r\n",
		NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, nomech, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	CHECK_CONTAINS(f->detail, "CRAM-MD5 GSSAPI");
	CHECK_STR(client(&r), EHLO_SENT);
	done(&r);

	/* Connection lost during AUTH. */
	static const char *const cut[] = { GREETING, EHLO_PIPE, NULL };
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, cut, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_CONNECTION_CLOSED);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
	done(&r);
}

static void
test_login_mech(void)
{
	static const char *const turns[] = {
		GREETING, "250-smtp.example.com\r\n250 AUTH LOGIN\r\n",
		"334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", "235 ok\r\n",
		"250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n",
		"221 bye\r\n", NULL,
	};
	struct run r;
	play(&r, params(MAILCONN__TLS_IMPLICIT), turns, BYTES);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	CHECK_STR(client(&r), EHLO_SENT "AUTH LOGIN\r\n"
	          "dXNlckBleGFtcGxlLmNvbQ==\r\nc2VjcmV0LXBhc3M=\r\n"
	          "MAIL FROM:<user@example.com>\r\n"
	          "RCPT TO:<bcc@example.net>\r\nDATA\r\n" STUFFED
	          ".\r\nQUIT\r\n");
	CHECK_CONTAINS(transcript(&r), "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\n"
	               "C: [redacted]\nS: 334 UGFzc3dvcmQ6\nC: [redacted]\n");
	CHECK_STR(mailconn__smtp_mechanism(r.e), "LOGIN");
	done(&r);
}

#define SCRAM_SF                                                           \
	"334 cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE" \
	"5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"

static void
test_scram(void)
{
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.username = "user";
	p.password = "pencil";
	p.crypto = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	cert_unverified = 1;

	/* -PLUS with the binding the driver reported. */
	static const char *const plus[] = {
		GREETING,
		"250-x\r\n250 AUTH PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS\r\n",
		SCRAM_SF,
		"334 dj1MaEdPSURDeU1QUzVhOTZ0WUF0VG5EamU4NmM4RklEc1FTSE12NFAxc1"
		"lJPQ==\r\n",
		"235 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
		"250 ok\r\n", "221 bye\r\n", NULL,
	};
	struct run r;
	play(&r, p, plus, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "SCRAM-SHA-256-PLUS");
	CHECK_CONTAINS(client(&r),
	               EHLO_SENT "AUTH SCRAM-SHA-256-PLUS cD10bHMtZXhwb3J0ZXIs"
	               "LG49dXNlcixyPXJPcHJOR2Z3RWJlUldnYk5Fa3FP\r\n"
	               "Yz1jRDEwYkhNdFpYaHdiM0owWlhJc0xLQ2hvcU9rcGFhbnFLbXFxNnl0"
	               "cnErd3NiS3p0TFcydDdpNXVydTh2YjYvLHI9ck9wck5HZndFYmVSV2di"
	               "TkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1UM1Vu"
	               "Vk5GYkwrR0Z3bURIMmNkVTFrWGN2akhOMEdhVWVMaGgrV2sxa0hRPQ=="
	               "\r\n\r\nMAIL FROM:");
	CHECK_CONTAINS(transcript(&r), "C: AUTH SCRAM-SHA-256-PLUS [redacted]\n");
	done(&r);

	/* Binding available, no -PLUS offered: "y,," and its proof. */
	static const char *const y[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256\r\n", SCRAM_SF,
		"334 dj1kSTRLcGlRSndCcjErVitLNlUxZEE2bDZJNEk5RFVOWFdORDRwY3BSVT"
		"NVPQ==\r\n",
		"235 ok\r\n", NULL,
	};
	play(&r, p, y, WHOLE);
	CHECK_CONTAINS(client(&r),
	               "AUTH SCRAM-SHA-256 eSwsbj11c2VyLHI9ck9wck5HZndFYmVSV2di"
	               "TkVrcU8=\r\n"
	               "Yz1lU3dzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFU"
	               "Q0FmdXhGSWxqKWhObEYkazAscD1Gb3FpSFR0UUVERThsejFDZGFFZTN0"
	               "SzRtUytpTURUbDc3U1B5RFM1M0RZPQ==\r\n\r\nMAIL FROM:");
	/* Ends in stage 5 with the connection closed before MAIL's reply. */
	CHECK_INT(mailconn__smtp_failure(r.e)->outcome, MAILCONN_TEST_SEND);
	CHECK_INT(mailconn__smtp_failure(r.e)->cause,
	          MAILCONN_CAUSE_CONNECTION_CLOSED);
	done(&r);

	/* A forged server signature. */
	static const char *const forged[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256-PLUS\r\n", SCRAM_SF,
		"334 dj1MaEdPSURDeU1QUzVhOTZ0WUF0VG5EamU4NmM4RklEc1FTSE12NFAxc1"
		"lNPQ==\r\n",
		"235 ok\r\n", NULL,
	};
	const struct mailconn__failure *f;
	play(&r, p, forged, WHOLE);
	f = mailconn__smtp_failure(r.e);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	CHECK(strstr(client(&r), "MAIL") == NULL);
	done(&r);

	/* Success without any server signature. */
	static const char *const skipped[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256-PLUS\r\n", SCRAM_SF,
		"235 ok\r\n", NULL,
	};
	play(&r, p, skipped, WHOLE);
	f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->cause, MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	CHECK(strstr(client(&r), "MAIL") == NULL);
	done(&r);

	/* A challenge that is not base64. */
	static const char *const badb64[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256\r\n",
		"334 not base64!\r\n", NULL,
	};
	play(&r, p, badb64, WHOLE);
	CHECK_INT(mailconn__smtp_failure(r.e)->cause,
	          MAILCONN_CAUSE_PROTOCOL_ERROR);
	done(&r);
	cert_unverified = 0;
}

#define SCRAM_C1 "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8="
#define SCRAM_C2                                                           \
	"Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxq" \
	"KWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0Fu" \
	"ZFZRPQ=="
#define SCRAM_S2 "334 dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5" \
                 "NUc0PQ==\r\n"
#define PLUS_C1 "cD10bHMtZXhwb3J0ZXIsLG49dXNlcixyPXJPcHJOR2Z3RWJlUldnYk5Fa3FP"

/* Count the occurrences of `needle` in `hay`. */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
test_mech_policy(void)
{
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	struct run r;
	cert_unverified = 0;

	/* Verified certificate: PLAIN with its initial response, one round
	 * trip, though SCRAM and -PLUS are offered. */
	static const char *const all[] = {
		GREETING,
		"250-x\r\n250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 LOGIN PLAIN\r\n",
		"235 ok\r\n", NULL,
	};
	play(&r, p, all, WHOLE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "PLAIN");
	CHECK_CONTAINS(client(&r), EHLO_SENT AUTH_SENT);
	done(&r);

	/* LOGIN only where PLAIN is not offered; SCRAM only when neither. */
	static const char *const login[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256 LOGIN\r\n", NULL,
	};
	play(&r, p, login, WHOLE);
	CHECK_STR(client(&r), EHLO_SENT "AUTH LOGIN\r\n");
	done(&r);
	static const char *const scram[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256 CRAM-MD5\r\n", NULL,
	};
	play(&r, p, scram, WHOLE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "SCRAM-SHA-256");
	done(&r);

	/* Accepted unverified: SCRAM first, -PLUS when bound. */
	cert_unverified = 1;
	p.username = "user";
	p.password = "pencil";
	p.crypto = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	play(&r, p, all, WHOLE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "SCRAM-SHA-256-PLUS");
	CHECK_CONTAINS(transcript(&r), "logging in with SCRAM-SHA-256-PLUS: "
	               "the certificate is not verified");
	done(&r);

	/* The caller's list rules, whatever the certificate. */
	p.mechanisms = "plain , scram-sha-256";
	play(&r, p, all, WHOLE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "PLAIN");
	done(&r);
	cert_unverified = 0;
	p.mechanisms = "SCRAM-SHA-256,PLAIN";
	play(&r, p, all, WHOLE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "SCRAM-SHA-256");
	/* Bound but not -PLUS: "y,,", so a -PLUS server sees the downgrade. */
	CHECK_CONTAINS(client(&r), "AUTH SCRAM-SHA-256 eSws");
	done(&r);
	p.mechanisms = "LOGIN";
	static const char *const plain_only[] = {
		GREETING, "250-x\r\n250 AUTH PLAIN\r\n", NULL,
	};
	play(&r, p, plain_only, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	CHECK_INT(mailconn__smtp_failure(r.e)->cause,
	          MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	CHECK(strstr(client(&r), "AUTH") == NULL);
	done(&r);
	p.mechanisms = NULL;
}

static void
test_plus_fallback(void)
{
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.username = "user";
	p.password = "pencil";
	p.crypto = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	cert_unverified = 1;
	struct run r;

	/* Cyrus over TLS 1.3: -PLUS refused at once, then the same password
	 * passes without the binding ("n,,", not "y,,"). */
	static const char *const cyrus[] = {
		GREETING,
		"250-x\r\n250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN\r\n",
		"535 5.7.8 bad protocol / cancel\r\n",
		SCRAM_SF, SCRAM_S2,
		"235 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
		"250 ok\r\n", "221 bye\r\n", NULL,
	};
	for (int mode = WHOLE; mode <= BYTES; mode++) {
		play(&r, p, cyrus, (enum feed_mode)mode);
		CHECK_INT(r.last, MAILCONN__ACT_DONE);
		CHECK_STR(mailconn__smtp_mechanism(r.e), "SCRAM-SHA-256 (after "
		          "SCRAM-SHA-256-PLUS was refused)");
		CHECK_CONTAINS(client(&r), EHLO_SENT "AUTH SCRAM-SHA-256-PLUS "
		               PLUS_C1 "\r\nAUTH SCRAM-SHA-256 " SCRAM_C1 "\r\n"
		               SCRAM_C2 "\r\n\r\nMAIL FROM:");
		CHECK_CONTAINS(transcript(&r), "SCRAM-SHA-256-PLUS was refused, "
		               "which does not prove the password wrong");
		done(&r);
	}

	/* A wrong password: refused again, and now it is the verdict, with
	 * the second reply's own text. Two attempts, never a third. */
	static const char *const wrong[] = {
		GREETING,
		"250-x\r\n250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN\r\n",
		"535 5.7.8 bad protocol / cancel\r\n",
		SCRAM_SF,
		"535 5.7.8 Authentication credentials invalid\r\n", NULL,
	};
	play(&r, p, wrong, WHOLE);
	const struct mailconn__failure *f = mailconn__smtp_failure(r.e);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	CHECK_INT(f->outcome, MAILCONN_UNAUTHORIZED);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
	CHECK_CONTAINS(f->reply, "credentials invalid");
	CHECK_INT(count_of(client(&r), "AUTH "), 2);
	done(&r);

	/* The server's own "e=" in reply to the -PLUS proof: cancel, then
	 * retry once. */
	static const char *const efinal[] = {
		GREETING,
		"250-x\r\n250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256\r\n",
		SCRAM_SF,
		/* base64("e=channel-bindings-dont-match") */
		"334 ZT1jaGFubmVsLWJpbmRpbmdzLWRvbnQtbWF0Y2g=\r\n",
		"501 5.7.0 cancelled\r\n",
		SCRAM_SF, SCRAM_S2, "235 ok\r\n", NULL,
	};
	play(&r, p, efinal, WHOLE);
	CHECK_STR(mailconn__smtp_mechanism(r.e), "SCRAM-SHA-256 (after "
	          "SCRAM-SHA-256-PLUS was refused)");
	CHECK_CONTAINS(client(&r), "\r\n*\r\nAUTH SCRAM-SHA-256 " SCRAM_C1);
	CHECK_CONTAINS(client(&r), "MAIL FROM:");
	done(&r);

	/* No unbound twin offered: no retry, and a refusal that cannot
	 * judge the password is not called wrong credentials. */
	static const char *const only_plus[] = {
		GREETING, "250-x\r\n250 AUTH SCRAM-SHA-256-PLUS PLAIN\r\n",
		"535 5.7.8 Authentication credentials invalid\r\n", NULL,
	};
	play(&r, p, only_plus, WHOLE);
	f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_CONTAINS(f->detail, "does not prove the password wrong");
	CHECK_INT(count_of(client(&r), "AUTH "), 1);
	done(&r);

	/* The caller's list excludes the twin: the same. */
	p.mechanisms = "SCRAM-SHA-256-PLUS";
	play(&r, p, cyrus, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	CHECK(mailconn__smtp_failure(r.e)->outcome != MAILCONN_UNAUTHORIZED);
	CHECK_INT(count_of(client(&r), "AUTH "), 1);
	done(&r);
	p.mechanisms = NULL;

	/* 421: the server is going away; nothing is retried. */
	static const char *const closing[] = {
		GREETING,
		"250-x\r\n250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256\r\n",
		"421 4.3.2 shutting down\r\n", NULL,
	};
	play(&r, p, closing, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	CHECK_INT(count_of(client(&r), "AUTH "), 1);
	done(&r);
	cert_unverified = 0;
}

/* AUTH PLAIN, MAIL, RCPT and DATA in one flight; the replies are read in
 * order and AUTH's decides. */
static void
test_auth_pipelined(void)
{
	struct run r;
	const struct mailconn__failure *f;

	/* Refused AUTH while the server answers the envelope too, even with
	 * a 354: the login's failure with its own text, no message sent. */
	static const char *const refused[] = {
		GREETING, EHLO_PIPE,
		"535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\r\n"
		"530 5.7.0 Authentication required\r\n"
		"554 5.5.1 Error: no valid recipients\r\n"
		"354 End data with <CR><LF>.<CR><LF>\r\n", NULL,
	};
	for (int m = WHOLE; m <= BYTES; m++) {
		f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, refused,
		                   (enum feed_mode)m);
		CHECK_INT(f->outcome, MAILCONN_UNAUTHORIZED);
		CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
		CHECK_INT(f->step, MAILCONN__STEP_AUTHENTICATE);
		CHECK_STR(f->reply, "535 5.7.8 Error: authentication failed: "
		          "UGFzc3dvcmQ6");
		CHECK_STR(client(&r), EHLO_SENT AUTH_SENT ENVELOPE);
		done(&r);
	}

	/* Logged in, sender refused: stage 5 with MAIL's own reply. */
	static const char *const sender[] = {
		GREETING, EHLO_PIPE,
		"235 2.7.0 ok\r\n553 5.7.1 Sender address rejected: not owned\r\n"
		"554 5.5.1 Error: no valid recipients\r\n"
		"554 5.5.1 Error: no valid recipients\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, sender, WHOLE);
	CHECK_INT(f->stage, MAILCONN_STAGE_TEST_SEND);
	CHECK_INT(f->step, MAILCONN__STEP_MAIL_FROM);
	CHECK_STR(f->reply, "553 5.7.1 Sender address rejected: not owned");
	done(&r);

	/* Overlapped mode: AUTH alone; nothing of the send before release. */
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.hold_before_send = 1;
	static const char *const held[] = {
		GREETING, EHLO_PIPE, "235 2.7.0 ok\r\n", NULL,
	};
	play(&r, p, held, WHOLE);
	CHECK_STR(client(&r), EHLO_SENT AUTH_SENT);
	done(&r);

	/* Without PIPELINING: AUTH alone, too. */
	static const char *const stepwise[] = {
		GREETING, "250-x\r\n250 AUTH PLAIN\r\n", NULL,
	};
	play(&r, params(MAILCONN__TLS_IMPLICIT), stepwise, WHOLE);
	CHECK_STR(client(&r), EHLO_SENT AUTH_SENT);
	done(&r);
}

/* CHUNKING: BDAT LAST carries the message, unstuffed, in the same flight. */
static void
test_bdat(void)
{
	struct run r;
	char bdat[32];
	snprintf(bdat, sizeof(bdat), "BDAT %zu LAST\r\n", strlen(MESSAGE));
	static const char *const turns[] = {
		GREETING,
		"250-x\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n",
		"235 2.7.0 ok\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
		"250 2.0.0 Ok: 41 bytes queued as 4F00\r\n",
		"221 bye\r\n", NULL,
	};
	for (int m = WHOLE; m <= BYTES; m++) {
		play(&r, params(MAILCONN__TLS_IMPLICIT), turns, (enum feed_mode)m);
		CHECK_INT(r.last, MAILCONN__ACT_DONE);
		char want[512];
		snprintf(want, sizeof(want), "%s%s%s%s%s%s", EHLO_SENT, AUTH_SENT,
		         "MAIL FROM:<user@example.com>\r\n"
		         "RCPT TO:<bcc@example.net>\r\n", bdat, MESSAGE,
		         "QUIT\r\n");
		CHECK_STR(client(&r), want);
		CHECK_CONTAINS(transcript(&r), "C: BDAT ");
		done(&r);
	}

	/* The chunk refused: the message's verdict, stage 5. */
	static const char *const refused[] = {
		GREETING,
		"250-x\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n",
		"235 2.7.0 ok\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
		"554 5.7.1 Message rejected as spam\r\n", NULL,
	};
	const struct mailconn__failure *f =
		expect_failure(&r, MAILCONN__TLS_IMPLICIT, refused, WHOLE);
	CHECK_INT(f->stage, MAILCONN_STAGE_TEST_SEND);
	CHECK_INT(f->step, MAILCONN__STEP_END_OF_DATA);
	CHECK_STR(f->reply, "554 5.7.1 Message rejected as spam");
	done(&r);

	/* CHUNKING without PIPELINING: the stepwise DATA. */
	static const char *const stepwise[] = {
		GREETING, "250-x\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n",
		"235 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
		"250 ok\r\n", "221 bye\r\n", NULL,
	};
	play(&r, params(MAILCONN__TLS_IMPLICIT), stepwise, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	CHECK_CONTAINS(client(&r), "DATA\r\n" STUFFED ".\r\n");
	done(&r);
}

static void
test_oauth(void)
{
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.host = "smtp.gmail.com";
	p.username = "someone@gmail.com";
	p.password = NULL;
	p.oauth2_token = "ya29.TOKEN";
	static const char *const turns[] = {
		GREETING,
		"250-smtp.gmail.com\r\n250 AUTH LOGIN PLAIN XOAUTH2 "
		"PLAIN-CLIENTTOKEN\r\n",
		"334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOi"
		"JodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n",
		"535-5.7.8 Username and Password not accepted.\r\n"
		"535 5.7.8 https://support.google.com/mail/?p=BadCredentials\r\n",
		NULL,
	};
	struct run r;
	play(&r, p, turns, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_FAILED);
	CHECK_STR(client(&r), EHLO_SENT "AUTH XOAUTH2 dXNlcj1zb21lb25lQGdtYWls"
	          "LmNvbQFhdXRoPUJlYXJlciB5YTI5LlRPS0VOAQE=\r\n\r\n");
	const struct mailconn__failure *f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->stage, MAILCONN_STAGE_SMTP_LOGIN);
	CHECK_INT(f->step, MAILCONN__STEP_AUTHENTICATE);
	CHECK(f->outcome == MAILCONN_UNAUTHORIZED ||
	      f->outcome == MAILCONN_APP_PASSWORD);
	CHECK_CONTAINS(f->detail, "\"status\":\"400\"");
	CHECK_STR(f->reply, "535-5.7.8 Username and Password not accepted.\n"
	          "535 5.7.8 https://support.google.com/mail/?p=BadCredentials");
	CHECK(strstr(transcript(&r), "ya29") == NULL);
	CHECK_CONTAINS(transcript(&r), "C: AUTH XOAUTH2 [redacted]\n");
	done(&r);
}

static void
test_send_refusals(void)
{
	struct run r;
	const struct mailconn__failure *f;

	static const char *const relay[] = {
		GREETING, EHLO_PIPE, "235 ok\r\n",
		"250 2.1.0 Ok\r\n554 5.7.1 <bcc@example.net>: Relay access "
		"denied\r\n554 5.5.1 Error: no valid recipients\r\n", NULL,
	};
	for (int m = WHOLE; m <= BYTES; m++) {
		f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, relay,
		                   (enum feed_mode)m);
		CHECK_INT(f->outcome, MAILCONN_TEST_SEND);
		CHECK(f->cause == MAILCONN_CAUSE_RELAY_DENIED ||
		      f->cause == MAILCONN_CAUSE_RECIPIENT_REJECTED);
		CHECK_INT(f->stage, MAILCONN_STAGE_TEST_SEND);
		CHECK_INT(f->step, MAILCONN__STEP_RCPT_TO);
		CHECK_STR(f->reply, "554 5.7.1 <bcc@example.net>: Relay access "
		          "denied");
		/* Nothing was sent after DATA. */
		CHECK_STR(client(&r), EHLO_SENT AUTH_SENT ENVELOPE);
		done(&r);
	}

	static const char *const sender[] = {
		GREETING, EHLO_NOPIPE, "235 ok\r\n",
		"553 5.7.1 <user@example.com>: Sender address rejected: not "
		"owned by user\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, sender, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_TEST_SEND);
	CHECK_INT(f->step, MAILCONN__STEP_MAIL_FROM);
	CHECK_STR(client(&r), EHLO_SENT AUTH_SENT
	          "MAIL FROM:<user@example.com>\r\n");
	done(&r);

	static const char *const eod[] = {
		GREETING, EHLO_PIPE, "235 ok\r\n",
		"250 ok\r\n250 ok\r\n354 go\r\n",
		"550 5.7.1 Message rejected as spam\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, eod, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_TEST_SEND);
	CHECK_INT(f->step, MAILCONN__STEP_END_OF_DATA);
	done(&r);

	static const char *const temp[] = {
		GREETING, EHLO_PIPE, "235 ok\r\n",
		"250 ok\r\n250 ok\r\n451 4.3.0 Try again later\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, temp, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_TEST_SEND);
	CHECK_INT(f->step, MAILCONN__STEP_DATA);
	done(&r);

	/* Cut after the message: still stage 5. */
	static const char *const cut[] = {
		GREETING, EHLO_PIPE, "235 ok\r\n",
		"250 ok\r\n250 ok\r\n354 go\r\n", NULL,
	};
	f = expect_failure(&r, MAILCONN__TLS_IMPLICIT, cut, WHOLE);
	CHECK_INT(f->outcome, MAILCONN_TEST_SEND);
	CHECK_INT(f->cause, MAILCONN_CAUSE_CONNECTION_CLOSED);
	CHECK_INT(f->step, MAILCONN__STEP_END_OF_DATA);
	done(&r);
}

static void
test_smtputf8(void)
{
	struct mailconn__engine_params p = params(MAILCONN__TLS_NONE);
	p.mail_from = "jörg@example.com";
	p.message = "Subject: ü\r\n\r\nü\r\n";
	static const char *const offered[] = {
		GREETING,
		"250-x\r\n250-SMTPUTF8\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n",
		"235 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
		"250 ok\r\n", "221 bye\r\n", NULL,
	};
	struct run r;
	play(&r, p, offered, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	/* Plaintext mode sends credentials without STARTTLS (opt-in). */
	CHECK_STR(client(&r), EHLO_SENT AUTH_SENT
	          "MAIL FROM:<jörg@example.com> BODY=8BITMIME SMTPUTF8\r\n"
	          "RCPT TO:<bcc@example.net>\r\nDATA\r\n"
	          "Subject: ü\r\n\r\nü\r\n.\r\nQUIT\r\n");
	done(&r);

	static const char *const missing[] = {
		GREETING, "250-x\r\n250 AUTH PLAIN\r\n", "235 ok\r\n", NULL,
	};
	play(&r, p, missing, WHOLE);
	const struct mailconn__failure *f = mailconn__smtp_failure(r.e);
	CHECK_INT(f->outcome, MAILCONN_TEST_SEND);
	CHECK_INT(f->cause, MAILCONN_CAUSE_MESSAGE_REJECTED);
	CHECK_CONTAINS(f->detail, "SMTPUTF8");
	CHECK_INT(f->stage, MAILCONN_STAGE_TEST_SEND);
	CHECK_INT(f->step, MAILCONN__STEP_MAIL_FROM);
	CHECK_STR(f->reply, "");
	CHECK(strstr(client(&r), "MAIL") == NULL);
	done(&r);
}

static void
test_dot_stuffing(void)
{
	/* A message without a final CRLF gets one before the dot. */
	struct mailconn__engine_params p = params(MAILCONN__TLS_IMPLICIT);
	p.message = ".a\r\n.\r\nb.\r\n.";
	static const char *const turns[] = {
		GREETING, EHLO_PIPE, "235 ok\r\n",
		"250 ok\r\n250 ok\r\n354 go\r\n", "250 ok\r\n", "221 bye\r\n",
		NULL,
	};
	struct run r;
	play(&r, p, turns, WHOLE);
	CHECK_INT(r.last, MAILCONN__ACT_DONE);
	CHECK_CONTAINS(client(&r), "DATA\r\n..a\r\n..\r\nb.\r\n..\r\n.\r\n"
	               "QUIT\r\n");
	CHECK_CONTAINS(transcript(&r), "C: [message: 12 bytes]\nC: .\n");
	done(&r);
}

int
main(void)
{
	test_happy_pipelining(WHOLE);
	test_happy_pipelining(BYTES);
	test_happy_no_pipelining(WHOLE);
	test_happy_no_pipelining(BYTES);
	test_starttls();
	test_starttls_missing();
	test_starttls_injection();
	test_greetings();
	test_malformed();
	test_bounded();
	test_auth_failures();
	test_login_mech();
	test_scram();
	test_mech_policy();
	test_auth_pipelined();
	test_bdat();
	test_plus_fallback();
	test_oauth();
	test_send_refusals();
	test_smtputf8();
	test_dot_stuffing();
	return check_finish();
}
