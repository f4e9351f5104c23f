/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SMTP replies (RFC 5321 4.2, RFC 2920): framing and checking reply lines,
 * matching replies to the commands queued for them, reading EHLO, and
 * recording failures. smtp.c decides what each reply leads to.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "proto/outcome.h"
#include "proto/smtp-int.h"

/* ---- failures and the transcript -------------------------------------- */

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

void
smtp_drop_sasl(struct mailconn__smtp *e)
{
	mailconn__sasl_free(e->sasl);
	e->sasl = NULL;
}

void
smtp_fail(struct mailconn__smtp *e, mailconn_error outcome,
          mailconn_cause cause, const char *fmt, ...)
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
	smtp_drop_sasl(e);
	/* Nothing queued (an AUTH line, say) may go out after a failure. */
	mailconn__buf_clear(&e->out);
	e->out_pos = 0;
}

void
smtp_fail_nomem(struct mailconn__smtp *e)
{
	smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_NONE, "out of memory");
}

void
smtp_report(struct mailconn__smtp *e, mailconn_direction dir,
            const char *line, size_t len)
{
	mailconn__pp_report(&e->pp, dir, line, len);
}

void
smtp_expect_reply(struct mailconn__smtp *e, enum expect x)
{
	if (e->npending < MAX_PENDING) {
		e->pending_sent[e->npending] = e->queued;
		e->pending[e->npending++] = x;
	}
}

void
smtp_pop_expect(struct mailconn__smtp *e)
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
int
smtp_send_line(struct mailconn__smtp *e, const char *line, size_t len,
               const char *shown)
{
	if (mailconn__buf_append(&e->out, line, len) ||
	    mailconn__buf_append(&e->out, "\r\n", 2)) {
		smtp_fail_nomem(e);
		return -1;
	}
	e->queued += len + 2;
	if (shown)
		smtp_report(e, MAILCONN_DIR_SENT, shown, strlen(shown));
	else
		smtp_report(e, MAILCONN_DIR_SENT, line, len);
	return 0;
}

int
smtp_send_cmd(struct mailconn__smtp *e, enum expect x, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_NONE,
		          "command too long to send");
		return -1;
	}
	if (smtp_send_line(e, line, (size_t)n, NULL))
		return -1;
	smtp_expect_reply(e, x);
	return 0;
}

/* The reply's first line text after "ddd" and its separator. */
void
smtp_first_line_text(const struct mailconn__smtp *e, const char **text,
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

void
smtp_fail_refusal(struct mailconn__smtp *e, enum mailconn__step step,
                  int code, const char *what)
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
		smtp_fail(e, c.outcome, c.cause, "%s refused (%d); %s", what,
		          code, e->sasl_note);
	else
		smtp_fail(e, c.outcome, c.cause, "%s refused (%d)", what, code);
}

/* ---- EHLO ------------------------------------------------------------- */

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

void
smtp_forget_capabilities(struct mailconn__smtp *e)
{
	mailconn__buf_clear(&e->caps);
	mailconn__buf_clear(&e->mechs);
	e->has_starttls = e->has_pipelining = e->has_smtputf8 = 0;
	e->has_8bitmime = e->has_auth = e->has_chunking = 0;
}

/* Read the EHLO keywords (RFC 5321 4.1.1.1); the first line is the
 * server's name, not an extension. */
int
smtp_parse_ehlo(struct mailconn__smtp *e)
{
	smtp_forget_capabilities(e);
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
			else if (keyword_is(t, tl, "CHUNKING"))
				e->has_chunking = 1;
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

/* ---- reply lines ------------------------------------------------------ */

/* One complete line without CRLF. */
static void
handle_line(struct mailconn__smtp *e, const char *s, size_t len)
{
	if (e->npending == 0 ||
	    (e->reply_lines == 0 && e->sent < e->pending_sent[0])) {
		mailconn__buf_clear(&e->reply);
		mailconn__buf_append(&e->reply, s, len);
		smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "the server sent a reply before the command it answers");
		return;
	}
	if (e->pending[0] == EX_GREETING && e->reply_lines == 0) {
		/* The most common mistake: an IMAP or POP3 port. */
		static const struct {
			const char *start, *name;
		} wrong[] = { { "* ", "IMAP" }, { "+OK", "POP3" } };
		for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			size_t k = strlen(wrong[i].start);
			if (len < k || memcmp(s, wrong[i].start, k) != 0)
				continue;
			mailconn__buf_append(&e->reply, s, len);
			smtp_fail(e, MAILCONN_SMTP_SETTINGS,
			          MAILCONN_CAUSE_WRONG_PROTOCOL,
			          "this port speaks %s, not SMTP: use the SMTP "
			          "port (usually 465 for TLS or 587 for STARTTLS)",
			          wrong[i].name);
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
		smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "malformed reply line (expected a code from 200 to 599)");
		return;
	}
	int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (e->reply_lines > 0 && code != e->reply_code) {
		smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "reply code changed from %d to %d within one reply",
		          e->reply_code, code);
		return;
	}
	e->reply_code = code;
	if (++e->reply_lines > MAILCONN__MAX_REPLY_LINES) {
		smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
		          "reply longer than %d lines",
		          MAILCONN__MAX_REPLY_LINES);
		return;
	}
	if (len > 3 && s[3] == '-')
		return;
	smtp_dispatch(e, code);
	if (e->rs != RS_FAILED) {
		mailconn__buf_clear(&e->reply);
		e->reply_lines = 0;
		e->reply_code = 0;
	}
}

/* ---- entry points (smtp.h) -------------------------------------------- */

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
		if (got == MAILCONN__PP_TOO_LONG) {
			smtp_fail(e, stage_outcome(e),
			          MAILCONN_CAUSE_LINE_TOO_LONG,
			          "the server sent a line longer than %d bytes",
			          MAILCONN__MAX_LINE);
			return;
		}
		if (got == MAILCONN__PP_BARE_LF) {
			smtp_fail(e, stage_outcome(e),
			          MAILCONN_CAUSE_PROTOCOL_ERROR,
			          "the server ended a line without CRLF");
			return;
		}
		/* MORE with bytes left over: `in` had room but could not
		 * grow to take them. */
		if (got == MAILCONN__PP_NOMEM || got == MAILCONN__PP_MORE) {
			smtp_fail_nomem(e);
			return;
		}
		mailconn__pp_report_received(&e->pp, l, n);
		handle_line(e, l, n);
	}
	len += e->pp.in.len;
	/* RFC 3207 section 4.2 attack: bytes that came with, or after, the
	 * 220 to STARTTLS were not protected and must never be acted on. */
	if (len > 0 && e->rs == RS_TLS_WAIT) {
		smtp_fail(e, MAILCONN_SMTP_SETTINGS,
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
	smtp_fail(e, stage_outcome(e), MAILCONN_CAUSE_CONNECTION_CLOSED,
	          "the server closed the connection%s",
	          e->got_input ? "" : " without a greeting");
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
