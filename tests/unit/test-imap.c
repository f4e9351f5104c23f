/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IMAP engine on scripted conversations, fed whole and one byte at a
 * time: exact client bytes, the final action and failure, and no secret in
 * any transcript line, result string or capability text. */
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "check.h"
#include "fixed-crypto.h"
#include "proto/imap.h"

#define USER "alice@mail.test"
#define PASS "s3cr3t-pw"
#define PLAIN_IR "AGFsaWNlQG1haWwudGVzdABzM2NyM3QtcHc="

struct harness {
	struct mailconn__engine_params p;
	struct mailconn__imap *e;
	char sent[65536];         /* client bytes since the last expect_out */
	size_t sent_len;
	char all_sent[131072];    /* every client byte */
	size_t all_len;
	char log[65536];          /* transcript, "C: "/"S: " + line + "\n" */
	size_t log_len;
	int bytewise;
	int bad_terminator;       /* a reported line was not NUL-terminated */
};

static int
contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	if (k == 0 || k > n)
		return 0;
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static void
append(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(dst + *len, s, n);
	*len += n;
	dst[*len] = '\0';
}

static void
on_line(void *ud, mailconn_direction dir, const char *line, size_t len)
{
	struct harness *h = ud;
	if (line[len] != '\0')
		h->bad_terminator = 1;
	append(h->log, sizeof(h->log), &h->log_len,
	       dir == MAILCONN_DIR_SENT ? "C: " : "S: ", 3);
	append(h->log, sizeof(h->log), &h->log_len, line, len);
	append(h->log, sizeof(h->log), &h->log_len, "\n", 1);
}

static void
h_init(struct harness *h, enum mailconn__tls_mode mode, const char *user,
       const char *pass, int bytewise)
{
	memset(h, 0, sizeof(*h));
	h->p.tls_mode = mode;
	h->p.host = "imap.mail.test";
	h->p.username = user;
	h->p.password = pass;
	h->p.on_line = on_line;
	h->p.line_userdata = h;
	h->p.crypto = &mailconn__gnutls_crypto;
	h->bytewise = bytewise;
	h->e = mailconn__imap_new(&h->p);
	CHECK(h->e != NULL);
	CHECK_INT(mailconn__imap_stage(h->e), MAILCONN_STAGE_IMAP_CONNECT);
	if (mode == MAILCONN__TLS_IMPLICIT)
		mailconn__imap_tls_started(h->e, NULL);
}

/* Take everything the engine wants to send, as a driver would; bytewise
 * harnesses also acknowledge one byte per call. */
static void
drain(struct harness *h)
{
	while (mailconn__imap_next(h->e) == MAILCONN__ACT_SEND) {
		const char *d;
		size_t n = mailconn__imap_output(h->e, &d);
		size_t take = h->bytewise ? 1 : n;
		append(h->sent, sizeof(h->sent), &h->sent_len, d, take);
		append(h->all_sent, sizeof(h->all_sent), &h->all_len, d, take);
		mailconn__imap_output_done(h->e, take);
	}
}

static void
server_n(struct harness *h, const char *bytes, size_t n)
{
	drain(h);
	if (!h->bytewise) {
		mailconn__imap_feed(h->e, bytes, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		drain(h);
		mailconn__imap_feed(h->e, bytes + i, 1);
	}
}

#define SERVER(h, lit) server_n((h), (lit), sizeof(lit) - 1)

#define EXPECT_OUT(h, want)                                                  \
	do {                                                                 \
		drain(h);                                                    \
		CHECK_STR((h)->sent, (want));                                \
		(h)->sent_len = 0;                                           \
		(h)->sent[0] = '\0';                                         \
	} while (0)

#define EXPECT_FAIL(h, outcome_, cause_)                                     \
	do {                                                                 \
		drain(h);                                                    \
		CHECK_INT(mailconn__imap_next((h)->e), MAILCONN__ACT_FAILED); \
		CHECK_INT(mailconn__imap_failure((h)->e)->outcome, (outcome_)); \
		CHECK_INT(mailconn__imap_failure((h)->e)->cause, (cause_));  \
	} while (0)

/* The secret never reaches the transcript or results, and reaches the
 * wire only when the scenario allows it. */
static void
h_free(struct harness *h, const char *secret, int secret_may_be_sent)
{
	const struct mailconn__failure *f = mailconn__imap_failure(h->e);
	CHECK(!h->bad_terminator);
	if (secret) {
		CHECK(!contains(h->log, h->log_len, secret));
		CHECK(!contains(f->detail, strlen(f->detail), secret));
		CHECK(!contains(f->reply, strlen(f->reply), secret));
		const char *caps = mailconn__imap_capabilities(h->e);
		CHECK(!contains(caps, strlen(caps), secret));
		if (!secret_may_be_sent)
			CHECK(!contains(h->all_sent, h->all_len, secret));
	}
	mailconn__imap_free(h->e);
}

/* ---- Happy paths ------------------------------------------------------ */

static void
test_implicit_plain_sasl_ir(int bytewise)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_NEED_INPUT);
	EXPECT_OUT(&h, "");
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN LITERAL+] "
	           "Dovecot ready.\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n");
	CHECK_INT(mailconn__imap_stage(h.e), MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_STR(mailconn__imap_mechanism(h.e), "PLAIN");
	CHECK_STR(mailconn__imap_capabilities(h.e),
	          "IMAP4rev1 SASL-IR AUTH=PLAIN LITERAL+");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n");
	EXPECT_OUT(&h, "A2 EXAMINE INBOX\r\n");
	CHECK_STR(mailconn__imap_capabilities(h.e), "IMAP4rev1 IDLE MOVE");
	SERVER(&h, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
	           "* 2 EXISTS\r\n"
	           "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
	           "A2 OK [READ-ONLY] Examine completed (0.001 secs).\r\n");
	EXPECT_OUT(&h, "A3 LOGOUT\r\n");
	/* Done once LOGOUT is out: its reply is not worth a round trip. */
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_DONE);
	SERVER(&h, "* BYE Logging out\r\nA3 OK Logout completed.\r\n");
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_DONE);
	CHECK_INT(mailconn__imap_stage(h.e), MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(mailconn__imap_failure(h.e)->outcome, MAILCONN_OK);
	CHECK_STR(h.log,
	          "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN LITERAL+] "
	          "Dovecot ready.\n"
	          "C: A1 AUTHENTICATE PLAIN [redacted]\n"
	          "S: A1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\n"
	          "C: A2 EXAMINE INBOX\n"
	          "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n"
	          "S: * 2 EXISTS\n"
	          "S: * OK [UIDVALIDITY 1700000000] UIDs valid\n"
	          "S: A2 OK [READ-ONLY] Examine completed (0.001 secs).\n"
	          "C: A3 LOGOUT\n");
	/* Late bytes after DONE are ignored. */
	SERVER(&h, "A9 OK whatever\r\n");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_DONE);
	h_free(&h, PASS, 1);
}

/* EXAMINE and LOGOUT ride with a one-flight LOGIN command; the login's
 * reply still decides, and replies must come in order. */
static void
test_pipelined_login(int bytewise)
{
	struct harness h;

	/* AUTHENTICATE goes alone: Cyrus drops what is pipelined behind it.
	 * EXAMINE and LOGOUT follow its OK together. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n");
	SERVER(&h, "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "A1 NO [AUTHENTICATIONFAILED] Authentication failed.");
	CHECK_INT(mailconn__imap_failure(h.e)->stage, MAILCONN_STAGE_IMAP_LOGIN);
	h_free(&h, PASS, 1);

	/* AUTH=PLAIN without SASL-IR: the LOGIN command, one round trip. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, PASS, 1);

	/* Refused LOGIN: its own reply, whatever the others answer. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A1 NO LOGIN failed\r\nA2 OK [READ-ONLY] sure\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_STR(mailconn__imap_failure(h.e)->reply, "A1 NO LOGIN failed");
	h_free(&h, PASS, 1);

	/* EXAMINE's answer before the login's: an injected or confused
	 * reply, never taken as success. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	drain(&h);
	SERVER(&h, "A2 OK [READ-ONLY] done\r\nA1 OK logged in\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, PASS, 1);

	/* Logged in, INBOX refused: the select step's failure. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	drain(&h);
	SERVER(&h, "A1 OK logged in\r\nA2 NO Mailbox doesn't exist: INBOX\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_MAILBOX_UNAVAILABLE);
	CHECK_INT(mailconn__imap_failure(h.e)->step, MAILCONN__STEP_SELECT);
	h_free(&h, PASS, 1);
}

/* LOGIN command; capabilities only via CAPABILITY; a hang-up after LOGOUT. */
static void
test_implicit_login_command(int bytewise)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK IMAP server ready\r\n");
	EXPECT_OUT(&h, "A1 CAPABILITY\r\n");
	CHECK_INT(mailconn__imap_stage(h.e), MAILCONN_STAGE_IMAP_CONNECT);
	SERVER(&h, "* CAPABILITY IMAP4rev1 ID IDLE\r\nA1 OK done\r\n");
	EXPECT_OUT(&h, "A2 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A3 EXAMINE INBOX\r\nA4 LOGOUT\r\n");
	CHECK_STR(mailconn__imap_mechanism(h.e), "LOGIN");
	/* EXAMINE is already out: no CAPABILITY after the login, though
	 * its OK listed none. */
	SERVER(&h, "A2 OK LOGIN completed\r\n");
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_NEED_INPUT);
	SERVER(&h, "A3 OK [READ-ONLY] EXAMINE completed\r\n");
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_DONE);
	/* The server's BYE and hang-up after LOGOUT change nothing. */
	SERVER(&h, "* BYE bye\r\n");
	mailconn__imap_eof(h.e);
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_DONE);
	CHECK_CONTAINS(h.log, "C: A2 LOGIN \"" USER "\" [redacted]\n");
	h_free(&h, PASS, 1);
}

static void
test_starttls_happy(int bytewise)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, bytewise);
	SERVER(&h, "* OK IMAP ready\r\n");
	EXPECT_OUT(&h, "A1 CAPABILITY\r\n");
	SERVER(&h, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED "
	           "AUTH=FAKE-PLAINTEXT\r\n"
	           "A1 OK Pre-login capabilities listed\r\n");
	EXPECT_OUT(&h, "A2 STARTTLS\r\n");
	SERVER(&h, "* OK [ALERT] said in plaintext\r\nA2 OK Begin TLS now\r\n");
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_START_TLS);
	CHECK_INT(mailconn__imap_stage(h.e), MAILCONN_STAGE_IMAP_CONNECT);

	mailconn__imap_tls_started(h.e, NULL);
	/* Plaintext capabilities are forgotten and asked for again. */
	CHECK_STR(mailconn__imap_capabilities(h.e), "");
	EXPECT_OUT(&h, "A3 CAPABILITY\r\n");
	SERVER(&h, "* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED\r\n"
	           "A3 OK done\r\n");
	CHECK_STR(mailconn__imap_capabilities(h.e),
	          "IMAP4rev1 AUTH=PLAIN LOGINDISABLED");
	/* No SASL-IR and no LOGIN command: the initial response waits for
	 * "+". */
	EXPECT_OUT(&h, "A4 AUTHENTICATE PLAIN\r\n");
	CHECK_INT(mailconn__imap_stage(h.e), MAILCONN_STAGE_IMAP_LOGIN);
	SERVER(&h, "+ \r\n");
	EXPECT_OUT(&h, PLAIN_IR "\r\n");
	SERVER(&h, "A4 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	const struct mailconn__failure *f = mailconn__imap_failure(h.e);
	CHECK_INT(f->stage, MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(f->step, MAILCONN__STEP_AUTHENTICATE);
	/* The plaintext ALERT did not survive into the TLS session. */
	CHECK_STR(f->reply, "A4 NO [AUTHENTICATIONFAILED] Authentication failed.");
	CHECK_STR(h.log,
	          "S: * OK IMAP ready\n"
	          "C: A1 CAPABILITY\n"
	          "S: * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED "
	          "AUTH=FAKE-PLAINTEXT\n"
	          "S: A1 OK Pre-login capabilities listed\n"
	          "C: A2 STARTTLS\n"
	          "S: * OK [ALERT] said in plaintext\n"
	          "S: A2 OK Begin TLS now\n"
	          "C: A3 CAPABILITY\n"
	          "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED\n"
	          "S: A3 OK done\n"
	          "C: A4 AUTHENTICATE PLAIN\n"
	          "S: + \n"
	          "C: [redacted]\n"
	          "S: A4 NO [AUTHENTICATIONFAILED] Authentication failed.\n");
	h_free(&h, PASS, 1);
}

/* STARTTLS from the greeting's capabilities straight to a full login. */
static void
test_starttls_full(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n");
	EXPECT_OUT(&h, "A1 STARTTLS\r\n");
	SERVER(&h, "A1 OK go\r\n");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_START_TLS);
	/* Nothing is sent until the handshake is done. */
	EXPECT_OUT(&h, "");
	mailconn__imap_tls_started(h.e, NULL);
	EXPECT_OUT(&h, "A2 CAPABILITY\r\n");
	SERVER(&h, "* CAPABILITY IMAP4rev2 SASL-IR AUTH=PLAIN\r\nA2 OK done\r\n");
	EXPECT_OUT(&h, "A3 AUTHENTICATE PLAIN " PLAIN_IR "\r\n");
	/* Untagged CAPABILITY before the tagged OK counts as fresh. */
	SERVER(&h, "* CAPABILITY IMAP4rev2 IDLE\r\nA3 OK done\r\n");
	EXPECT_OUT(&h, "A4 EXAMINE INBOX\r\n");
	SERVER(&h, "A4 OK done\r\n");
	EXPECT_OUT(&h, "A5 LOGOUT\r\n");
	SERVER(&h, "A5 OK bye\r\n");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_DONE);
	CHECK_STR(mailconn__imap_capabilities(h.e), "IMAP4rev2 IDLE");
	h_free(&h, PASS, 1);
}

/* ---- STARTTLS attacks ------------------------------------------------- */

static void
test_starttls_not_offered(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_STARTTLS_UNAVAILABLE);
	EXPECT_OUT(&h, "");
	const struct mailconn__failure *f = mailconn__imap_failure(h.e);
	CHECK_INT(f->stage, MAILCONN_STAGE_IMAP_CONNECT);
	CHECK_INT(f->step, MAILCONN__STEP_STARTTLS);
	CHECK_STR(f->detail, "server does not offer STARTTLS (capabilities: "
	                     "IMAP4rev1 LOGINDISABLED)");
	h_free(&h, PASS, 0);

	/* Same through the CAPABILITY command, with AUTH=PLAIN offered. */
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 1);
	SERVER(&h, "* OK hi\r\n");
	EXPECT_OUT(&h, "A1 CAPABILITY\r\n");
	SERVER(&h, "* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\nA1 OK\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_STARTTLS_UNAVAILABLE);
	CHECK_STR(h.all_sent, "A1 CAPABILITY\r\n");
	h_free(&h, PASS, 0);
}

static void
test_starttls_refused(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n");
	EXPECT_OUT(&h, "A1 STARTTLS\r\n");
	SERVER(&h, "A1 NO not today\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_STARTTLS_REFUSED);
	CHECK_STR(mailconn__imap_failure(h.e)->reply, "A1 NO not today");
	CHECK_INT(mailconn__imap_failure(h.e)->step, MAILCONN__STEP_STARTTLS);
	h_free(&h, PASS, 0);
}

static void
test_starttls_injection(int bytewise)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hi\r\n");
	EXPECT_OUT(&h, "A1 STARTTLS\r\n");
	SERVER(&h, "A1 OK Begin TLS\r\nA9 OK LOGIN done\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_STARTTLS_INJECTION);
	/* Never a handshake, never another byte out, even if asked. */
	mailconn__imap_tls_started(h.e, NULL);
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_FAILED);
	CHECK(!contains(h.log, h.log_len, "A9"));
	CHECK_STR(h.all_sent, "A1 STARTTLS\r\n");
	h_free(&h, PASS, 0);

	/* An injected capability list in the same segment: same verdict. */
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n");
	EXPECT_OUT(&h, "A1 STARTTLS\r\n");
	SERVER(&h, "A1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_STARTTLS_INJECTION);
	CHECK_STR(mailconn__imap_capabilities(h.e), "IMAP4rev1 STARTTLS");
	h_free(&h, PASS, 0);
}

static void
test_preauth(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 0);
	SERVER(&h, "* PREAUTH [CAPABILITY IMAP4rev1] welcome back\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_UNEXPECTED_PREAUTH);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->detail, "STARTTLS");
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "* PREAUTH [CAPABILITY IMAP4rev1] welcome back");
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 0);

	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* PREAUTH hi\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_UNEXPECTED_PREAUTH);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->detail, "PREAUTH");
	CHECK_INT(mailconn__imap_failure(h.e)->step, MAILCONN__STEP_GREETING);
	h_free(&h, PASS, 0);
}

/* ---- Greetings -------------------------------------------------------- */

static void
test_greetings(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* BYE Service refused for this client\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_GREETING_REJECTED);
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "* BYE Service refused for this client");
	CHECK_INT(mailconn__imap_failure(h.e)->stage,
	          MAILCONN_STAGE_IMAP_CONNECT);
	h_free(&h, PASS, 0);

	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 1);
	SERVER(&h, "220 smtp.mail.test ESMTP Postfix\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_WRONG_PROTOCOL);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->detail, "SMTP");
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "220 smtp.mail.test ESMTP Postfix");
	h_free(&h, PASS, 0);

	h_init(&h, MAILCONN__TLS_STARTTLS, USER, PASS, 0);
	SERVER(&h, "220-smtp.mail.test ESMTP\r\n220 more\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_WRONG_PROTOCOL);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->detail, "SMTP");
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 0);

	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "HTTP/1.1 400 Bad Request\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, PASS, 0);

	/* Keywords in any case; tags stay exact. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* ok [capability imap4REV1 auth=plain sasl-ir] hi\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n");
	SERVER(&h, "a1 OK done\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, PASS, 1);

	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4 ACL] old\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NO_IMAP4REV1);
	CHECK_INT(mailconn__imap_failure(h.e)->stage,
	          MAILCONN_STAGE_IMAP_CONNECT);
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 0);

	/* EOF before any greeting. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK");
	mailconn__imap_eof(h.e);
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS,
	            MAILCONN_CAUSE_CONNECTION_CLOSED);
	h_free(&h, PASS, 0);
}

/* ---- LOGIN argument encoding ------------------------------------------ */

static void
test_login_quoting(void)
{
	struct harness h;
	const char *pw = "pa\"ss\\wd x";
	h_init(&h, MAILCONN__TLS_IMPLICIT, "bob", pw, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"bob\" \"pa\\\"ss\\\\wd x\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	CHECK_STR(h.log, "S: * OK [CAPABILITY IMAP4rev1] hi\n"
	                 "C: A1 LOGIN \"bob\" [redacted]\n"
	                 "C: A2 EXAMINE INBOX\n"
	                 "C: A3 LOGOUT\n");
	h_free(&h, pw, 1);

	/* Empty strings are valid quoted strings. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, "", "", 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"\" \"\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, NULL, 1);
}

static void
test_login_literals(int bytewise)
{
	struct harness h;
	const char *pw = "p\xc3\xa4sswr\xc3\xb6rd"; /* "pässwrörd", 11 bytes */

	/* Synchronising literal: the bytes wait for "+". */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, pw, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" {11}\r\n");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_NEED_INPUT);
	SERVER(&h, "+ Ready for literal data\r\n");
	EXPECT_OUT(&h, "p\xc3\xa4sswr\xc3\xb6rd\r\n");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1] done\r\n");
	EXPECT_OUT(&h, "A2 EXAMINE INBOX\r\n");
	CHECK_STR(h.log, "S: * OK [CAPABILITY IMAP4rev1] hi\n"
	                 "C: A1 LOGIN \"" USER "\" [redacted]\n"
	                 "S: + Ready for literal data\n"
	                 "S: A1 OK [CAPABILITY IMAP4rev1] done\n"
	                 "C: A2 EXAMINE INBOX\n");
	h_free(&h, pw, 1);

	/* LITERAL+: one write, no wait. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, pw, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" {11+}\r\n"
	               "p\xc3\xa4sswr\xc3\xb6rd\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, pw, 1);

	/* LITERAL- (RFC 7888) for a short value. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, pw, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 LITERAL-] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" {11+}\r\n"
	               "p\xc3\xa4sswr\xc3\xb6rd\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, pw, 1);

	/* UTF-8 user and password: two synchronising literals. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, "j\xc3\xb6rg", pw, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN {5}\r\n");
	SERVER(&h, "+ go\r\n");
	EXPECT_OUT(&h, "j\xc3\xb6rg {11}\r\n");
	SERVER(&h, "+ go\r\n");
	EXPECT_OUT(&h, "p\xc3\xa4sswr\xc3\xb6rd\r\n");
	SERVER(&h, "+ again\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, pw, 1);

	/* A server that says OK before taking the password has not
	 * verified anything. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, pw, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" {11}\r\n");
	SERVER(&h, "A1 OK welcome\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	EXPECT_OUT(&h, "");
	h_free(&h, pw, 0);

	/* A refusal of the literal ends the login with the classifier's
	 * verdict, the literal never sent. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, pw, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" {11}\r\n");
	SERVER(&h, "A1 NO [AUTHENTICATIONFAILED] no literals for you\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_INT(mailconn__imap_failure(h.e)->step, MAILCONN__STEP_LOGIN);
	h_free(&h, pw, 0);
}

/* ---- Mechanism choice ------------------------------------------------- */

static void
test_logindisabled(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=GSSAPI] x\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	CHECK_INT(mailconn__imap_failure(h.e)->stage, MAILCONN_STAGE_IMAP_LOGIN);
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 0);

	/* Plaintext chosen by the user, but the server wants TLS. */
	h_init(&h, MAILCONN__TLS_NONE, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] x\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS,
	            MAILCONN_CAUSE_AUTH_PRIVACY_REQUIRED);
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 0);

	/* LOGINDISABLED with a SASL mechanism: use it. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE PLAIN\r\n");
	h_free(&h, PASS, 0);

	/* Only SASL LOGIN usable: AUTHENTICATE LOGIN, no initial response
	 * even with SASL-IR. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED SASL-IR "
	           "AUTH=LOGIN] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE LOGIN\r\n");
	SERVER(&h, "+ VXNlcm5hbWU6\r\n");
	EXPECT_OUT(&h, "YWxpY2VAbWFpbC50ZXN0\r\n");
	/* OK before the password was asked for: not verified. */
	SERVER(&h, "A1 OK fine\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, PASS, 0);

	/* Plaintext chosen: LOGIN goes out without STARTTLS. */
	h_init(&h, MAILCONN__TLS_NONE, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 STARTTLS] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, PASS, 1);
}

static void
test_oauth2(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, NULL, 0);
	h.p.oauth2_token = "tok-EN-42";
	mailconn__imap_free(h.e);
	h.e = mailconn__imap_new(&h.p);
	mailconn__imap_tls_started(h.e, NULL);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN "
	           "AUTH=XOAUTH2] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE XOAUTH2 "
	               "dXNlcj1hbGljZUBtYWlsLnRlc3QBYXV0aD1CZWFyZXIgdG9rLUVOLTQy"
	               "AQE=\r\n");
	CHECK_STR(mailconn__imap_mechanism(h.e), "XOAUTH2");
	/* Google's JSON error challenge gets an empty answer. */
	SERVER(&h, "+ eyJzdGF0dXMiOiI0MDEifQ==\r\n");
	EXPECT_OUT(&h, "\r\n");
	SERVER(&h, "A1 NO [AUTHENTICATIONFAILED] Invalid credentials "
	           "(Failure)\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_STR(h.log, "S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN "
	                 "AUTH=XOAUTH2] x\n"
	                 "C: A1 AUTHENTICATE XOAUTH2 [redacted]\n"
	                 "S: + eyJzdGF0dXMiOiI0MDEifQ==\n"
	                 "C: [redacted]\n"
	                 "S: A1 NO [AUTHENTICATIONFAILED] Invalid credentials "
	                 "(Failure)\n");
	h_free(&h, "tok-EN-42", 1);

	/* A token never falls back to a password mechanism. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, NULL, 0);
	h.p.oauth2_token = "tok-EN-42";
	mailconn__imap_free(h.e);
	h.e = mailconn__imap_new(&h.p);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] x\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	EXPECT_OUT(&h, "");
	h_free(&h, "tok-EN-42", 0);
}

/* RFC 7677 section 3: user "user", password "pencil". */
#define SCRAM_C1 "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8="
#define SCRAM_S1 "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJ" \
                 "bGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQw" \
                 "OTY="
#define SCRAM_C2 "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFU" \
                 "Q0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0" \
                 "YWc5empmTUhnc3FtbWl6N0FuZFZRPQ=="
#define SCRAM_S2 "dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5" \
                 "NUc0PQ=="
#define SCRAM_S2_BAD "dj1BQUFBVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJz" \
                     "amw5NUc0PQ=="

static void
scram_init(struct harness *h, int bytewise)
{
	h_init(h, MAILCONN__TLS_IMPLICIT, "user", "pencil", bytewise);
	h->p.crypto = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	mailconn__imap_free(h->e);
	h->e = mailconn__imap_new(&h->p);
	/* Accepted unverified, so SCRAM goes first. */
	mailconn__imap_tls_unverified(h->e);
	mailconn__imap_tls_started(h->e, NULL);
}

static void
test_scram(int bytewise)
{
	struct harness h;
	scram_init(&h, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256-PLUS "
	           "AUTH=SCRAM-SHA-256 AUTH=PLAIN] x\r\n");
	/* No channel binding given: plain SCRAM-SHA-256, no SASL-IR. */
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256\r\n");
	CHECK_STR(mailconn__imap_mechanism(h.e), "SCRAM-SHA-256");
	SERVER(&h, "+ \r\n");
	EXPECT_OUT(&h, SCRAM_C1 "\r\n");
	SERVER(&h, "+ " SCRAM_S1 "\r\n");
	EXPECT_OUT(&h, SCRAM_C2 "\r\n");
	SERVER(&h, "+ " SCRAM_S2 "\r\n");
	EXPECT_OUT(&h, "\r\n");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1] Logged in\r\n");
	EXPECT_OUT(&h, "A2 EXAMINE INBOX\r\n");
	CHECK_STR(h.log, "S: * OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256-PLUS "
	                 "AUTH=SCRAM-SHA-256 AUTH=PLAIN] x\n"
	                 "S: logging in with SCRAM-SHA-256: the certificate is "
	                 "not verified, so the password is sent in a "
	                 "recoverable form only if the server offers nothing "
	                 "better\n"
	                 "C: A1 AUTHENTICATE SCRAM-SHA-256\n"
	                 "S: + \n"
	                 "C: [redacted]\n"
	                 "S: + " SCRAM_S1 "\n"
	                 "C: [redacted]\n"
	                 "S: + " SCRAM_S2 "\n"
	                 "C: [redacted]\n"
	                 "S: A1 OK [CAPABILITY IMAP4rev1] Logged in\n"
	                 "C: A2 EXAMINE INBOX\n");
	h_free(&h, "pencil", 0);

	/* A server that does not know the password: cancel with "*". */
	scram_init(&h, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256 " SCRAM_C1 "\r\n");
	SERVER(&h, "+ " SCRAM_S1 "\r\n");
	EXPECT_OUT(&h, SCRAM_C2 "\r\n");
	SERVER(&h, "+ " SCRAM_S2_BAD "\r\n");
	EXPECT_OUT(&h, "*\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	CHECK_INT(mailconn__imap_failure(h.e)->stage, MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(mailconn__imap_failure(h.e)->step,
	          MAILCONN__STEP_AUTHENTICATE);
	CHECK_CONTAINS(h.log, "C: *\n");
	h_free(&h, "pencil", 0);

	/* Success claimed without the server-final message. */
	scram_init(&h, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256 " SCRAM_C1 "\r\n");
	SERVER(&h, "+ " SCRAM_S1 "\r\n");
	EXPECT_OUT(&h, SCRAM_C2 "\r\n");
	SERVER(&h, "A1 OK welcome\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	EXPECT_OUT(&h, "");
	h_free(&h, "pencil", 0);

	/* A challenge that is not base64: cancelled as a protocol error. */
	scram_init(&h, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256 " SCRAM_C1 "\r\n");
	SERVER(&h, "+ not base64!\r\n");
	EXPECT_OUT(&h, "*\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, "pencil", 0);
}

static void
test_scram_plus(void)
{
	static const unsigned char binding[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mailconn__channel_binding cb = { "tls-exporter", binding, 32 };
	struct harness h;

	h_init(&h, MAILCONN__TLS_IMPLICIT, "user", "pencil", 0);
	h.p.crypto = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	mailconn__imap_free(h.e);
	h.e = mailconn__imap_new(&h.p);
	mailconn__imap_tls_unverified(h.e);
	mailconn__imap_tls_started(h.e, &cb);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256 "
	           "AUTH=SCRAM-SHA-256-PLUS] x\r\n");
	/* base64("p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO") */
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS "
	               "cD10bHMtZXhwb3J0ZXIsLG49dXNlcixyPXJPcHJOR2Z3RWJlUldnYk5F"
	               "a3FP\r\n");
	CHECK_STR(mailconn__imap_mechanism(h.e), "SCRAM-SHA-256-PLUS");
	h_free(&h, "pencil", 0);
}

#define PLUS_C1 "cD10bHMtZXhwb3J0ZXIsLG49dXNlcixyPXJPcHJOR2Z3RWJlUldnYk5Fa3FP"

/* A harness over implicit TLS with a channel binding; `unverified` as the
 * driver reports a certificate accepted by the user's leave. */
static void
bound_init(struct harness *h, int unverified, const char *mechanisms)
{
	static const unsigned char binding[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mailconn__channel_binding cb = { "tls-exporter", binding, 32 };
	h_init(h, MAILCONN__TLS_IMPLICIT, "user", "pencil", 0);
	h->p.crypto = fixed_crypto("rOprNGfwEbeRWgbNEkqO");
	h->p.mechanisms = mechanisms;
	mailconn__imap_free(h->e);
	h->e = mailconn__imap_new(&h->p);
	if (unverified)
		mailconn__imap_tls_unverified(h->e);
	mailconn__imap_tls_started(h->e, &cb);
}

static void
test_mech_policy(void)
{
	struct harness h;

	/* Verified: PLAIN inline, one round trip, -PLUS notwithstanding. */
	bound_init(&h, 0, NULL);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256-PLUS "
	           "AUTH=SCRAM-SHA-256 AUTH=PLAIN] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE PLAIN AHVzZXIAcGVuY2ls\r\n");
	CHECK_STR(mailconn__imap_mechanism(h.e), "PLAIN");
	h_free(&h, "pencil", 1);

	/* No PLAIN: the LOGIN command, still one round trip. */
	bound_init(&h, 0, NULL);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"user\" \"pencil\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, "pencil", 1);

	/* LOGIN disabled and no PLAIN: SCRAM. */
	bound_init(&h, 0, NULL);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGINDISABLED "
	           "AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256 eSwsbj11c2VyLHI9ck9wck5H"
	               "ZndFYmVSV2diTkVrcU8=\r\n");
	h_free(&h, "pencil", 0);

	/* Unverified: -PLUS first, and the transcript says why. */
	bound_init(&h, 1, NULL);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN "
	           "AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-256-PLUS] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	CHECK_CONTAINS(h.log, "logging in with SCRAM-SHA-256-PLUS: the "
	               "certificate is not verified");
	h_free(&h, "pencil", 0);

	/* The caller's order rules; "LOGIN" is the LOGIN command. */
	bound_init(&h, 1, "login,plain");
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN "
	           "AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"user\" \"pencil\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	h_free(&h, "pencil", 1);
	bound_init(&h, 0, "SCRAM-SHA-256-PLUS,PLAIN");
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN "
	           "AUTH=SCRAM-SHA-256-PLUS] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	h_free(&h, "pencil", 0);

	/* None of the list offered: nothing is sent. */
	bound_init(&h, 0, "PLAIN");
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] x\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	EXPECT_OUT(&h, "");
	h_free(&h, "pencil", 0);
}

static void
test_plus_fallback(int bytewise)
{
	struct harness h;
	static const char caps[] = "* OK [CAPABILITY IMAP4rev1 SASL-IR "
	                           "AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 "
	                           "AUTH=PLAIN] x\r\n";

	/* Cyrus over TLS 1.3: tls-exporter unknown, "bad protocol". The
	 * retry goes without the binding ("n,,"), and the right password
	 * passes. */
	bound_init(&h, 1, NULL);
	h.bytewise = bytewise;
	SERVER(&h, caps);
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	SERVER(&h, "A1 NO bad protocol / cancel\r\n");
	EXPECT_OUT(&h, "A2 AUTHENTICATE SCRAM-SHA-256 " SCRAM_C1 "\r\n");
	CHECK_CONTAINS(h.log, "S: SCRAM-SHA-256-PLUS was refused, which does "
	               "not prove the password wrong");
	SERVER(&h, "+ " SCRAM_S1 "\r\n");
	EXPECT_OUT(&h, SCRAM_C2 "\r\n");
	SERVER(&h, "+ " SCRAM_S2 "\r\n");
	EXPECT_OUT(&h, "\r\n");
	SERVER(&h, "A2 OK [CAPABILITY IMAP4rev1] Logged in\r\n");
	EXPECT_OUT(&h, "A3 EXAMINE INBOX\r\n");
	CHECK_STR(mailconn__imap_mechanism(h.e),
	          "SCRAM-SHA-256 (after SCRAM-SHA-256-PLUS was refused)");
	h_free(&h, "pencil", 0);

	/* GNU imap4d, wrong password: both refused, the second reply is the
	 * verdict, and there is no third attempt. */
	bound_init(&h, 1, NULL);
	h.bytewise = bytewise;
	SERVER(&h, caps);
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	SERVER(&h, "A1 NO AUTHENTICATE SCRAM-SHA-256-PLUS authentication "
	           "failed\r\n");
	EXPECT_OUT(&h, "A2 AUTHENTICATE SCRAM-SHA-256 " SCRAM_C1 "\r\n");
	SERVER(&h, "+ " SCRAM_S1 "\r\n");
	EXPECT_OUT(&h, SCRAM_C2 "\r\n");
	SERVER(&h, "A2 NO AUTHENTICATE SCRAM-SHA-256 authentication failed\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->reply, "A2 NO");
	EXPECT_OUT(&h, "");
	h_free(&h, "pencil", 0);

	/* The server's "e=" to the -PLUS proof: cancel, retry on the BAD. */
	bound_init(&h, 1, NULL);
	h.bytewise = bytewise;
	SERVER(&h, caps);
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	SERVER(&h, "+ " SCRAM_S1 "\r\n");
	drain(&h);
	h.sent_len = 0;
	h.sent[0] = '\0';
	/* base64("e=channel-bindings-dont-match") */
	SERVER(&h, "+ ZT1jaGFubmVsLWJpbmRpbmdzLWRvbnQtbWF0Y2g=\r\n");
	EXPECT_OUT(&h, "*\r\n");
	SERVER(&h, "A1 BAD AUTHENTICATE cancelled\r\n");
	EXPECT_OUT(&h, "A2 AUTHENTICATE SCRAM-SHA-256 " SCRAM_C1 "\r\n");
	h_free(&h, "pencil", 0);

	/* BYE ends it: no retry on a closing connection. */
	bound_init(&h, 1, NULL);
	h.bytewise = bytewise;
	SERVER(&h, caps);
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	SERVER(&h, "* BYE too many errors\r\n");
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_FAILED);
	h_free(&h, "pencil", 0);

	/* Only -PLUS offered: no retry, and never "wrong credentials". */
	bound_init(&h, 1, NULL);
	h.bytewise = bytewise;
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGINDISABLED "
	           "AUTH=SCRAM-SHA-256-PLUS] x\r\n");
	EXPECT_OUT(&h, "A1 AUTHENTICATE SCRAM-SHA-256-PLUS " PLUS_C1 "\r\n");
	SERVER(&h, "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
	EXPECT_OUT(&h, "");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_FAILED);
	CHECK(mailconn__imap_failure(h.e)->outcome != MAILCONN_UNAUTHORIZED);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->detail,
	               "does not prove the password wrong");
	h_free(&h, "pencil", 0);
}

/* ---- Refusals after login and other server faults -------------------- */

static void
test_refusals(void)
{
	struct harness h;

	/* Untagged warnings are part of the reply; tagged line last. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "* OK [ALERT] Check your password\r\n"
	           "* OK [UNSEEN 3] not kept\r\n"
	           "* BAD [ALERT] second\r\n"
	           "A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
	EXPECT_FAIL(&h, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "* OK [ALERT] Check your password\n"
	          "* BAD [ALERT] second\n"
	          "A1 NO [AUTHENTICATIONFAILED] Authentication failed.");
	CHECK_INT(mailconn__imap_failure(h.e)->step, MAILCONN__STEP_LOGIN);
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 1);

	/* A server echoing the password never gets it into results. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A1 BAD Error in command LOGIN \"" USER "\" \"" PASS
	           "\"\r\n");
	drain(&h);
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_FAILED);
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "A1 BAD Error in command LOGIN \"" USER "\" \"[redacted]\"");
	CHECK_CONTAINS(h.log, "S: A1 BAD Error in command LOGIN \"" USER
	                      "\" \"[redacted]\"\n");
	h_free(&h, PASS, 1);

	/* EXAMINE refused. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1] in\r\n");
	EXPECT_OUT(&h, "");
	SERVER(&h, "A2 NO Mailbox doesn't exist: INBOX\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_MAILBOX_UNAVAILABLE);
	CHECK_INT(mailconn__imap_failure(h.e)->step, MAILCONN__STEP_SELECT);
	CHECK_INT(mailconn__imap_failure(h.e)->stage, MAILCONN_STAGE_IMAP_LOGIN);
	h_free(&h, PASS, 1);

	/* BYE after the login. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1] in\r\n");
	EXPECT_OUT(&h, "");
	SERVER(&h, "* BYE Internal error occurred.\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_SERVER_BYE);
	CHECK_STR(mailconn__imap_failure(h.e)->reply,
	          "* BYE Internal error occurred.");
	h_free(&h, PASS, 1);

	/* EOF in the middle of the login. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 1);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "* NO [ALERT] going down\r\nA1 O");
	mailconn__imap_eof(h.e);
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_CONNECTION_CLOSED);
	CHECK_INT(mailconn__imap_failure(h.e)->stage, MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_STR(mailconn__imap_failure(h.e)->reply, "* NO [ALERT] going down");
	h_free(&h, PASS, 1);

	/* A tag we never sent, and an answer to a command not yet sent. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A7 OK LOGIN done\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	h_free(&h, PASS, 1);

	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\nA1 OK predicted\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	/* The LOGIN was dropped with the failure, never sent. */
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 0);
}

/* ---- Hostile framing -------------------------------------------------- */

static void
test_literals_from_server(int bytewise)
{
	struct harness h;

	/* A literal's bytes are skipped, not parsed, even when they look
	 * like a tagged OK. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1] in\r\n");
	EXPECT_OUT(&h, "");
	SERVER(&h, "* 1 FETCH (BODY[] {12}\r\nA2 OK fake\r\n)\r\n"
	           "* LIST () \"/\" {5}\r\nINBOX\r\n");
	CHECK_INT(mailconn__imap_next(h.e), MAILCONN__ACT_NEED_INPUT);
	EXPECT_OUT(&h, "");
	SERVER(&h, "A2 OK done\r\n");
	EXPECT_OUT(&h, "");
	h_free(&h, PASS, 1);

	/* A 4 GiB literal: refused at once, nothing allocated for it. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1] x\r\n");
	EXPECT_OUT(&h, "A1 LOGIN \"" USER "\" \"" PASS "\"\r\n"
	               "A2 EXAMINE INBOX\r\nA3 LOGOUT\r\n");
	SERVER(&h, "A1 OK [CAPABILITY IMAP4rev1] in\r\n");
	EXPECT_OUT(&h, "");
	SERVER(&h, "* 1 FETCH (BODY[] {4294967295}\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_LINE_TOO_LONG);
	CHECK_CONTAINS(mailconn__imap_failure(h.e)->detail, "4294967295");
	h_free(&h, PASS, 1);

	/* In stage 1 the same is a settings problem; a number too big for
	 * 64 bits does not wrap around. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, bytewise);
	SERVER(&h, "* OK x\r\n");
	EXPECT_OUT(&h, "A1 CAPABILITY\r\n");
	SERVER(&h, "* XX {99999999999999999999999999}\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_LINE_TOO_LONG);
	h_free(&h, PASS, 0);
}

static void
test_long_lines(void)
{
	struct harness h;
	size_t big = 100 * 1024;
	char *junk = malloc(big);
	CHECK(junk != NULL);
	if (!junk)
		return;
	memset(junk, 'x', big);

	/* One 100 kB chunk without CRLF. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
#ifdef __GLIBC__
	size_t before = mallinfo2().uordblks;
#endif
	server_n(&h, junk, big);
#ifdef __GLIBC__
	/* Bounded: far less than the 100 kB fed. */
	CHECK(mallinfo2().uordblks < before + 48 * 1024);
#endif
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_LINE_TOO_LONG);
	CHECK_INT(strlen(mailconn__imap_failure(h.e)->reply), 256);
	h_free(&h, PASS, 0);

	/* Byte by byte: the failure comes right past the limit. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	size_t fed = 0;
	while (fed < big && mailconn__imap_next(h.e) == MAILCONN__ACT_NEED_INPUT)
		mailconn__imap_feed(h.e, junk + fed++, 1);
	CHECK_INT(fed, MAILCONN__MAX_LINE + 2);
	EXPECT_FAIL(&h, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_LINE_TOO_LONG);
	h_free(&h, PASS, 0);

	/* A line of exactly the limit is fine; a bare LF is just a byte. */
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	memcpy(junk, "* OK ", 5);
	junk[100] = '\n';
	memcpy(junk + MAILCONN__MAX_LINE, "\r\n", 2);
	server_n(&h, junk, MAILCONN__MAX_LINE + 2);
	EXPECT_OUT(&h, "A1 CAPABILITY\r\n");
	h_free(&h, PASS, 0);
	free(junk);
}

static void
test_nul_bytes(void)
{
	struct harness h;
	h_init(&h, MAILCONN__TLS_IMPLICIT, USER, PASS, 0);
	SERVER(&h, "* OK [CAPABILITY IMAP4rev1 X\0Y AUTH=PLAIN SASL-IR] x\0y\r\n");
	/* The atom with a NUL is dropped, the rest kept. */
	CHECK_STR(mailconn__imap_capabilities(h.e), "IMAP4rev1 AUTH=PLAIN SASL-IR");
	EXPECT_OUT(&h, "A1 AUTHENTICATE PLAIN " PLAIN_IR "\r\n");
	SERVER(&h, "* 3 EXI\0STS\r\nA1\0 OK\r\n");
	EXPECT_FAIL(&h, MAILCONN_IMAP_VALIDATION,
	            MAILCONN_CAUSE_PROTOCOL_ERROR);
	CHECK_STR(mailconn__imap_failure(h.e)->reply, "A1? OK");
	h_free(&h, PASS, 0);
}

int
main(void)
{
	for (int bytewise = 0; bytewise <= 1; bytewise++) {
		test_implicit_plain_sasl_ir(bytewise);
		test_implicit_login_command(bytewise);
		test_pipelined_login(bytewise);
		test_starttls_happy(bytewise);
		test_starttls_injection(bytewise);
		test_login_literals(bytewise);
		test_scram(bytewise);
		test_plus_fallback(bytewise);
		test_literals_from_server(bytewise);
	}
	test_starttls_full();
	test_starttls_not_offered();
	test_starttls_refused();
	test_preauth();
	test_greetings();
	test_login_quoting();
	test_logindisabled();
	test_oauth2();
	test_scram_plus();
	test_mech_policy();
	test_refusals();
	test_long_lines();
	test_nul_bytes();
	return check_finish();
}
