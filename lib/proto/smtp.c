/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sans-I/O SMTP submission engine for stages 3-5 (RFC 5321, 3207, 4954,
 * 3463, 2920): one login attempt, one test message, typed failures. This
 * half sequences the commands; smtp-reply.c reads the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "proto/message.h"
#include "proto/smtp-int.h"

static int
is_scram(enum mailconn__mech m)
{
	return m == MAILCONN__MECH_SCRAM_SHA_256 ||
	       m == MAILCONN__MECH_SCRAM_SHA_256_PLUS;
}

/* Copy printable decoded bytes for a detail text; never a secret, since
 * only server challenges come here. */
static void
note_challenge(struct mailconn__smtp *e, const char *what,
               const unsigned char *p, size_t len)
{
	size_t o = (size_t)snprintf(e->sasl_note, sizeof(e->sasl_note),
	                            "%s: ", what);
	for (size_t i = 0; i < len && o + 1 < sizeof(e->sasl_note); i++)
		e->sasl_note[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i]
		                                                 : '?';
	e->sasl_note[o] = '\0';
}

/* ---- stage 3: greeting, EHLO, STARTTLS -------------------------------- */

static void
send_ehlo(struct mailconn__smtp *e)
{
	const char *name = e->p.client_name && *e->p.client_name ?
	                   e->p.client_name : "localhost";
	smtp_send_cmd(e, EX_EHLO, "EHLO %s", name);
}

static void begin_auth(struct mailconn__smtp *e);

static void
on_greeting(struct mailconn__smtp *e, int code)
{
	if (code == 220) {
		send_ehlo(e);
		return;
	}
	if (code >= 400)
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_GREETING_REJECTED,
		          "the server refused service in its greeting (%d)",
		          code);
	else
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "unexpected greeting code %d (expected 220)", code);
}

static void
on_ehlo(struct mailconn__smtp *e, int code)
{
	if (code != 250) {
		/* HELO would do for plain relaying, but we always need AUTH,
		 * which only EHLO can announce. */
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_EHLO_REJECTED,
		          "the server refused EHLO (%d)", code);
		return;
	}
	if (smtp_parse_ehlo(e)) {
		smtp_fail_nomem(e);
		return;
	}
	if (e->p.tls_mode == MAILCONN__TLS_STARTTLS && !e->tls_active) {
		if (!e->has_starttls) {
			smtp_fail(e, MAILCONN_SMTP_SETTINGS,
			          MAILCONN_CAUSE_STARTTLS_UNAVAILABLE,
			          "STARTTLS is not offered in the EHLO reply; "
			          "no credentials were sent");
			return;
		}
		smtp_send_cmd(e, EX_STARTTLS, "STARTTLS");
		return;
	}
	begin_auth(e);
}

static void
on_starttls(struct mailconn__smtp *e, int code)
{
	if (code != 220) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_STARTTLS_REFUSED,
		          "the server refused STARTTLS (%d); no credentials were "
		          "sent", code);
		return;
	}
	e->rs = RS_TLS_WAIT;
}

/* ---- stage 4: AUTH ---------------------------------------------------- */

/* Only a certificate accepted unverified changes the usual choice, so
 * only then does the transcript say why: the user sees that the password
 * was kept from a possible interceptor where the server allowed. */
static void
note_choice(struct mailconn__smtp *e, int exposed)
{
	char note[200];
	if (!exposed || !e->tls_active || e->p.mechanisms)
		return;
	int n = snprintf(note, sizeof(note), "logging in with %s: the "
	                 "certificate is not verified, so the password is sent "
	                 "in a recoverable form only if the server offers "
	                 "nothing better", mailconn__mech_name(e->mech));
	if (n > 0)
		smtp_report(e, MAILCONN_DIR_INFO, note,
		            (size_t)n < sizeof(note) ? (size_t)n : sizeof(note) - 1);
}

static void start_mech(struct mailconn__smtp *e, int have_binding);
static void pipeline_envelope(struct mailconn__smtp *e);

static void
begin_auth(struct mailconn__smtp *e)
{
	e->stage = MAILCONN_STAGE_SMTP_LOGIN;
	if (e->p.tls_mode != MAILCONN__TLS_NONE && !e->tls_active) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_AUTH_INSECURE,
		          "refusing to log in over an unencrypted connection");
		return;
	}
	if (!e->has_auth) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_AUTH_NOT_OFFERED,
		          "the server does not offer AUTH%s",
		          e->tls_active ? "" : " (some servers offer it only "
		                          "after STARTTLS)");
		return;
	}
	struct mailconn__mech_policy pol = {
		.have_password = e->p.password != NULL,
		.have_token = e->p.oauth2_token != NULL,
		.have_binding = e->tls_active && e->cb.type != NULL,
		.exposed = e->cert_unverified || !e->tls_active,
		.order = e->p.mechanisms,
	};
	e->mech = mailconn__sasl_pick(e->mechs.data ? e->mechs.data : "", &pol);
	if (e->mech == MAILCONN__MECH_NONE) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_AUTH_NO_MECHANISM,
		          "no %s %s mechanism among those offered: %.200s",
		          e->p.mechanisms ? "configured" : "supported",
		          e->p.oauth2_token ? "OAuth2" : "password",
		          e->mechs.data ? e->mechs.data : "");
		return;
	}
	note_choice(e, pol.exposed);
	start_mech(e, pol.have_binding);
}

/* Send the first command of the chosen mechanism's exchange. */
static void
start_mech(struct mailconn__smtp *e, int have_binding)
{
	int oauth = e->mech == MAILCONN__MECH_XOAUTH2 ||
	            e->mech == MAILCONN__MECH_OAUTHBEARER;
	const char *secret = oauth ? e->p.oauth2_token : e->p.password;
	e->sasl = mailconn__sasl_new(e->mech, e->p.username, secret, e->p.host,
	                             e->p.port, have_binding ? &e->cb : NULL,
	                             e->p.crypto);
	if (!e->sasl) {
		smtp_fail_nomem(e);
		return;
	}

	const char *name = mailconn__mech_name(e->mech);
	struct mailconn__buf ir, line;
	mailconn__buf_init(&ir, SASL_BUF_LIMIT);
	mailconn__buf_init(&line, 2 * SASL_BUF_LIMIT);
	enum mailconn__sasl_status st = mailconn__sasl_start(e->sasl, &ir);
	if (st == MAILCONN__SASL_ERROR) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          mailconn__sasl_error_cause(e->sasl),
		          "cannot start %s", name);
	} else if (e->mech == MAILCONN__MECH_LOGIN) {
		smtp_send_cmd(e, EX_AUTH, "AUTH LOGIN");
	} else {
		/* RFC 4954 initial response, "=" when empty. */
		char shown[64];
		snprintf(shown, sizeof(shown), "AUTH %s [redacted]", name);
		int rc = mailconn__buf_printf(&line, "AUTH %s ", name);
		if (!rc)
			rc = ir.len ? mailconn__b64_encode(
			                      (const unsigned char *)ir.data,
			                      ir.len, &line)
			            : mailconn__buf_append(&line, "=", 1);
		if (rc)
			smtp_fail_nomem(e);
		else if (smtp_send_line(e, line.data, line.len, shown) == 0) {
			smtp_expect_reply(e, EX_AUTH);
			pipeline_envelope(e);
		}
	}
	mailconn__buf_free(&ir);
	mailconn__buf_free(&line);
}

/* A refused SCRAM-SHA-256-PLUS says nothing about the password: servers
 * offer it and then cannot check our channel binding, and since the
 * binding is part of the proof, even a right password fails. One more
 * attempt without the binding is allowed; its verdict is the one
 * reported. */
static int
can_retry_unbound(const struct mailconn__smtp *e)
{
	enum mailconn__mech m = mailconn__mech_unbound(e->mech);
	struct mailconn__mech_policy pol = {
		.have_password = 1, .order = mailconn__mech_name(m),
	};
	return !e->unbound_retry && m != MAILCONN__MECH_NONE && e->p.password &&
	       mailconn__mech_allowed(e->p.mechanisms, m) &&
	       mailconn__sasl_pick(e->mechs.data ? e->mechs.data : "", &pol) == m;
}

static void
retry_unbound(struct mailconn__smtp *e)
{
	enum mailconn__mech m = mailconn__mech_unbound(e->mech);
	char note[200];
	int n = snprintf(note, sizeof(note), "%s was refused, which does not "
	                 "prove the password wrong (the server may not support "
	                 "the channel binding); trying once more with %s",
	                 mailconn__mech_name(e->mech), mailconn__mech_name(m));
	smtp_report(e, MAILCONN_DIR_INFO, note,
	            (size_t)n < sizeof(note) ? (size_t)n : sizeof(note) - 1);
	smtp_drop_sasl(e);
	e->sasl_note[0] = '\0';
	e->unbound_retry = 1;
	e->mech = m;
	/* Without the binding: "y" would tell a server that offers -PLUS to
	 * treat the retry as a downgrade and refuse it too. */
	start_mech(e, 0);
}

static void
on_auth_challenge(struct mailconn__smtp *e)
{
	const char *text;
	size_t tlen;
	smtp_first_line_text(e, &text, &tlen);

	struct mailconn__buf chal, resp, line;
	mailconn__buf_init(&chal, SASL_BUF_LIMIT);
	mailconn__buf_init(&resp, SASL_BUF_LIMIT);
	mailconn__buf_init(&line, 2 * SASL_BUF_LIMIT);
	int rc = mailconn__b64_decode(text, tlen, &chal);
	if (rc) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "the AUTH challenge is not valid base64");
		goto out;
	}
	const unsigned char *cp = (const unsigned char *)(chal.data ?
	                                                  chal.data : "");
	enum mailconn__sasl_status st = mailconn__sasl_step(e->sasl, cp,
	                                                    chal.len, &resp);
	mailconn_cause cause = mailconn__sasl_error_cause(e->sasl);
	if (st == MAILCONN__SASL_ERROR) {
		if (cause == MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE)
			smtp_fail(e, MAILCONN_SMTP_SETTINGS, cause,
			          "the server's SCRAM signature did not verify: this "
			          "may not be the real server");
		else if (cause == MAILCONN_CAUSE_AUTH_REJECTED &&
		         can_retry_unbound(e)) {
			/* Cancel (RFC 4954 4) and retry on the refusal of
			 * the cancel. */
			note_challenge(e, "SCRAM", cp, chal.len);
			if (smtp_send_line(e, "*", 1, NULL) == 0)
				smtp_expect_reply(e, EX_AUTH);
		} else if (cause == MAILCONN_CAUSE_AUTH_REJECTED) {
			/* A -PLUS proof refused: see mailconn__pp_plus_unproven. */
			note_challenge(e, "SCRAM", cp, chal.len);
			smtp_fail(e, e->mech == MAILCONN__MECH_SCRAM_SHA_256_PLUS
			          ? MAILCONN_SMTP_SETTINGS : MAILCONN_UNAUTHORIZED,
			          cause,
			          "the server refused the login; %s",
			          e->sasl_note);
		} else
			smtp_fail(e, MAILCONN_SMTP_SETTINGS,
			          MAILCONN_CAUSE_PROTOCOL_ERROR,
			          "unexpected or malformed %s challenge",
			          mailconn__mech_name(e->mech));
		goto out;
	}
	if (cause == MAILCONN_CAUSE_AUTH_REJECTED && !e->sasl_note[0])
		note_challenge(e, mailconn__mech_name(e->mech), cp, chal.len);
	rc = mailconn__b64_encode((const unsigned char *)(resp.data ?
	                                                  resp.data : ""),
	                          resp.len, &line);
	if (rc) {
		smtp_fail_nomem(e);
		goto out;
	}
	if (smtp_send_line(e, line.data ? line.data : "", line.len,
	                   "[redacted]") == 0)
		smtp_expect_reply(e, EX_AUTH);
out:
	mailconn__buf_free(&chal);
	mailconn__buf_free(&resp);
	mailconn__buf_free(&line);
}

static void begin_send(struct mailconn__smtp *e);

static void
on_auth(struct mailconn__smtp *e, int code)
{
	if (code == 334) {
		on_auth_challenge(e);
		return;
	}
	if (code == 235) {
		if (is_scram(e->mech) &&
		    !mailconn__sasl_server_verified(e->sasl)) {
			smtp_fail(e, MAILCONN_SMTP_SETTINGS,
			          MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE,
			          "the server accepted SCRAM without proving it "
			          "knows the password: this may not be the real "
			          "server");
			return;
		}
		smtp_drop_sasl(e);
		if (e->auth_pipelined) {
			/* MAIL, RCPT and DATA are already on their way. */
			e->stage = MAILCONN_STAGE_TEST_SEND;
			return;
		}
		/* Overlapped mode: the test message waits until IMAP passed. */
		if (e->p.hold_before_send) {
			e->rs = RS_HELD;
			return;
		}
		begin_send(e);
		return;
	}
	if (code < 400) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
		          MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "unexpected reply %d to AUTH", code);
		return;
	}
	/* 421: the server is closing; nothing more can be tried. */
	if (code != 421 && can_retry_unbound(e)) {
		retry_unbound(e);
		return;
	}
	char what[64];
	snprintf(what, sizeof(what), "AUTH %s", mailconn__mech_name(e->mech));
	smtp_fail_refusal(e, MAILCONN__STEP_AUTHENTICATE, code, what);
	if (e->mech == MAILCONN__MECH_SCRAM_SHA_256_PLUS)
		mailconn__pp_plus_unproven(&e->pp.failure, MAILCONN_SMTP_SETTINGS);
}

/* ---- stage 5: the test message ---------------------------------------- */

static int
has_8bit(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x80)
			return 1;
	return 0;
}

static void queue_envelope(struct mailconn__smtp *e);
static void send_bdat(struct mailconn__smtp *e);

static void
begin_send(struct mailconn__smtp *e)
{
	e->stage = MAILCONN_STAGE_TEST_SEND;
	queue_envelope(e);
}

static int
needs_smtputf8(const struct mailconn__smtp *e)
{
	return mailconn__address_needs_smtputf8(e->p.mail_from ? e->p.mail_from
	                                                        : "") ||
	       mailconn__address_needs_smtputf8(e->p.rcpt_to ? e->p.rcpt_to
	                                                     : "");
}

/* RFC 4954 4: an AUTH whose initial response completes it may be followed
 * by pipelined commands. With PLAIN, MAIL, RCPT and DATA go in the same
 * flight: one round trip less. Replies come in order, so AUTH's reply is
 * read first and decides: a refusal ends as the login's failure with its
 * own text, and the message itself is only sent on DATA's 354, which is
 * only acted on after AUTH's 235. Not in overlapped mode, where the send
 * must wait for the IMAP verdict, nor where the envelope would be refused
 * by what EHLO lacked (that verdict belongs to stage 5, after AUTH). */
static void
pipeline_envelope(struct mailconn__smtp *e)
{
	if (e->mech != MAILCONN__MECH_PLAIN || !e->has_pipelining ||
	    e->p.hold_before_send || e->rs != RS_RUN || e->npending < 1 ||
	    e->pending[e->npending - 1] != EX_AUTH ||
	    (needs_smtputf8(e) && !e->has_smtputf8))
		return;
	e->auth_pipelined = 1;
	queue_envelope(e);
}

static void
queue_envelope(struct mailconn__smtp *e)
{
	const char *from = e->p.mail_from ? e->p.mail_from : "";
	const char *rcpt = e->p.rcpt_to ? e->p.rcpt_to : "";
	int utf8 = mailconn__address_needs_smtputf8(from) ||
	           mailconn__address_needs_smtputf8(rcpt);
	if (utf8 && !e->has_smtputf8) {
		smtp_fail(e, MAILCONN_TEST_SEND,
		          MAILCONN_CAUSE_MESSAGE_REJECTED,
		          "the address is not ASCII and the server does not offer "
		          "SMTPUTF8 (RFC 6531)");
		/* Decided by what EHLO lacked, not by the 235 just read. */
		e->pp.failure.step = MAILCONN__STEP_MAIL_FROM;
		e->pp.failure.reply[0] = '\0';
		return;
	}
	/* RFC 6152: declare an 8-bit body when the server lets us. */
	int body8 = e->has_8bitmime && e->p.message && has_8bit(e->p.message);
	e->pipelined = e->has_pipelining;
	if (smtp_send_cmd(e, EX_MAIL, "MAIL FROM:<%s>%s%s", from,
	                  body8 ? " BODY=8BITMIME" : "", utf8 ? " SMTPUTF8" : ""))
		return;
	if (!e->pipelined)
		return;
	/* RFC 2920: DATA may end a pipelined group; replies come in order.
	 * RFC 3030: with CHUNKING, BDAT LAST carries the message in the same
	 * flight, saving DATA's round trip to 354. */
	if (smtp_send_cmd(e, EX_RCPT, "RCPT TO:<%s>", rcpt) != 0)
		return;
	if (e->has_chunking)
		send_bdat(e);
	else
		smtp_send_cmd(e, EX_DATA, "DATA");
}

/* The message (`len` bytes) was appended to the output from `old_len`
 * on, with buffer status `rc`: count it as queued, show its size (never
 * its text) and await the verdict. 0 when it could not be queued. */
static int
message_queued(struct mailconn__smtp *e, int rc, size_t old_len, size_t len)
{
	if (rc) {
		smtp_fail(e, MAILCONN_TEST_SEND, MAILCONN_CAUSE_MESSAGE_REJECTED,
		          rc == -2 ? "the test message is too large"
		              : "out of memory");
		return 0;
	}
	e->queued += e->out.len - old_len;
	char shown[64];
	snprintf(shown, sizeof(shown), "[message: %zu bytes]", len);
	smtp_report(e, MAILCONN_DIR_SENT, shown, strlen(shown));
	return 1;
}

/* Queue the message with dot-stuffing (RFC 5321 4.5.2) and the final
 * "<CRLF>.<CRLF>". */
static void
send_message(struct mailconn__smtp *e)
{
	const char *m = e->p.message ? e->p.message : "";
	size_t len = strlen(m);
	size_t i = 0, old_len = e->out.len;
	int rc = 0;
	while (!rc && i < len) {
		const char *nl = memchr(m + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (m + i)) + 1 : len - i;
		if (m[i] == '.')
			rc = mailconn__buf_append(&e->out, ".", 1);
		if (!rc)
			rc = mailconn__buf_append(&e->out, m + i, n);
		i += n;
	}
	if (!rc && (len < 2 || m[len - 2] != '\r' || m[len - 1] != '\n') &&
	    len > 0)
		rc = mailconn__buf_append(&e->out, "\r\n", 2);
	if (!rc)
		rc = mailconn__buf_append(&e->out, ".\r\n", 3);
	if (message_queued(e, rc, old_len, len)) {
		smtp_report(e, MAILCONN_DIR_SENT, ".", 1);
		smtp_expect_reply(e, EX_END_OF_DATA);
	}
}

/* "BDAT <n> LAST" and the message as it is: BDAT counts bytes, so no
 * dot-stuffing and no final dot. Its reply is the message's verdict, and
 * is only taken once every byte of the chunk is out. */
static void
send_bdat(struct mailconn__smtp *e)
{
	const char *m = e->p.message ? e->p.message : "";
	size_t len = strlen(m);
	/* A message ends with CRLF (RFC 5322); ours always do, but say so. */
	int add_crlf = len < 2 || m[len - 2] != '\r' || m[len - 1] != '\n';
	size_t total = len + (add_crlf ? 2 : 0);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "BDAT %zu LAST", total);
	if (smtp_send_line(e, cmd, strlen(cmd), NULL))
		return;
	size_t old_len = e->out.len;
	int rc = mailconn__buf_append(&e->out, m, len);
	if (!rc && add_crlf)
		rc = mailconn__buf_append(&e->out, "\r\n", 2);
	if (message_queued(e, rc, old_len, len))
		smtp_expect_reply(e, EX_END_OF_DATA);
}

static void
on_send_reply(struct mailconn__smtp *e, enum expect x, int code)
{
	switch (x) {
	case EX_MAIL:
		if (code >= 200 && code < 300) {
			if (!e->pipelined)
				smtp_send_cmd(e, EX_RCPT, "RCPT TO:<%s>",
				              e->p.rcpt_to ? e->p.rcpt_to : "");
			return;
		}
		smtp_fail_refusal(e, MAILCONN__STEP_MAIL_FROM, code, "MAIL FROM");
		return;
	case EX_RCPT:
		if (code >= 200 && code < 300) {
			if (!e->pipelined)
				smtp_send_cmd(e, EX_DATA, "DATA");
			return;
		}
		smtp_fail_refusal(e, MAILCONN__STEP_RCPT_TO, code, "RCPT TO");
		return;
	case EX_DATA:
		if (code == 354) {
			send_message(e);
			return;
		}
		smtp_fail_refusal(e, MAILCONN__STEP_DATA, code, "DATA");
		return;
	case EX_END_OF_DATA:
		if (code >= 200 && code < 300) {
			/* The message is accepted: QUIT is a courtesy, sent
			 * without waiting a round trip for its reply. */
			if (smtp_send_cmd(e, EX_QUIT, "QUIT") == 0)
				e->rs = RS_DONE;
			return;
		}
		smtp_fail_refusal(e, MAILCONN__STEP_END_OF_DATA, code,
		                  "the test message");
		return;
	default:
		return;
	}
}

/* ---- acting on a reply ------------------------------------------------ */

void
smtp_dispatch(struct mailconn__smtp *e, int code)
{
	enum expect x = e->pending[0];
	switch (x) {
	case EX_GREETING:
		on_greeting(e, code);
		break;
	case EX_EHLO:
		on_ehlo(e, code);
		break;
	case EX_STARTTLS:
		on_starttls(e, code);
		break;
	case EX_AUTH:
		on_auth(e, code);
		break;
	case EX_QUIT:
		/* The message is accepted; whatever QUIT gets is fine. */
		e->rs = RS_DONE;
		break;
	default:
		on_send_reply(e, x, code);
		break;
	}
	/* A failure reports the step from the head of the queue. */
	if (e->rs != RS_FAILED)
		smtp_pop_expect(e);
}

/* ---- engine API ------------------------------------------------------- */

struct mailconn__smtp *
mailconn__smtp_new(const struct mailconn__engine_params *p)
{
	struct mailconn__smtp *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->p = *p;
	e->stage = MAILCONN_STAGE_SMTP_CONNECT;
	e->rs = RS_RUN;
	e->tls_active = p->tls_mode == MAILCONN__TLS_IMPLICIT;
	mailconn__buf_init(&e->reply, MAILCONN__MAX_REPLY - 1);
	size_t extra = (p->message ? strlen(p->message) : 0) +
	               (p->oauth2_token ? strlen(p->oauth2_token) : 0);
	mailconn__buf_init(&e->out, 2 * extra + 4 * SASL_BUF_LIMIT);
	mailconn__buf_init(&e->caps, MAILCONN__MAX_REPLY);
	mailconn__buf_init(&e->mechs, MAILCONN__MAX_REPLY);
	if (mailconn__pp_init(&e->pp, p)) {
		mailconn__smtp_free(e);
		return NULL;
	}
	smtp_expect_reply(e, EX_GREETING);
	return e;
}

void
mailconn__smtp_free(struct mailconn__smtp *e)
{
	if (!e)
		return;
	smtp_drop_sasl(e);
	mailconn__buf_free(&e->reply);
	mailconn__buf_free(&e->out);
	mailconn__buf_free(&e->caps);
	mailconn__buf_free(&e->mechs);
	mailconn__pp_free(&e->pp);
	free(e->cb_type);
	if (e->cb_data) {
		mailconn__wipe(e->cb_data, e->cb.len);
		free(e->cb_data);
	}
	mailconn__wipe(e, sizeof(*e));
	free(e);
}

enum mailconn__action
mailconn__smtp_next(struct mailconn__smtp *e)
{
	if (e->rs == RS_FAILED)
		return MAILCONN__ACT_FAILED;
	if (e->out_pos < e->out.len)
		return MAILCONN__ACT_SEND;
	if (e->rs == RS_DONE)
		return MAILCONN__ACT_DONE;
	if (e->rs == RS_TLS_WAIT)
		return MAILCONN__ACT_START_TLS;
	return MAILCONN__ACT_NEED_INPUT;
}

int
mailconn__smtp_held(const struct mailconn__smtp *e)
{
	return e->rs == RS_HELD;
}

void
mailconn__smtp_release(struct mailconn__smtp *e)
{
	if (e->rs != RS_HELD)
		return;
	e->rs = RS_RUN;
	begin_send(e);
}

void
mailconn__smtp_tls_unverified(struct mailconn__smtp *e)
{
	if (e)
		e->cert_unverified = 1;
}

void
mailconn__smtp_tls_started(struct mailconn__smtp *e,
                           const struct mailconn__channel_binding *cb)
{
	free(e->cb_type);
	if (e->cb_data) {
		mailconn__wipe(e->cb_data, e->cb.len);
		free(e->cb_data);
	}
	e->cb_type = NULL;
	e->cb_data = NULL;
	memset(&e->cb, 0, sizeof(e->cb));
	if (cb && cb->type && cb->data && cb->len) {
		e->cb_type = mailconn__strdup(cb->type);
		e->cb_data = malloc(cb->len);
		if (e->cb_type && e->cb_data) {
			memcpy(e->cb_data, cb->data, cb->len);
			e->cb.type = e->cb_type;
			e->cb.data = e->cb_data;
			e->cb.len = cb->len;
		}
	}
	if (e->rs == RS_TLS_WAIT) {
		/* RFC 3207 section 4.2: forget what EHLO said in plaintext. */
		e->tls_active = 1;
		e->rs = RS_RUN;
		smtp_forget_capabilities(e);
		send_ehlo(e);
	}
	/* With implicit TLS the driver reports the handshake before the
	 * greeting; only the binding is news then. */
}

mailconn_stage
mailconn__smtp_stage(const struct mailconn__smtp *e)
{
	return e->stage;
}

const struct mailconn__failure *
mailconn__smtp_failure(const struct mailconn__smtp *e)
{
	return &e->pp.failure;
}

const char *
mailconn__smtp_capabilities(const struct mailconn__smtp *e)
{
	return e->caps.data ? e->caps.data : "";
}

const char *
mailconn__smtp_mechanism(const struct mailconn__smtp *e)
{
	if (e->unbound_retry)
		return "SCRAM-SHA-256 (after SCRAM-SHA-256-PLUS was refused)";
	return mailconn__mech_name(e->mech);
}

MAILCONN__DEFINE_ENGINE_OPS(smtp, MAILCONN_PROTOCOL_SMTP, mailconn__smtp_held,
                            mailconn__smtp_release);
