/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sans-I/O SMTP submission engine for stages 3-5 (RFC 5321, 3207, 4954,
 * 3463, 2920): one login attempt, one test message, typed failures.
 */
#include "proto/smtp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/b64.h"
#include "proto/message.h"
#include "proto/outcome.h"
#include "proto/pingpong.h"
#include "proto/sasl.h"

/* Bound on one decoded SASL exchange message (tokens can be kilobytes). */
#define SASL_BUF_LIMIT 65536
/* Replies we can have outstanding at once: MAIL, RCPT, DATA pipelined. */
#define MAX_PENDING 4

/* What an outstanding reply answers. */
enum expect {
	EX_GREETING,
	EX_EHLO,
	EX_STARTTLS,
	EX_AUTH,
	EX_MAIL,
	EX_RCPT,
	EX_DATA,
	EX_END_OF_DATA,
	EX_QUIT
};

enum run_state {
	RS_RUN,
	RS_TLS_WAIT,    /* STARTTLS accepted; the driver does the handshake */
	RS_HELD,        /* logged in; the send waits for mailconn__smtp_release */
	RS_DONE,
	RS_FAILED
};

struct mailconn__smtp {
	struct mailconn__engine_params p;
	mailconn_stage stage;
	enum run_state rs;
	int tls_active;
	int got_input;

	/* Channel binding of the current TLS session, for -PLUS. */
	struct mailconn__channel_binding cb;
	char *cb_type;
	unsigned char *cb_data;

	struct mailconn__pp pp;      /* framing, transcript, failure record */
	struct mailconn__buf reply;  /* lines of the reply being read */
	int reply_code;
	int reply_lines;

	struct mailconn__buf out;    /* bytes for the driver to send */
	size_t out_pos;
	unsigned long long queued;   /* bytes ever queued / handed over */
	unsigned long long sent;

	/* Replies we wait for, each with the byte count that must have been
	 * sent before the server can possibly have seen its command. */
	enum expect pending[MAX_PENDING];
	unsigned long long pending_sent[MAX_PENDING];
	int npending;
	int pipelined;

	/* From the latest EHLO reply (forgotten when TLS starts). */
	struct mailconn__buf caps;
	struct mailconn__buf mechs;
	int has_starttls, has_pipelining, has_smtputf8, has_8bitmime;
	int has_auth;

	enum mailconn__mech mech;
	struct mailconn__sasl *sasl;
	char sasl_note[256];         /* OAuth error JSON, SCRAM e= text */
};

/* ---- helpers ---------------------------------------------------------- */

static mailconn_error
stage_outcome(const struct mailconn__smtp *e)
{
	return mailconn__stage_outcome(MAILCONN_PROTOCOL_SMTP, e->stage);
}

static enum mailconn__step
expect_step(enum expect x)
{
	switch (x) {
	case EX_GREETING: return MAILCONN__STEP_GREETING;
	case EX_EHLO: return MAILCONN__STEP_CAPABILITY;
	case EX_STARTTLS: return MAILCONN__STEP_STARTTLS;
	case EX_AUTH: return MAILCONN__STEP_AUTHENTICATE;
	case EX_MAIL: return MAILCONN__STEP_MAIL_FROM;
	case EX_RCPT: return MAILCONN__STEP_RCPT_TO;
	case EX_DATA: return MAILCONN__STEP_DATA;
	case EX_END_OF_DATA: return MAILCONN__STEP_END_OF_DATA;
	case EX_QUIT: return MAILCONN__STEP_LOGOUT;
	}
	return MAILCONN__STEP_NONE;
}

static enum mailconn__step
current_step(const struct mailconn__smtp *e)
{
	return e->npending ? expect_step(e->pending[0]) : MAILCONN__STEP_NONE;
}

static int
is_scram(enum mailconn__mech m)
{
	return m == MAILCONN__MECH_SCRAM_SHA_256 ||
	       m == MAILCONN__MECH_SCRAM_SHA_256_PLUS;
}

static void
drop_sasl(struct mailconn__smtp *e)
{
	mailconn__sasl_free(e->sasl);
	e->sasl = NULL;
}

/* Record why we stop. The reply is the one being read (if any), copied
 * raw except for NUL bytes, which would cut the text short. */
static void fail(struct mailconn__smtp *e, mailconn_error outcome,
                 mailconn_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
fail(struct mailconn__smtp *e, mailconn_error outcome, mailconn_cause cause,
     const char *fmt, ...)
{
	if (e->rs == RS_FAILED || e->rs == RS_DONE)
		return;
	struct mailconn__failure *f = &e->pp.failure;
	va_list ap;
	va_start(ap, fmt);
	mailconn__pp_record(&e->pp, e->stage, current_step(e), outcome, cause,
	                    e->reply.data, e->reply.len, fmt, ap);
	va_end(ap);
	if (!f->provider)
		f->provider = mailconn__provider_from_host(e->p.host);
	e->rs = RS_FAILED;
	drop_sasl(e);
	/* Nothing queued (an AUTH line, say) may go out after a failure. */
	mailconn__buf_clear(&e->out);
	e->out_pos = 0;
}

static void
fail_nomem(struct mailconn__smtp *e)
{
	fail(e, stage_outcome(e), MAILCONN_CAUSE_NONE, "out of memory");
}

static void
report(struct mailconn__smtp *e, mailconn_direction dir, const char *line,
       size_t len)
{
	mailconn__pp_report(&e->pp, dir, line, len);
}

static void
expect_reply(struct mailconn__smtp *e, enum expect x)
{
	if (e->npending < MAX_PENDING) {
		e->pending_sent[e->npending] = e->queued;
		e->pending[e->npending++] = x;
	}
}

static void
pop_expect(struct mailconn__smtp *e)
{
	if (e->npending == 0)
		return;
	memmove(e->pending, e->pending + 1,
	        (size_t)(e->npending - 1) * sizeof(e->pending[0]));
	memmove(e->pending_sent, e->pending_sent + 1,
	        (size_t)(e->npending - 1) * sizeof(e->pending_sent[0]));
	e->npending--;
}

/* Queue one command line; `shown` is what the transcript gets instead
 * when the line carries a secret. */
static int
send_line(struct mailconn__smtp *e, const char *line, size_t len,
          const char *shown)
{
	if (mailconn__buf_append(&e->out, line, len) ||
	    mailconn__buf_append(&e->out, "\r\n", 2)) {
		fail_nomem(e);
		return -1;
	}
	e->queued += len + 2;
	if (shown)
		report(e, MAILCONN_DIR_SENT, shown, strlen(shown));
	else
		report(e, MAILCONN_DIR_SENT, line, len);
	return 0;
}

static int
send_cmd(struct mailconn__smtp *e, enum expect x, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
send_cmd(struct mailconn__smtp *e, enum expect x, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		fail(e, stage_outcome(e), MAILCONN_CAUSE_NONE,
		     "command too long to send");
		return -1;
	}
	if (send_line(e, line, (size_t)n, NULL))
		return -1;
	expect_reply(e, x);
	return 0;
}

/* The reply's first line text after "ddd" and its separator. */
static void
first_line_text(const struct mailconn__smtp *e, const char **text,
                size_t *len)
{
	const char *d = e->reply.data ? e->reply.data : "";
	const char *nl = memchr(d, '\n', e->reply.len);
	size_t n = nl ? (size_t)(nl - d) : e->reply.len;
	if (n <= 4) {
		*text = d + n;
		*len = 0;
		return;
	}
	*text = d + 4;
	*len = n - 4;
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

/* ---- classification of refusals --------------------------------------- */

static void
fail_refusal(struct mailconn__smtp *e, enum mailconn__step step, int code,
             const char *what)
{
	struct mailconn__classification c;
	mailconn__pp_judge(&e->pp, MAILCONN_PROTOCOL_SMTP, step, e->reply.data,
	                   e->reply.len, e->tls_active,
	                   e->mech ? mailconn__mech_name(e->mech) : NULL, &c);

	if (c.outcome == MAILCONN_OK) {
		/* The classifier saw no error in a reply we know is a
		 * refusal: fall back on the basic code. */
		int temp = code >= 400 && code < 500;
		switch (step) {
		case MAILCONN__STEP_AUTHENTICATE:
			c.outcome = MAILCONN_SMTP_SETTINGS;
			c.cause = temp ? MAILCONN_CAUSE_AUTH_TEMPORARY
			               : MAILCONN_CAUSE_AUTH_REJECTED;
			if (code == 535)
				c.outcome = MAILCONN_UNAUTHORIZED;
			break;
		case MAILCONN__STEP_MAIL_FROM:
		case MAILCONN__STEP_RCPT_TO:
		case MAILCONN__STEP_DATA:
		case MAILCONN__STEP_END_OF_DATA:
			c.outcome = MAILCONN_TEST_SEND;
			c.cause = temp ? MAILCONN_CAUSE_SEND_TEMPORARY
			        : step == MAILCONN__STEP_MAIL_FROM ?
			          MAILCONN_CAUSE_SENDER_REJECTED
			        : step == MAILCONN__STEP_RCPT_TO ?
			          MAILCONN_CAUSE_RECIPIENT_REJECTED
			        : step == MAILCONN__STEP_DATA ?
			          MAILCONN_CAUSE_DATA_REJECTED
			        : MAILCONN_CAUSE_MESSAGE_REJECTED;
			break;
		default:
			c.outcome = stage_outcome(e);
			c.cause = MAILCONN_CAUSE_PROTOCOL_ERROR;
			break;
		}
	}
	e->pp.failure.provider = c.provider;
	if (e->sasl_note[0])
		fail(e, c.outcome, c.cause, "%s refused (%d); %s", what, code,
		     e->sasl_note);
	else
		fail(e, c.outcome, c.cause, "%s refused (%d)", what, code);
}

/* ---- stage 3: greeting, EHLO, STARTTLS -------------------------------- */

static void
send_ehlo(struct mailconn__smtp *e)
{
	const char *name = e->p.client_name && *e->p.client_name ?
	                   e->p.client_name : "localhost";
	send_cmd(e, EX_EHLO, "EHLO %s", name);
}

static int
keyword_is(const char *text, size_t len, const char *kw)
{
	size_t n = strlen(kw);
	return mailconn__ascii_iprefix(text, len, kw) &&
	       (len == n || text[n] == ' ');
}

static int
add_mechs(struct mailconn__smtp *e, const char *p, size_t len)
{
	if (e->mechs.len && mailconn__buf_append(&e->mechs, " ", 1))
		return -1;
	return mailconn__buf_append(&e->mechs, p, len);
}

static void
forget_capabilities(struct mailconn__smtp *e)
{
	mailconn__buf_clear(&e->caps);
	mailconn__buf_clear(&e->mechs);
	e->has_starttls = e->has_pipelining = e->has_smtputf8 = 0;
	e->has_8bitmime = e->has_auth = 0;
}

/* Read the EHLO keywords (RFC 5321 4.1.1.1); the first line is the
 * server's name, not an extension. */
static int
parse_ehlo(struct mailconn__smtp *e)
{
	forget_capabilities(e);
	const char *p = e->reply.data ? e->reply.data : "";
	const char *end = p + e->reply.len;
	int index = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		if (index++ > 0) {
			const char *t = n > 4 ? p + 4 : le;
			size_t tl = n > 4 ? n - 4 : 0;
			if (e->caps.len &&
			    mailconn__buf_append(&e->caps, "\n", 1))
				return -1;
			if (mailconn__buf_append(&e->caps, t, tl))
				return -1;
			if (keyword_is(t, tl, "STARTTLS"))
				e->has_starttls = 1;
			else if (keyword_is(t, tl, "PIPELINING"))
				e->has_pipelining = 1;
			else if (keyword_is(t, tl, "SMTPUTF8"))
				e->has_smtputf8 = 1;
			else if (keyword_is(t, tl, "8BITMIME"))
				e->has_8bitmime = 1;
			else if (keyword_is(t, tl, "AUTH")) {
				e->has_auth = 1;
				if (tl > 5 && add_mechs(e, t + 5, tl - 5))
					return -1;
			} else if (mailconn__ascii_iprefix(t, tl, "AUTH=")) {
				/* Pre-RFC 2554 form some servers still send. */
				e->has_auth = 1;
				if (add_mechs(e, t + 5, tl - 5))
					return -1;
			}
		}
		p = le + 1;
	}
	return 0;
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
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_GREETING_REJECTED,
		     "the server refused service in its greeting (%d)", code);
	else
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_PROTOCOL_ERROR,
		     "unexpected greeting code %d (expected 220)", code);
}

static void
on_ehlo(struct mailconn__smtp *e, int code)
{
	if (code != 250) {
		/* HELO would do for plain relaying, but we always need AUTH,
		 * which only EHLO can announce. */
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_EHLO_REJECTED,
		     "the server refused EHLO (%d)", code);
		return;
	}
	if (parse_ehlo(e)) {
		fail_nomem(e);
		return;
	}
	if (e->p.tls_mode == MAILCONN__TLS_STARTTLS && !e->tls_active) {
		if (!e->has_starttls) {
			fail(e, MAILCONN_SMTP_SETTINGS,
			     MAILCONN_CAUSE_STARTTLS_UNAVAILABLE,
			     "STARTTLS is not offered in the EHLO reply; "
			     "no credentials were sent");
			return;
		}
		send_cmd(e, EX_STARTTLS, "STARTTLS");
		return;
	}
	begin_auth(e);
}

static void
on_starttls(struct mailconn__smtp *e, int code)
{
	if (code != 220) {
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_STARTTLS_REFUSED,
		     "the server refused STARTTLS (%d); no credentials were "
		     "sent", code);
		return;
	}
	e->rs = RS_TLS_WAIT;
}

/* ---- stage 4: AUTH ---------------------------------------------------- */

static void
begin_auth(struct mailconn__smtp *e)
{
	e->stage = MAILCONN_STAGE_SMTP_LOGIN;
	if (e->p.tls_mode != MAILCONN__TLS_NONE && !e->tls_active) {
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_AUTH_INSECURE,
		     "refusing to log in over an unencrypted connection");
		return;
	}
	if (!e->has_auth) {
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_AUTH_NOT_OFFERED,
		     "the server does not offer AUTH%s",
		     e->tls_active ? "" : " (some servers offer it only "
		                          "after STARTTLS)");
		return;
	}
	int have_binding = e->tls_active && e->cb.type != NULL;
	e->mech = mailconn__sasl_choose(e->mechs.data ? e->mechs.data : "",
	                                e->p.password != NULL,
	                                e->p.oauth2_token != NULL,
	                                have_binding);
	if (e->mech == MAILCONN__MECH_NONE) {
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_AUTH_NO_MECHANISM,
		     "no supported %s mechanism among those offered: %.200s",
		     e->p.oauth2_token ? "OAuth2" : "password",
		     e->mechs.data ? e->mechs.data : "");
		return;
	}
	int oauth = e->mech == MAILCONN__MECH_XOAUTH2 ||
	            e->mech == MAILCONN__MECH_OAUTHBEARER;
	const char *secret = oauth ? e->p.oauth2_token : e->p.password;
	e->sasl = mailconn__sasl_new(e->mech, e->p.username, secret, e->p.host,
	                             e->p.port, have_binding ? &e->cb : NULL,
	                             e->p.crypto);
	if (!e->sasl) {
		fail_nomem(e);
		return;
	}

	const char *name = mailconn__mech_name(e->mech);
	struct mailconn__buf ir, line;
	mailconn__buf_init(&ir, SASL_BUF_LIMIT);
	mailconn__buf_init(&line, 2 * SASL_BUF_LIMIT);
	enum mailconn__sasl_status st = mailconn__sasl_start(e->sasl, &ir);
	if (st == MAILCONN__SASL_ERROR) {
		fail(e, MAILCONN_SMTP_SETTINGS,
		     mailconn__sasl_error_cause(e->sasl),
		     "cannot start %s", name);
	} else if (e->mech == MAILCONN__MECH_LOGIN) {
		send_cmd(e, EX_AUTH, "AUTH LOGIN");
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
			fail_nomem(e);
		else if (send_line(e, line.data, line.len, shown) == 0)
			expect_reply(e, EX_AUTH);
	}
	mailconn__buf_free(&ir);
	mailconn__buf_free(&line);
}

static void
on_auth_challenge(struct mailconn__smtp *e)
{
	const char *text;
	size_t tlen;
	first_line_text(e, &text, &tlen);

	struct mailconn__buf chal, resp, line;
	mailconn__buf_init(&chal, SASL_BUF_LIMIT);
	mailconn__buf_init(&resp, SASL_BUF_LIMIT);
	mailconn__buf_init(&line, 2 * SASL_BUF_LIMIT);
	int rc = mailconn__b64_decode(text, tlen, &chal);
	if (rc) {
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_PROTOCOL_ERROR,
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
			fail(e, MAILCONN_SMTP_SETTINGS, cause,
			     "the server's SCRAM signature did not verify: this "
			     "may not be the real server");
		else if (cause == MAILCONN_CAUSE_AUTH_REJECTED) {
			note_challenge(e, "SCRAM", cp, chal.len);
			fail(e, MAILCONN_UNAUTHORIZED, cause,
			     "the server refused the login; %s", e->sasl_note);
		} else
			fail(e, MAILCONN_SMTP_SETTINGS,
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
		fail_nomem(e);
		goto out;
	}
	if (send_line(e, line.data ? line.data : "", line.len,
	              "[redacted]") == 0)
		expect_reply(e, EX_AUTH);
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
			fail(e, MAILCONN_SMTP_SETTINGS,
			     MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE,
			     "the server accepted SCRAM without proving it "
			     "knows the password: this may not be the real "
			     "server");
			return;
		}
		drop_sasl(e);
		/* Overlapped mode: the test message waits until IMAP passed. */
		if (e->p.hold_before_send) {
			e->rs = RS_HELD;
			return;
		}
		begin_send(e);
		return;
	}
	if (code < 400) {
		fail(e, MAILCONN_SMTP_SETTINGS, MAILCONN_CAUSE_PROTOCOL_ERROR,
		     "unexpected reply %d to AUTH", code);
		return;
	}
	char what[64];
	snprintf(what, sizeof(what), "AUTH %s", mailconn__mech_name(e->mech));
	fail_refusal(e, MAILCONN__STEP_AUTHENTICATE, code, what);
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

static void
begin_send(struct mailconn__smtp *e)
{
	e->stage = MAILCONN_STAGE_TEST_SEND;
	const char *from = e->p.mail_from ? e->p.mail_from : "";
	const char *rcpt = e->p.rcpt_to ? e->p.rcpt_to : "";
	int utf8 = mailconn__address_needs_smtputf8(from) ||
	           mailconn__address_needs_smtputf8(rcpt);
	if (utf8 && !e->has_smtputf8) {
		fail(e, MAILCONN_TEST_SEND, MAILCONN_CAUSE_MESSAGE_REJECTED,
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
	if (send_cmd(e, EX_MAIL, "MAIL FROM:<%s>%s%s", from,
	             body8 ? " BODY=8BITMIME" : "", utf8 ? " SMTPUTF8" : ""))
		return;
	if (!e->pipelined)
		return;
	/* RFC 2920: DATA may end a pipelined group; replies come in order. */
	if (send_cmd(e, EX_RCPT, "RCPT TO:<%s>", rcpt) == 0)
		send_cmd(e, EX_DATA, "DATA");
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
	if (rc) {
		fail(e, MAILCONN_TEST_SEND, MAILCONN_CAUSE_MESSAGE_REJECTED,
		     rc == -2 ? "the test message is too large"
		              : "out of memory");
		return;
	}
	e->queued += e->out.len - old_len;
	char shown[64];
	snprintf(shown, sizeof(shown), "[message: %zu bytes]", len);
	report(e, MAILCONN_DIR_SENT, shown, strlen(shown));
	report(e, MAILCONN_DIR_SENT, ".", 1);
	expect_reply(e, EX_END_OF_DATA);
}

static void
on_send_reply(struct mailconn__smtp *e, enum expect x, int code)
{
	switch (x) {
	case EX_MAIL:
		if (code >= 200 && code < 300) {
			if (!e->pipelined)
				send_cmd(e, EX_RCPT, "RCPT TO:<%s>",
				         e->p.rcpt_to ? e->p.rcpt_to : "");
			return;
		}
		fail_refusal(e, MAILCONN__STEP_MAIL_FROM, code, "MAIL FROM");
		return;
	case EX_RCPT:
		if (code >= 200 && code < 300) {
			if (!e->pipelined)
				send_cmd(e, EX_DATA, "DATA");
			return;
		}
		fail_refusal(e, MAILCONN__STEP_RCPT_TO, code, "RCPT TO");
		return;
	case EX_DATA:
		if (code == 354) {
			send_message(e);
			return;
		}
		fail_refusal(e, MAILCONN__STEP_DATA, code, "DATA");
		return;
	case EX_END_OF_DATA:
		if (code >= 200 && code < 300) {
			/* The message is accepted: QUIT is a courtesy, sent
			 * without waiting a round trip for its reply. */
			if (send_cmd(e, EX_QUIT, "QUIT") == 0)
				e->rs = RS_DONE;
			return;
		}
		fail_refusal(e, MAILCONN__STEP_END_OF_DATA, code,
		             "the test message");
		return;
	default:
		return;
	}
}

/* ---- reply parsing ---------------------------------------------------- */

static void
dispatch(struct mailconn__smtp *e, int code)
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
		pop_expect(e);
}

/* One complete line without CRLF. */
static void
handle_line(struct mailconn__smtp *e, const char *s, size_t len)
{
	if (e->npending == 0 ||
	    (e->reply_lines == 0 && e->sent < e->pending_sent[0])) {
		mailconn__buf_clear(&e->reply);
		mailconn__buf_append(&e->reply, s, len);
		fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		     "the server sent a reply before the command it answers");
		return;
	}
	if (e->pending[0] == EX_GREETING && e->reply_lines == 0) {
		/* The most common mistake: an IMAP or POP3 port. */
		if (len >= 2 && s[0] == '*' && s[1] == ' ') {
			mailconn__buf_append(&e->reply, s, len);
			fail(e, MAILCONN_SMTP_SETTINGS,
			     MAILCONN_CAUSE_WRONG_PROTOCOL,
			     "this port speaks IMAP, not SMTP: use the SMTP "
			     "port (usually 465 for TLS or 587 for STARTTLS)");
			return;
		}
		if (len >= 3 && memcmp(s, "+OK", 3) == 0) {
			mailconn__buf_append(&e->reply, s, len);
			fail(e, MAILCONN_SMTP_SETTINGS,
			     MAILCONN_CAUSE_WRONG_PROTOCOL,
			     "this port speaks POP3, not SMTP: use the SMTP "
			     "port (usually 465 for TLS or 587 for STARTTLS)");
			return;
		}
	}

	/* Keep the line (bounded) so a failure can show it. */
	size_t room = e->reply.limit - e->reply.len;
	size_t sep = e->reply_lines > 0 ? 1 : 0;
	if (room > sep) {
		if (sep)
			mailconn__buf_append(&e->reply, "\n", 1);
		mailconn__buf_append(&e->reply, s,
		                     len < room - sep ? len : room - sep);
	}

	if (len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9' ||
	    (len > 3 && s[3] != ' ' && s[3] != '-')) {
		fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		     "malformed reply line (expected a code from 200 to 599)");
		return;
	}
	int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (e->reply_lines > 0 && code != e->reply_code) {
		fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		     "reply code changed from %d to %d within one reply",
		     e->reply_code, code);
		return;
	}
	e->reply_code = code;
	if (++e->reply_lines > MAILCONN__MAX_REPLY_LINES) {
		fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		     "reply longer than %d lines", MAILCONN__MAX_REPLY_LINES);
		return;
	}
	if (len > 3 && s[3] == '-')
		return;
	dispatch(e, code);
	if (e->rs != RS_FAILED) {
		mailconn__buf_clear(&e->reply);
		e->reply_lines = 0;
		e->reply_code = 0;
	}
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
	expect_reply(e, EX_GREETING);
	return e;
}

void
mailconn__smtp_free(struct mailconn__smtp *e)
{
	if (!e)
		return;
	drop_sasl(e);
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

void
mailconn__smtp_feed(struct mailconn__smtp *e, const char *data, size_t len)
{
	if (len)
		e->got_input = 1;
	/* While held nothing is outstanding, so any line is unsolicited and
	 * fails as such in handle_line. */
	while (e->rs == RS_RUN || e->rs == RS_HELD) {
		size_t take = mailconn__pp_take(&e->pp, data, len);
		data += take;
		len -= take;
		const char *l;
		size_t n;
		enum mailconn__pp_line got = mailconn__pp_next_line(&e->pp, 1,
		                                                    &l, &n);
		if (got == MAILCONN__PP_MORE && len == 0)
			break;
		if (got == MAILCONN__PP_TOO_LONG || got == MAILCONN__PP_MORE) {
			/* MORE with bytes left over: `in` could not take them. */
			fail(e, stage_outcome(e), MAILCONN_CAUSE_LINE_TOO_LONG,
			     "the server sent a line longer than %d bytes",
			     MAILCONN__MAX_LINE);
			return;
		}
		if (got == MAILCONN__PP_BARE_LF) {
			fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
			     "the server ended a line without CRLF");
			return;
		}
		if (got == MAILCONN__PP_NOMEM) {
			fail_nomem(e);
			return;
		}
		mailconn__pp_report_received(&e->pp, l, n);
		handle_line(e, l, n);
	}
	len += e->pp.in.len;
	/* RFC 3207 section 4.2 attack: bytes that came with, or after, the
	 * 220 to STARTTLS were not protected and must never be acted on. */
	if (len > 0 && e->rs == RS_TLS_WAIT) {
		fail(e, MAILCONN_SMTP_SETTINGS,
		     MAILCONN_CAUSE_STARTTLS_INJECTION,
		     "%zu byte(s) arrived after the STARTTLS reply, before "
		     "the TLS handshake: possible injection attack", len);
		e->pp.failure.step = MAILCONN__STEP_STARTTLS;
	}
}

void
mailconn__smtp_eof(struct mailconn__smtp *e)
{
	if (e->rs == RS_FAILED || e->rs == RS_DONE)
		return;
	/* A server may just hang up after QUIT; the message is accepted. */
	if (e->npending && e->pending[0] == EX_QUIT) {
		e->rs = RS_DONE;
		return;
	}
	if (e->rs == RS_TLS_WAIT || e->rs == RS_HELD)
		e->rs = RS_RUN;
	fail(e, stage_outcome(e), MAILCONN_CAUSE_CONNECTION_CLOSED,
	     "the server closed the connection%s",
	     e->got_input ? "" : " without a greeting");
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

size_t
mailconn__smtp_output(struct mailconn__smtp *e, const char **data)
{
	*data = e->out.data ? e->out.data + e->out_pos : "";
	return e->out.len - e->out_pos;
}

void
mailconn__smtp_output_done(struct mailconn__smtp *e, size_t n)
{
	size_t left = e->out.len - e->out_pos;
	if (n > left)
		n = left;
	e->out_pos += n;
	e->sent += n;
	if (e->out_pos == e->out.len) {
		/* Wipes what was sent: it may have held credentials. */
		mailconn__buf_clear(&e->out);
		e->out_pos = 0;
	}
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
		forget_capabilities(e);
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
	return mailconn__mech_name(e->mech);
}

MAILCONN__DEFINE_ENGINE_OPS(smtp, MAILCONN_PROTOCOL_SMTP, mailconn__smtp_held,
                            mailconn__smtp_release);
