/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The IMAP wire (RFC 9051, RFC 3501): framing lines and skipping server
 * literals, reading atoms and response codes, building quoted strings and
 * literals, and recording failures. imap.c sequences the commands.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "proto/imap-int.h"
#include "proto/outcome.h"

/* ---- Small helpers and failures ------------------------------------- */

/* Next space-delimited token; one separating space is consumed. */
int
imap_cur_token(struct cur *c, const char **t, size_t *tn)
{
	size_t i = 0;
	while (i < c->n && c->p[i] != ' ')
		i++;
	*t = c->p;
	*tn = i;
	if (i < c->n)
		i++;
	c->p += i;
	c->n -= i;
	return *tn > 0;
}

/* Append what fits: replies and kept lines are cut, never refused. */
void
imap_append_some(struct mailconn__buf *b, const void *p, size_t n)
{
	size_t room = b->limit - b->len;
	if (n > room)
		n = room;
	if (n)
		(void)mailconn__buf_append(b, p, n);
}

const char *
imap_secret(const struct mailconn__imap *e)
{
	if (e->p.oauth2_token && *e->p.oauth2_token)
		return e->p.oauth2_token;
	return e->p.password ? e->p.password : "";
}

void
imap_report(struct mailconn__imap *e, mailconn_direction dir, const char *s,
            size_t n)
{
	mailconn__pp_report(&e->pp, dir, s, n);
}

mailconn_error
imap_stage_outcome(const struct mailconn__imap *e)
{
	return mailconn__stage_outcome(MAILCONN_PROTOCOL_IMAP, e->stage);
}

/* Forget everything that might hold a secret or be acted on later. */
static void
drop_pending(struct mailconn__imap *e)
{
	mailconn__buf_clear(&e->out);
	mailconn__pp_drop_input(&e->pp);
	mailconn__buf_clear(&e->pend);
	mailconn__buf_clear(&e->ir);
	mailconn__buf_clear(&e->sasl_in);
	mailconn__buf_clear(&e->sasl_out);
	e->ir_pending = 0;
	e->pend_chunks = e->pend_next = 0;
	e->lit_left = 0;
	if (e->sasl) {
		mailconn__sasl_free(e->sasl);
		e->sasl = NULL;
	}
}

void
imap_fail(struct mailconn__imap *e, mailconn_error outcome,
          mailconn_cause cause, const char *reply, size_t reply_len,
          const char *fmt, ...)
{
	if (e->st == ST_FAILED)
		return;
	va_list ap;
	va_start(ap, fmt);
	mailconn__pp_record(&e->pp, e->stage, e->step, outcome, cause, reply,
	                    reply_len, fmt, ap);
	va_end(ap);
	e->pp.failure.provider = NULL;
	drop_pending(e);
	e->st = ST_FAILED;
}

void
imap_fail_nomem(struct mailconn__imap *e)
{
	imap_fail(e, imap_stage_outcome(e), MAILCONN_CAUSE_NONE, NULL, 0,
	          "out of memory");
}

/* The kept untagged lines plus `last`, '\n'-joined, into e->tmp. */
void
imap_build_reply(struct mailconn__imap *e, const char *last, size_t last_len)
{
	mailconn__buf_clear(&e->tmp);
	imap_append_some(&e->tmp, e->kept.data ? e->kept.data : "", e->kept.len);
	if (last && last_len) {
		if (e->tmp.len)
			imap_append_some(&e->tmp, "\n", 1);
		imap_append_some(&e->tmp, last, last_len);
	}
}

/* Fail on a server refusal, letting the classifier judge it; the fallback
 * holds when it sees no error. */
void
imap_fail_refusal(struct mailconn__imap *e, enum mailconn__step step,
                  const char *last, size_t last_len, mailconn_error fb_outcome,
                  mailconn_cause fb_cause, const char *what)
{
	imap_build_reply(e, last, last_len);

	struct mailconn__classification c;
	mailconn__pp_judge(&e->pp, MAILCONN_PROTOCOL_IMAP, step, e->tmp.data,
	                   e->tmp.len, e->tls_active,
	                   e->mech != MAILCONN__MECH_NONE || e->use_login_cmd
	                   ? mailconn__imap_mechanism(e) : NULL, &c);

	mailconn_error outcome = fb_outcome;
	mailconn_cause cause = fb_cause;
	if (c.outcome != MAILCONN_OK) {
		outcome = c.outcome;
		if (c.cause != MAILCONN_CAUSE_NONE)
			cause = c.cause;
	}
	e->step = step;
	imap_fail(e, outcome, cause, e->tmp.data, e->tmp.len, "%s", what);
	e->pp.failure.provider = c.provider;
	e->pp.failure.step = step;
	mailconn__buf_clear(&e->tmp);
}

/* ---- Commands --------------------------------------------------------- */

/* Open a command: new tag, fresh reply context. */
void
imap_begin_command(struct mailconn__imap *e, enum mailconn__step step)
{
	e->tag_no++;
	snprintf(e->tag, sizeof(e->tag), "A%u", e->tag_no);
	e->step = step;
	e->cmd_open = 1;
	e->caps_fresh = 0;
	mailconn__buf_clear(&e->kept);
}

/* Queue "<tag> <args>\r\n" and report it as sent. */
int
imap_send_command(struct mailconn__imap *e, enum mailconn__step step,
                  const char *args)
{
	imap_begin_command(e, step);
	int rc = mailconn__buf_printf(&e->out, "%s %s\r\n", e->tag, args);
	if (rc) {
		imap_fail_nomem(e);
		return -1;
	}
	/* Reported lines are NUL-terminated; the output holds CRLF. */
	mailconn__buf_clear(&e->tmp);
	if (mailconn__buf_printf(&e->tmp, "%s %s", e->tag, args) == 0)
		imap_report(e, MAILCONN_DIR_SENT, e->tmp.data, e->tmp.len);
	mailconn__buf_clear(&e->tmp);
	return 0;
}

/* ---- Capabilities and response codes -------------------------------- */

static int
atom_valid(const char *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){}%*\"\\]", c))
			return 0;
	}
	return n > 0;
}

/* Replace the known capabilities with the atoms in [p, p+n). */
void
imap_set_caps(struct mailconn__imap *e, const char *p, size_t n)
{
	struct cur c = { p, n };
	const char *t;
	size_t tn;

	mailconn__buf_clear(&e->caps);
	while (c.n) {
		if (!imap_cur_token(&c, &t, &tn) || !atom_valid(t, tn))
			continue;
		const char *secret = imap_secret(e);
		if (e->secret_sent &&
		    mailconn__memfind(t, tn, secret, strlen(secret)) != SIZE_MAX)
			continue;
		if (e->caps.len && e->caps.len + 1 + tn > e->caps.limit)
			break;
		if (e->caps.len)
			imap_append_some(&e->caps, " ", 1);
		imap_append_some(&e->caps, t, tn);
	}
	e->caps_known = 1;
	e->caps_fresh = 1;
}

int
imap_has_cap(const struct mailconn__imap *e, const char *name)
{
	struct cur c = { e->caps.data, e->caps.len };
	const char *t;
	size_t tn;

	while (c.n)
		if (imap_cur_token(&c, &t, &tn) && mailconn__ascii_ieq(t, tn, name))
			return 1;
	return 0;
}

/* The SASL mechanisms offered as AUTH= atoms, space-separated, in e->tmp. */
const char *
imap_auth_offered(struct mailconn__imap *e)
{
	struct cur c = { e->caps.data, e->caps.len };
	const char *t;
	size_t tn;

	mailconn__buf_clear(&e->tmp);
	while (c.n) {
		if (!imap_cur_token(&c, &t, &tn) ||
		    !mailconn__ascii_iprefix(t, tn, "AUTH=") ||
		    tn == 5)
			continue;
		if (e->tmp.len)
			imap_append_some(&e->tmp, " ", 1);
		imap_append_some(&e->tmp, t + 5, tn - 5);
	}
	return e->tmp.data ? e->tmp.data : "";
}

/* If resp-text starts with "[CODE ...]", return CODE and its arguments. */
int
imap_resp_code(const char *text, size_t n, const char **code,
               size_t *code_len, const char **args, size_t *args_len)
{
	if (n < 2 || text[0] != '[')
		return 0;
	size_t end = 1;
	while (end < n && text[end] != ']')
		end++;
	if (end == n)
		return 0;
	size_t i = 1;
	while (i < end && text[i] != ' ')
		i++;
	*code = text + 1;
	*code_len = i - 1;
	*args = i < end ? text + i + 1 : text + end;
	*args_len = i < end ? end - i - 1 : 0;
	return 1;
}

/* ---- Strings we send -------------------------------------------------- */

/* A string argument as a quoted string when it is plain printable ASCII,
 * else as a literal (RFC 3501 section 4.3, RFC 7888 for {n+}). */
static int
quotable(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return 0;
	return 1;
}

int
imap_append_quoted(struct mailconn__buf *b, const char *s)
{
	int rc = mailconn__buf_append(b, "\"", 1);
	for (const char *c = s; !rc && *c; c++) {
		if (*c == '"' || *c == '\\')
			rc = mailconn__buf_append(b, "\\", 1);
		if (!rc)
			rc = mailconn__buf_append(b, c, 1);
	}
	if (!rc)
		rc = mailconn__buf_append(b, "\"", 1);
	return rc;
}

int
imap_append_astring(struct mailconn__imap *e, const char *s)
{
	struct mailconn__buf *b = &e->pend;
	size_t n = strlen(s);

	if (quotable(s))
		return imap_append_quoted(b, s);
	int nonsync = imap_has_cap(e, "LITERAL+") ||
	              (imap_has_cap(e, "LITERAL-") && n <= IMAP_LITERAL_MINUS_MAX);
	int rc = mailconn__buf_printf(b, "{%zu%s}\r\n", n, nonsync ? "+" : "");
	if (rc)
		return rc;
	if (!nonsync) {
		if (e->pend_chunks >= IMAP_MAX_SYNC_LITERALS)
			return -1;
		e->pend_cut[e->pend_chunks++] = b->len;
	}
	return mailconn__buf_append(b, s, n);
}

/* Move the next chunk of the LOGIN command to the output. */
int
imap_send_next_chunk(struct mailconn__imap *e)
{
	size_t start = e->pend_next ? e->pend_cut[e->pend_next - 1] : 0;
	size_t end = e->pend_next < e->pend_chunks ? e->pend_cut[e->pend_next]
	                                            : e->pend.len;
	if (mailconn__buf_append(&e->out, e->pend.data + start, end - start))
		return -1;
	e->pend_next++;
	if (e->pend_next > e->pend_chunks)
		mailconn__buf_clear(&e->pend);
	return 0;
}

/* ---- Reading: literals and lines ------------------------------------- */

void
imap_protocol_error(struct mailconn__imap *e, const char *l, size_t n,
                    const char *what)
{
	imap_build_reply(e, l, n);
	imap_fail(e, imap_stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR,
	          e->tmp.data, e->tmp.len, "%s", what);
}

/* A server literal "{n}" (or literal8 "~{n}") ends the line: its bytes
 * follow and the response goes on after them. */
void
imap_check_literal(struct mailconn__imap *e, const char *l, size_t n)
{
	if (n < 3 || l[n - 1] != '}')
		return;
	size_t i = n - 1;
	while (i > 0 && l[i - 1] >= '0' && l[i - 1] <= '9')
		i--;
	if (i == 0 || l[i - 1] != '{' || i == n - 1)
		return;
	uint64_t v = 0;
	int big = 0;
	for (size_t k = i; k < n - 1; k++) {
		if (v > (UINT64_MAX - 9) / 10) {
			big = 1;
			break;
		}
		v = v * 10 + (uint64_t)(l[k] - '0');
	}
	e->resp_total += n + 2;
	if (big || v > MAILCONN__MAX_LITERAL) {
		char size[24] = "too many";
		if (!big)
			snprintf(size, sizeof(size), "%llu",
			         (unsigned long long)v);
		imap_build_reply(e, l, n);
		imap_fail(e, imap_stage_outcome(e),
		          MAILCONN_CAUSE_LINE_TOO_LONG, e->tmp.data, e->tmp.len,
		          "server announced a literal of %s bytes (limit %d)",
		          size, MAILCONN__MAX_LITERAL);
		return;
	}
	if (e->resp_total + v > IMAP_MAX_RESPONSE) {
		imap_build_reply(e, l, n);
		imap_fail(e, imap_stage_outcome(e),
		          MAILCONN_CAUSE_LINE_TOO_LONG, e->tmp.data, e->tmp.len,
		          "server response with literals exceeds %d bytes",
		          IMAP_MAX_RESPONSE);
		return;
	}
	e->resp_total += (size_t)v;
	e->lit_left = (size_t)v;
	e->resp_continues = 1;
}

/* Bytes after the STARTTLS OK came before the handshake, in plaintext:
 * whoever sent them, they must never be read as TLS-protected. */
int
imap_injection_check(struct mailconn__imap *e, const char *l, size_t n)
{
	if (e->pp.in.len == 0 && e->feed_rest == 0)
		return 0;
	size_t extra = e->pp.in.len + e->feed_rest;
	mailconn__pp_drop_input(&e->pp);
	imap_fail(e, MAILCONN_IMAP_VALIDATION,
	          MAILCONN_CAUSE_STARTTLS_INJECTION, l, n,
	          "%zu byte(s) arrived after the STARTTLS reply and before the "
	          "TLS handshake (response injection); discarded unread",
	          extra);
	return -1;
}

static int
active(const struct mailconn__imap *e)
{
	return e->st != ST_FAILED && e->st != ST_DONE && e->st != ST_TLS_WAIT;
}

/* Parse every complete line in `in`, skipping literal bytes. */
static void
drain_lines(struct mailconn__imap *e)
{
	while (active(e)) {
		if (e->lit_left) {
			size_t skip = e->lit_left < e->pp.in.len ? e->lit_left
			                                      : e->pp.in.len;
			mailconn__buf_consume(&e->pp.in, skip);
			e->lit_left -= skip;
			e->pp.scanned = 0;
			if (e->lit_left)
				return;
			continue;
		}
		const char *l;
		size_t n;
		switch (mailconn__pp_next_line(&e->pp, 0, &l, &n)) {
		case MAILCONN__PP_LINE:
			imap_process_line(e, l, n);
			break;
		case MAILCONN__PP_TOO_LONG:
			/* The start of the line is kept as the reply: it
			 * often shows what really answered (HTTP, TLS...). */
			imap_fail(e, imap_stage_outcome(e), MAILCONN_CAUSE_LINE_TOO_LONG,
			          e->pp.in.data, e->pp.in.len < 256 ? e->pp.in.len : 256,
			          "server sent a line longer than %d bytes",
			          MAILCONN__MAX_LINE);
			return;
		case MAILCONN__PP_NOMEM:
			imap_fail_nomem(e);
			return;
		default:
			return;
		}
	}
}

/* ---- Entry points (imap.h) ------------------------------------------- */

void
mailconn__imap_feed(struct mailconn__imap *e, const char *data, size_t len)
{
	if (!e || !data || e->st == ST_FAILED || e->st == ST_DONE)
		return;
	if (e->st == ST_TLS_WAIT) {
		if (len) {
			e->feed_rest = len;
			imap_injection_check(e, NULL, 0);
			e->feed_rest = 0;
		}
		return;
	}
	while (len && active(e)) {
		if (e->lit_left && e->pp.in.len == 0) {
			size_t skip = e->lit_left < len ? e->lit_left : len;
			data += skip;
			len -= skip;
			e->lit_left -= skip;
			continue;
		}
		size_t take = e->pp.in.limit - e->pp.in.len;
		if (take > len)
			take = len;
		if (take && mailconn__pp_take(&e->pp, data, take) != take) {
			imap_fail_nomem(e);
			break;
		}
		data += take;
		len -= take;
		e->feed_rest = len;
		drain_lines(e);
	}
	e->feed_rest = 0;
}

void
mailconn__imap_eof(struct mailconn__imap *e)
{
	if (!e || e->st == ST_FAILED || e->st == ST_DONE)
		return;
	const char *partial = e->pp.in.len ? " (in the middle of a line)" : "";
	if (!e->greeted) {
		imap_fail(e, MAILCONN_IMAP_SETTINGS,
		          MAILCONN_CAUSE_CONNECTION_CLOSED, NULL, 0,
		          "server closed the connection before sending a "
		          "greeting%s", partial);
		return;
	}
	imap_build_reply(e, NULL, 0);
	imap_fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_CONNECTION_CLOSED,
	          e->tmp.data, e->tmp.len,
	          "server closed the connection while we waited for the reply "
	          "to %s%s", mailconn__step_name(e->step), partial);
}

size_t
mailconn__imap_output(struct mailconn__imap *e, const char **data)
{
	if (!e || !e->out.len) {
		if (data)
			*data = "";
		return 0;
	}
	if (data)
		*data = e->out.data;
	return e->out.len;
}

void
mailconn__imap_output_done(struct mailconn__imap *e, size_t n)
{
	if (!e)
		return;
	mailconn__buf_consume(&e->out, n > e->out.len ? e->out.len : n);
}
