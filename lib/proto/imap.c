/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sans-I/O IMAP client for stages 1-2: greeting, CAPABILITY, STARTTLS, one
 * login (LOGIN or AUTHENTICATE), EXAMINE INBOX and LOGOUT. */
#include "proto/imap.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/b64.h"
#include "proto/outcome.h"
#include "proto/pingpong.h"
#include "proto/sasl.h"

/* Commands we build: a LOGIN with two literals or a long OAuth2 token. */
#define IMAP_MAX_OUTPUT (4 * MAILCONN__MAX_LITERAL)
/* One response including its literals; literal bytes are skipped, not kept,
 * so this only bounds how long one response may go on. */
#define IMAP_MAX_RESPONSE (4 * MAILCONN__MAX_LITERAL)
/* RFC 7888: LITERAL- allows non-synchronising literals up to 4096 bytes. */
#define IMAP_LITERAL_MINUS_MAX 4096
#define IMAP_MAX_BINDING 256
/* LOGIN has two arguments, so at most two synchronising literals. */
#define IMAP_MAX_SYNC_LITERALS 2

static const char redacted[] = "[redacted]";

enum imap_state {
	ST_GREETING = 0,
	ST_CAPABILITY,      /* CAPABILITY before login */
	ST_STARTTLS,
	ST_TLS_WAIT,        /* STARTTLS accepted; the driver runs the handshake */
	ST_LOGIN,           /* LOGIN or AUTHENTICATE in flight */
	ST_CAPABILITY_POST, /* CAPABILITY after login */
	ST_EXAMINE,
	ST_DONE,
	ST_FAILED
};

struct mailconn__imap {
	struct mailconn__engine_params p;
	enum imap_state st;
	mailconn_stage stage;
	int greeted;
	int tls_active;
	int secret_sent;             /* from now on, scrub echoes of secrets */

	struct mailconn__pp pp;      /* framing, transcript, failure record */
	size_t feed_rest;            /* bytes of the current feed not in `in` */
	size_t lit_left;             /* server literal bytes still to skip */
	size_t resp_total;           /* bytes of the response being continued */
	int resp_continues;          /* next line continues after a literal */

	struct mailconn__buf out;
	struct mailconn__buf caps;   /* valid atoms, space-separated */
	int caps_known;
	int caps_fresh;              /* a CAPABILITY arrived for this command */
	struct mailconn__buf kept;   /* untagged status lines of this command */
	struct mailconn__buf tmp;

	char tag[16];
	unsigned tag_no;
	int cmd_open;                /* a tagged reply is expected */
	enum mailconn__step step;    /* what the command in flight does */

	/* Login */
	int use_login_cmd;
	enum mailconn__mech mech;
	struct mailconn__sasl *sasl;
	int sasl_done;
	struct mailconn__buf ir;     /* base64 initial response awaiting '+' */
	int ir_pending;
	struct mailconn__buf pend;   /* LOGIN wire bytes, cut at sync literals */
	size_t pend_cut[IMAP_MAX_SYNC_LITERALS]; /* where each '+' is awaited */
	unsigned pend_chunks, pend_next;         /* cuts used, next chunk */
	struct mailconn__buf sasl_in;
	struct mailconn__buf sasl_out;

	char cb_type[32];
	unsigned char cb_data[IMAP_MAX_BINDING];
	size_t cb_len;
	int have_cb;
};

/* ---- Small helpers ---------------------------------------------------- */

/* A cursor over one line; lines may hold NUL bytes, so lengths rule. */
struct cur {
	const char *p;
	size_t n;
};

/* Next space-delimited token; one separating space is consumed. */
static int
cur_token(struct cur *c, const char **t, size_t *tn)
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
static void
append_some(struct mailconn__buf *b, const void *p, size_t n)
{
	size_t room = b->limit - b->len;
	if (n > room)
		n = room;
	if (n)
		(void)mailconn__buf_append(b, p, n);
}

static const char *
engine_secret(const struct mailconn__imap *e)
{
	if (e->p.oauth2_token && *e->p.oauth2_token)
		return e->p.oauth2_token;
	return e->p.password ? e->p.password : "";
}

static void
report(struct mailconn__imap *e, mailconn_direction dir, const char *s,
       size_t n)
{
	mailconn__pp_report(&e->pp, dir, s, n);
}

static mailconn_error
stage_outcome(const struct mailconn__imap *e)
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

static void
fail(struct mailconn__imap *e, mailconn_error outcome, mailconn_cause cause,
     const char *reply, size_t reply_len, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void
fail(struct mailconn__imap *e, mailconn_error outcome, mailconn_cause cause,
     const char *reply, size_t reply_len, const char *fmt, ...)
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

static void
fail_nomem(struct mailconn__imap *e)
{
	fail(e, stage_outcome(e), MAILCONN_CAUSE_NONE, NULL, 0,
	     "out of memory");
}

/* The kept untagged lines plus `last`, '\n'-joined, into e->tmp. */
static void
build_reply(struct mailconn__imap *e, const char *last, size_t last_len)
{
	mailconn__buf_clear(&e->tmp);
	append_some(&e->tmp, e->kept.data ? e->kept.data : "", e->kept.len);
	if (last && last_len) {
		if (e->tmp.len)
			append_some(&e->tmp, "\n", 1);
		append_some(&e->tmp, last, last_len);
	}
}

/* Fail on a server refusal, letting the classifier judge it; the fallback
 * holds when it sees no error. */
static void
fail_refusal(struct mailconn__imap *e, enum mailconn__step step,
             const char *last, size_t last_len, mailconn_error fb_outcome,
             mailconn_cause fb_cause, const char *what)
{
	build_reply(e, last, last_len);

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
	fail(e, outcome, cause, e->tmp.data, e->tmp.len, "%s", what);
	e->pp.failure.provider = c.provider;
	e->pp.failure.step = step;
	mailconn__buf_clear(&e->tmp);
}

/* ---- Sending ---------------------------------------------------------- */

/* Open a command: new tag, fresh reply context. */
static void
begin_command(struct mailconn__imap *e, enum mailconn__step step)
{
	e->tag_no++;
	snprintf(e->tag, sizeof(e->tag), "A%u", e->tag_no);
	e->step = step;
	e->cmd_open = 1;
	e->caps_fresh = 0;
	mailconn__buf_clear(&e->kept);
}

/* Queue "<tag> <args>\r\n" and report it as sent. */
static int
send_command(struct mailconn__imap *e, enum mailconn__step step,
             const char *args)
{
	begin_command(e, step);
	int rc = mailconn__buf_printf(&e->out, "%s %s\r\n", e->tag, args);
	if (rc) {
		fail_nomem(e);
		return -1;
	}
	/* Reported lines are NUL-terminated; the output holds CRLF. */
	mailconn__buf_clear(&e->tmp);
	if (mailconn__buf_printf(&e->tmp, "%s %s", e->tag, args) == 0)
		report(e, MAILCONN_DIR_SENT, e->tmp.data, e->tmp.len);
	mailconn__buf_clear(&e->tmp);
	return 0;
}

/* ---- Capabilities ----------------------------------------------------- */

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
static void
set_caps(struct mailconn__imap *e, const char *p, size_t n)
{
	struct cur c = { p, n };
	const char *t;
	size_t tn;

	mailconn__buf_clear(&e->caps);
	while (c.n) {
		if (!cur_token(&c, &t, &tn) || !atom_valid(t, tn))
			continue;
		const char *secret = engine_secret(e);
		if (e->secret_sent &&
		    mailconn__memfind(t, tn, secret, strlen(secret)) != SIZE_MAX)
			continue;
		if (e->caps.len && e->caps.len + 1 + tn > e->caps.limit)
			break;
		if (e->caps.len)
			append_some(&e->caps, " ", 1);
		append_some(&e->caps, t, tn);
	}
	e->caps_known = 1;
	e->caps_fresh = 1;
}

static int
has_cap(const struct mailconn__imap *e, const char *name)
{
	struct cur c = { e->caps.data, e->caps.len };
	const char *t;
	size_t tn;

	while (c.n)
		if (cur_token(&c, &t, &tn) && mailconn__ascii_ieq(t, tn, name))
			return 1;
	return 0;
}

/* The SASL mechanisms offered as AUTH= atoms, space-separated, in e->tmp. */
static const char *
auth_offered(struct mailconn__imap *e)
{
	struct cur c = { e->caps.data, e->caps.len };
	const char *t;
	size_t tn;

	mailconn__buf_clear(&e->tmp);
	while (c.n) {
		if (!cur_token(&c, &t, &tn) || !mailconn__ascii_iprefix(t, tn, "AUTH=") ||
		    tn == 5)
			continue;
		if (e->tmp.len)
			append_some(&e->tmp, " ", 1);
		append_some(&e->tmp, t + 5, tn - 5);
	}
	return e->tmp.data ? e->tmp.data : "";
}

/* If resp-text starts with "[CODE ...]", return CODE and its arguments. */
static int
resp_code(const char *text, size_t n, const char **code, size_t *code_len,
          const char **args, size_t *args_len)
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

/* ---- Stage flow ------------------------------------------------------- */

static void start_login(struct mailconn__imap *e);

/* Decide the next command once the previous one (or the greeting) is done. */
static void
advance(struct mailconn__imap *e)
{
	e->cmd_open = 0;
	if (!e->caps_known) {
		if (send_command(e, MAILCONN__STEP_CAPABILITY, "CAPABILITY") == 0)
			e->st = ST_CAPABILITY;
		return;
	}
	if (e->p.tls_mode == MAILCONN__TLS_STARTTLS && !e->tls_active) {
		if (!has_cap(e, "STARTTLS")) {
			e->step = MAILCONN__STEP_STARTTLS;
			fail(e, MAILCONN_IMAP_VALIDATION,
			     MAILCONN_CAUSE_STARTTLS_UNAVAILABLE, NULL, 0,
			     "server does not offer STARTTLS (capabilities: %.400s)",
			     e->caps.data ? e->caps.data : "");
			return;
		}
		if (send_command(e, MAILCONN__STEP_STARTTLS, "STARTTLS") == 0)
			e->st = ST_STARTTLS;
		return;
	}
	if (!has_cap(e, "IMAP4rev1") && !has_cap(e, "IMAP4rev2")) {
		e->step = MAILCONN__STEP_CAPABILITY;
		fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NO_IMAP4REV1,
		     NULL, 0,
		     "server offers neither IMAP4rev1 nor IMAP4rev2 "
		     "(capabilities: %.400s)", e->caps.data ? e->caps.data : "");
		return;
	}
	e->stage = MAILCONN_STAGE_IMAP_LOGIN;
	start_login(e);
}

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

static int
append_quoted(struct mailconn__buf *b, const char *s)
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

static int
append_astring(struct mailconn__imap *e, const char *s)
{
	struct mailconn__buf *b = &e->pend;
	size_t n = strlen(s);

	if (quotable(s))
		return append_quoted(b, s);
	int nonsync = has_cap(e, "LITERAL+") ||
	              (has_cap(e, "LITERAL-") && n <= IMAP_LITERAL_MINUS_MAX);
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
static int
send_next_chunk(struct mailconn__imap *e)
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

static void
login_command(struct mailconn__imap *e)
{
	const char *user = e->p.username ? e->p.username : "";

	e->use_login_cmd = 1;
	e->mech = MAILCONN__MECH_NONE;
	begin_command(e, MAILCONN__STEP_LOGIN);
	mailconn__buf_clear(&e->pend);
	e->pend_chunks = e->pend_next = 0;

	int rc = mailconn__buf_printf(&e->pend, "%s LOGIN ", e->tag);
	if (!rc)
		rc = append_astring(e, user);
	if (!rc)
		rc = mailconn__buf_append(&e->pend, " ", 1);
	if (!rc)
		rc = append_astring(e, e->p.password);
	if (!rc)
		rc = mailconn__buf_append(&e->pend, "\r\n", 2);
	if (!rc)
		rc = send_next_chunk(e);
	if (rc) {
		fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NONE, NULL, 0,
		     "cannot build the LOGIN command (out of memory or "
		     "credentials too long)");
		return;
	}
	e->secret_sent = 1;

	/* The transcript shows the user as typed and never the password, nor
	 * its length as a literal would. */
	mailconn__buf_clear(&e->tmp);
	rc = mailconn__buf_printf(&e->tmp, "%s LOGIN ", e->tag);
	if (!rc)
		rc = append_quoted(&e->tmp, user);
	if (!rc)
		rc = mailconn__buf_printf(&e->tmp, " %s", redacted);
	if (!rc)
		report(e, MAILCONN_DIR_SENT, e->tmp.data, e->tmp.len);
	mailconn__buf_clear(&e->tmp);
	e->st = ST_LOGIN;
}

static void
authenticate_command(struct mailconn__imap *e, enum mailconn__mech m)
{
	const char *name = mailconn__mech_name(m);
	struct mailconn__channel_binding cb = {
		e->cb_type, e->cb_data, e->cb_len
	};

	e->use_login_cmd = 0;
	e->mech = m;
	begin_command(e, MAILCONN__STEP_AUTHENTICATE);
	e->sasl = mailconn__sasl_new(m, e->p.username ? e->p.username : "",
	                             engine_secret(e), e->p.host, e->p.port,
	                             e->have_cb ? &cb : NULL, e->p.crypto);
	if (!e->sasl) {
		fail_nomem(e);
		return;
	}
	mailconn__buf_clear(&e->sasl_out);
	enum mailconn__sasl_status st = mailconn__sasl_start(e->sasl,
	                                                     &e->sasl_out);
	if (st == MAILCONN__SASL_ERROR) {
		mailconn_cause cause = mailconn__sasl_error_cause(e->sasl);
		fail(e, MAILCONN_IMAP_VALIDATION,
		     cause ? cause : MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
		     "cannot start SASL %s", name);
		return;
	}
	e->sasl_done = st == MAILCONN__SASL_DONE;

	mailconn__buf_clear(&e->ir);
	int rc = 0;
	if (e->sasl_out.len)
		rc = mailconn__b64_encode((const unsigned char *)e->sasl_out.data,
		                          e->sasl_out.len, &e->ir);
	mailconn__buf_clear(&e->sasl_out);
	if (rc) {
		fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NONE, NULL, 0,
		     "cannot encode the SASL %s initial response", name);
		return;
	}

	/* Mechanisms without an initial response (LOGIN) send none, even
	 * with SASL-IR: "=" would be an empty response, not an absent one. */
	int inline_ir = e->ir.len > 0 && has_cap(e, "SASL-IR");
	rc = mailconn__buf_printf(&e->out, "%s AUTHENTICATE %s", e->tag, name);
	if (!rc && inline_ir)
		rc = mailconn__buf_printf(&e->out, " %s", e->ir.data);
	if (!rc)
		rc = mailconn__buf_append(&e->out, "\r\n", 2);
	if (rc) {
		fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NONE, NULL, 0,
		     "cannot build the AUTHENTICATE command (out of memory or "
		     "credentials too long)");
		return;
	}
	e->secret_sent = 1;
	e->ir_pending = e->ir.len > 0 && !inline_ir;
	if (!e->ir_pending)
		mailconn__buf_clear(&e->ir);

	mailconn__buf_clear(&e->tmp);
	if (inline_ir)
		rc = mailconn__buf_printf(&e->tmp, "%s AUTHENTICATE %s %s",
		                          e->tag, name, redacted);
	else
		rc = mailconn__buf_printf(&e->tmp, "%s AUTHENTICATE %s", e->tag,
		                          name);
	if (!rc)
		report(e, MAILCONN_DIR_SENT, e->tmp.data, e->tmp.len);
	mailconn__buf_clear(&e->tmp);
	e->st = ST_LOGIN;
}

static void
start_login(struct mailconn__imap *e)
{
	const char *token = e->p.oauth2_token && *e->p.oauth2_token
	                    ? e->p.oauth2_token : NULL;
	int logindisabled = has_cap(e, "LOGINDISABLED");
	int have_cb = e->have_cb && e->tls_active;
	enum mailconn__mech m;

	e->step = token ? MAILCONN__STEP_AUTHENTICATE : MAILCONN__STEP_LOGIN;
	/* Defence in depth: the flow above never gets here in plaintext
	 * unless the user chose plaintext. */
	if (!e->tls_active && e->p.tls_mode != MAILCONN__TLS_NONE) {
		fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_AUTH_INSECURE,
		     NULL, 0, "refusing to send credentials without TLS");
		return;
	}
	if (token) {
		m = mailconn__sasl_choose(auth_offered(e), 0, 1, have_cb);
		if (m == MAILCONN__MECH_NONE) {
			fail(e, MAILCONN_IMAP_VALIDATION,
			     MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
			     "server offers no OAuth2 mechanism (AUTH=XOAUTH2 or "
			     "AUTH=OAUTHBEARER; capabilities: %.400s)",
			     e->caps.data ? e->caps.data : "");
			return;
		}
		authenticate_command(e, m);
		return;
	}
	if (!e->p.password) {
		fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_AUTH_NO_MECHANISM,
		     NULL, 0, "no password or OAuth2 token to log in with");
		return;
	}
	m = mailconn__sasl_choose(auth_offered(e), 1, 0, have_cb);
	/* The LOGIN command is the plainer twin of SASL LOGIN; SASL LOGIN is
	 * only worth it when the command is disabled. */
	if (m == MAILCONN__MECH_NONE || m == MAILCONN__MECH_LOGIN) {
		if (!logindisabled) {
			login_command(e);
			return;
		}
		if (m == MAILCONN__MECH_NONE) {
			if (!e->tls_active)
				fail(e, MAILCONN_IMAP_SETTINGS,
				     MAILCONN_CAUSE_AUTH_PRIVACY_REQUIRED, NULL, 0,
				     "server disables LOGIN on this unencrypted "
				     "connection (LOGINDISABLED) and offers no "
				     "usable AUTH= mechanism: use TLS or STARTTLS");
			else
				fail(e, MAILCONN_IMAP_VALIDATION,
				     MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
				     "server disables LOGIN (LOGINDISABLED) and "
				     "offers no usable AUTH= mechanism "
				     "(capabilities: %.400s)",
				     e->caps.data ? e->caps.data : "");
			return;
		}
	}
	authenticate_command(e, m);
}

/* ---- Responses -------------------------------------------------------- */

static void
protocol_error(struct mailconn__imap *e, const char *l, size_t n,
               const char *what)
{
	build_reply(e, l, n);
	fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR, e->tmp.data,
	     e->tmp.len, "%s", what);
}

static void
handle_greeting(struct mailconn__imap *e, const char *l, size_t n)
{
	struct cur c = { l, n };
	const char *t;
	size_t tn;

	e->step = MAILCONN__STEP_GREETING;
	if (n >= 4 && l[0] >= '1' && l[0] <= '5' && l[1] >= '0' &&
	    l[1] <= '9' && l[2] >= '0' && l[2] <= '9' &&
	    (l[3] == ' ' || l[3] == '-')) {
		fail(e, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_WRONG_PROTOCOL, l, n,
		     "this port speaks SMTP, not IMAP: check the IMAP host "
		     "and port (usually 993 or 143)");
		return;
	}
	if (mailconn__ascii_iprefix(l, n, "+OK")) {
		fail(e, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_WRONG_PROTOCOL, l, n,
		     "this port speaks POP3, not IMAP: check the IMAP host "
		     "and port (usually 993 or 143)");
		return;
	}
	if (n >= 2 && l[0] == '*' && l[1] == ' ') {
		c.p += 2;
		c.n -= 2;
	}
	if (c.n == n || !cur_token(&c, &t, &tn)) {
		fail(e, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_PROTOCOL_ERROR, l, n,
		     "the server's greeting is not an IMAP greeting");
		return;
	}
	if (mailconn__ascii_ieq(t, tn, "OK")) {
		const char *code, *args;
		size_t code_len, args_len;
		e->greeted = 1;
		if (resp_code(c.p, c.n, &code, &code_len, &args, &args_len) &&
		    mailconn__ascii_ieq(code, code_len, "CAPABILITY"))
			set_caps(e, args, args_len);
		advance(e);
	} else if (mailconn__ascii_ieq(t, tn, "PREAUTH")) {
		fail(e, MAILCONN_IMAP_VALIDATION,
		     MAILCONN_CAUSE_UNEXPECTED_PREAUTH, l, n,
		     e->p.tls_mode == MAILCONN__TLS_STARTTLS
		     ? "server greeted with PREAUTH on a connection that must "
		       "be upgraded with STARTTLS first (possible downgrade attack)"
		     : "server greeted with PREAUTH: the session is already "
		       "authenticated, so the login cannot be verified");
	} else if (mailconn__ascii_ieq(t, tn, "BYE")) {
		fail_refusal(e, MAILCONN__STEP_GREETING, l, n,
		             MAILCONN_IMAP_VALIDATION,
		             MAILCONN_CAUSE_GREETING_REJECTED,
		             "server refused service in its greeting (BYE)");
	} else {
		fail(e, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_PROTOCOL_ERROR, l, n,
		     "the server's greeting is not an IMAP greeting");
	}
}

/* Where a refusal of the command in flight sends us: the step the
 * classifier sees and the outcome it falls back to. */
static void
refused(struct mailconn__imap *e, const char *l, size_t n, int bye)
{
	switch (e->st) {
	case ST_CAPABILITY:
		fail_refusal(e, MAILCONN__STEP_CAPABILITY, l, n,
		             bye ? MAILCONN_IMAP_VALIDATION : stage_outcome(e),
		             bye ? MAILCONN_CAUSE_SERVER_BYE
		                 : MAILCONN_CAUSE_PROTOCOL_ERROR,
		             bye ? "server ended the session (BYE) during "
		                   "CAPABILITY"
		                 : "server refused the CAPABILITY command");
		break;
	case ST_STARTTLS:
		fail_refusal(e, MAILCONN__STEP_STARTTLS, l, n,
		             MAILCONN_IMAP_VALIDATION,
		             MAILCONN_CAUSE_STARTTLS_REFUSED,
		             "server refused STARTTLS");
		break;
	case ST_LOGIN: {
		char what[160];
		snprintf(what, sizeof(what), "server %s the login (%s%s)",
		         bye ? "ended the session (BYE) during" : "refused",
		         e->use_login_cmd ? "LOGIN command"
		                          : "AUTHENTICATE ",
		         e->use_login_cmd ? "" : mailconn__mech_name(e->mech));
		fail_refusal(e, e->use_login_cmd ? MAILCONN__STEP_LOGIN
		                                 : MAILCONN__STEP_AUTHENTICATE,
		             l, n, MAILCONN_UNAUTHORIZED,
		             MAILCONN_CAUSE_AUTH_REJECTED, what);
		break;
	}
	case ST_CAPABILITY_POST:
	case ST_EXAMINE:
		fail_refusal(e, MAILCONN__STEP_SELECT, l, n,
		             MAILCONN_IMAP_VALIDATION,
		             bye ? MAILCONN_CAUSE_SERVER_BYE
		                 : MAILCONN_CAUSE_MAILBOX_UNAVAILABLE,
		             bye ? "server ended the session (BYE) after the "
		                   "login"
		             : e->st == ST_EXAMINE
		                 ? "INBOX cannot be opened (EXAMINE INBOX "
		                   "refused)"
		                 : "server refused CAPABILITY after the login");
		break;
	default:
		protocol_error(e, l, n, "unexpected server reply");
		break;
	}
}

/* A server literal "{n}" (or literal8 "~{n}") ends the line: its bytes
 * follow and the response goes on after them. */
static void
check_literal(struct mailconn__imap *e, const char *l, size_t n)
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
		build_reply(e, l, n);
		fail(e, stage_outcome(e), MAILCONN_CAUSE_LINE_TOO_LONG,
		     e->tmp.data, e->tmp.len,
		     "server announced a literal of %s bytes (limit %d)", size,
		     MAILCONN__MAX_LITERAL);
		return;
	}
	if (e->resp_total + v > IMAP_MAX_RESPONSE) {
		build_reply(e, l, n);
		fail(e, stage_outcome(e), MAILCONN_CAUSE_LINE_TOO_LONG,
		     e->tmp.data, e->tmp.len,
		     "server response with literals exceeds %d bytes",
		     IMAP_MAX_RESPONSE);
		return;
	}
	e->resp_total += (size_t)v;
	e->lit_left = (size_t)v;
	e->resp_continues = 1;
}

static void
handle_untagged(struct mailconn__imap *e, const char *l, size_t n)
{
	struct cur c = { l + 2, n - 2 };
	const char *t, *code, *args;
	size_t tn, code_len, args_len;

	/* RFC 9051: "*" SP; the classifier reads lines the same strict way,
	 * so both agree on what is a BYE. */
	if (n < 2 || l[1] != ' ') {
		protocol_error(e, l, n, "malformed untagged response");
		return;
	}
	if (!cur_token(&c, &t, &tn))
		return;
	/* Any untagged response may end in a literal: its bytes follow and
	 * must be skipped, never parsed as responses. */
	check_literal(e, l, n);
	if (e->st == ST_FAILED)
		return;
	/* "* 3 EXISTS": message data we have no use for. */
	if (t[0] >= '0' && t[0] <= '9')
		return;
	if (mailconn__ascii_ieq(t, tn, "CAPABILITY")) {
		set_caps(e, c.p, c.n);
		return;
	}
	if (mailconn__ascii_ieq(t, tn, "OK")) {
		if (!resp_code(c.p, c.n, &code, &code_len, &args, &args_len))
			return;
		if (mailconn__ascii_ieq(code, code_len, "CAPABILITY")) {
			set_caps(e, args, args_len);
		} else if (mailconn__ascii_ieq(code, code_len, "ALERT") ||
		           mailconn__ascii_ieq(code, code_len, "WEBALERT")) {
			if (e->kept.len)
				append_some(&e->kept, "\n", 1);
			append_some(&e->kept, l, n);
		}
		return;
	}
	if (mailconn__ascii_ieq(t, tn, "NO") || mailconn__ascii_ieq(t, tn, "BAD") || mailconn__ascii_ieq(t, tn, "BYE")) {
		if (e->kept.len)
			append_some(&e->kept, "\n", 1);
		append_some(&e->kept, l, n);
		if (mailconn__ascii_ieq(t, tn, "BYE"))
			refused(e, NULL, 0, 1);
		return;
	}
}

static void
handle_continuation(struct mailconn__imap *e, const char *l, size_t n)
{
	if (e->st != ST_LOGIN || e->out.len) {
		protocol_error(e, l, n, e->st != ST_LOGIN
		               ? "unexpected continuation request"
		               : "server answered before the command was sent");
		return;
	}
	if (e->use_login_cmd) {
		if (e->pend_next > e->pend_chunks) {
			protocol_error(e, l, n, "unexpected continuation request");
			return;
		}
		if (send_next_chunk(e))
			fail_nomem(e);
		return;
	}
	if (e->ir_pending) {
		/* The server asks for the response it did not take inline. */
		int rc = mailconn__buf_append(&e->out, e->ir.data, e->ir.len);
		if (!rc)
			rc = mailconn__buf_append(&e->out, "\r\n", 2);
		mailconn__buf_clear(&e->ir);
		e->ir_pending = 0;
		if (rc) {
			fail_nomem(e);
			return;
		}
		report(e, MAILCONN_DIR_SENT, redacted, sizeof(redacted) - 1);
		return;
	}

	const char *text = l + 1;
	size_t tn = n - 1;
	if (tn && text[0] == ' ') {
		text++;
		tn--;
	}
	mailconn__buf_clear(&e->sasl_in);
	mailconn__buf_clear(&e->sasl_out);
	int bad_b64 = mailconn__b64_decode(text, tn, &e->sasl_in) != 0;
	enum mailconn__sasl_status st = MAILCONN__SASL_ERROR;
	if (!bad_b64)
		st = mailconn__sasl_step(e->sasl,
		                         (const unsigned char *)e->sasl_in.data,
		                         e->sasl_in.len, &e->sasl_out);
	mailconn__buf_clear(&e->sasl_in);
	if (st == MAILCONN__SASL_ERROR) {
		mailconn_cause cause = bad_b64 ? MAILCONN_CAUSE_PROTOCOL_ERROR
		                       : mailconn__sasl_error_cause(e->sasl);
		if (cause == MAILCONN_CAUSE_NONE)
			cause = MAILCONN_CAUSE_PROTOCOL_ERROR;
		build_reply(e, l, n);
		fail(e, MAILCONN_IMAP_VALIDATION, cause, e->tmp.data, e->tmp.len,
		     "%s", cause == MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE
		     ? "the server's SCRAM signature does not verify: it does "
		       "not know the password (possible impostor); login "
		       "cancelled"
		     : bad_b64 ? "server sent a malformed SASL challenge "
		                 "(not base64); login cancelled"
		     : "server sent an invalid SASL challenge; login cancelled");
		/* RFC 3501 6.2.2: "*" cancels the exchange. It is the one thing
		 * still sent after a failure. */
		if (mailconn__buf_append(&e->out, "*\r\n", 3) == 0)
			report(e, MAILCONN_DIR_SENT, "*", 1);
		return;
	}
	if (st == MAILCONN__SASL_DONE)
		e->sasl_done = 1;
	int rc = mailconn__b64_encode((const unsigned char *)e->sasl_out.data,
	                              e->sasl_out.len, &e->out);
	if (!rc)
		rc = mailconn__buf_append(&e->out, "\r\n", 2);
	mailconn__buf_clear(&e->sasl_out);
	if (rc) {
		fail_nomem(e);
		return;
	}
	report(e, MAILCONN_DIR_SENT, redacted, sizeof(redacted) - 1);
}

/* Bytes after the STARTTLS OK came before the handshake, in plaintext:
 * whoever sent them, they must never be read as TLS-protected. */
static int
injection_check(struct mailconn__imap *e, const char *l, size_t n)
{
	if (e->pp.in.len == 0 && e->feed_rest == 0)
		return 0;
	size_t extra = e->pp.in.len + e->feed_rest;
	mailconn__pp_drop_input(&e->pp);
	fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_STARTTLS_INJECTION, l,
	     n, "%zu byte(s) arrived after the STARTTLS reply and before the "
	     "TLS handshake (response injection); discarded unread", extra);
	return -1;
}

static void
handle_tagged_ok(struct mailconn__imap *e, const char *l, size_t n,
                 const char *text, size_t tn)
{
	const char *code, *args;
	size_t code_len, args_len;

	if (resp_code(text, tn, &code, &code_len, &args, &args_len) &&
	    mailconn__ascii_ieq(code, code_len, "CAPABILITY"))
		set_caps(e, args, args_len);

	switch (e->st) {
	case ST_CAPABILITY:
		if (!e->caps_fresh) {
			protocol_error(e, l, n, "server answered CAPABILITY "
			               "without listing its capabilities");
			return;
		}
		advance(e);
		break;
	case ST_STARTTLS:
		if (injection_check(e, l, n))
			return;
		e->cmd_open = 0;
		e->st = ST_TLS_WAIT;
		break;
	case ST_LOGIN:
		if (e->ir_pending ||
		    (e->use_login_cmd && e->pend_next <= e->pend_chunks)) {
			protocol_error(e, l, n, "server accepted the login before "
			               "it received the credentials");
			return;
		}
		if (!e->use_login_cmd) {
			if (!mailconn__sasl_server_verified(e->sasl)) {
				build_reply(e, l, n);
				fail(e, MAILCONN_IMAP_VALIDATION,
				     MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE,
				     e->tmp.data, e->tmp.len,
				     "server accepted %s without proving it knows "
				     "the password (no valid SCRAM signature)",
				     mailconn__mech_name(e->mech));
				return;
			}
			if (!e->sasl_done) {
				protocol_error(e, l, n, "server accepted the login "
				               "before the SASL exchange finished");
				return;
			}
			mailconn__sasl_free(e->sasl);
			e->sasl = NULL;
		}
		if (!e->caps_fresh) {
			if (send_command(e, MAILCONN__STEP_CAPABILITY,
			                 "CAPABILITY") == 0)
				e->st = ST_CAPABILITY_POST;
			return;
		}
		/* fall through */
	case ST_CAPABILITY_POST:
		if (send_command(e, MAILCONN__STEP_SELECT, "EXAMINE INBOX") == 0)
			e->st = ST_EXAMINE;
		break;
	case ST_EXAMINE:
		/* The verdict is in with EXAMINE's OK. LOGOUT is a courtesy:
		 * send it and finish without waiting a round trip for the
		 * reply (the driver closes once it is out). */
		if (send_command(e, MAILCONN__STEP_LOGOUT, "LOGOUT") == 0) {
			e->cmd_open = 0;
			e->st = ST_DONE;
		}
		break;
	default:
		break;
	}
}

static void
handle_tagged(struct mailconn__imap *e, const char *l, size_t n)
{
	struct cur c = { l, n };
	const char *t, *st;
	size_t tn, stn;

	cur_token(&c, &t, &tn);
	if (!e->cmd_open || tn != strlen(e->tag) || memcmp(t, e->tag, tn)) {
		protocol_error(e, l, n, "server sent a tagged reply to a "
		               "command we did not send");
		return;
	}
	if (e->out.len) {
		protocol_error(e, l, n, "server answered before the command "
		               "was sent");
		return;
	}
	cur_token(&c, &st, &stn);
	if (mailconn__ascii_ieq(st, stn, "OK"))
		handle_tagged_ok(e, l, n, c.p, c.n);
	else if (mailconn__ascii_ieq(st, stn, "NO") || mailconn__ascii_ieq(st, stn, "BAD"))
		refused(e, l, n, 0);
	else
		protocol_error(e, l, n, "tagged reply is not OK, NO or BAD");
}

static void
process_line(struct mailconn__imap *e, const char *l, size_t n)
{
	mailconn__pp_report_received(&e->pp, l, n);

	if (e->resp_continues) {
		/* The rest of a response interrupted by a literal. */
		e->resp_continues = 0;
		check_literal(e, l, n);
		return;
	}
	e->resp_total = 0;
	if (e->st == ST_GREETING) {
		handle_greeting(e, l, n);
		return;
	}
	if (n && l[0] == '*')
		handle_untagged(e, l, n);
	else if (n && l[0] == '+')
		handle_continuation(e, l, n);
	else
		handle_tagged(e, l, n);
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
			process_line(e, l, n);
			break;
		case MAILCONN__PP_TOO_LONG:
			/* The start of the line is kept as the reply: it
			 * often shows what really answered (HTTP, TLS...). */
			fail(e, stage_outcome(e), MAILCONN_CAUSE_LINE_TOO_LONG,
			     e->pp.in.data, e->pp.in.len < 256 ? e->pp.in.len : 256,
			     "server sent a line longer than %d bytes",
			     MAILCONN__MAX_LINE);
			return;
		case MAILCONN__PP_NOMEM:
			fail_nomem(e);
			return;
		default:
			return;
		}
	}
}

/* ---- Public entry points ---------------------------------------------- */

struct mailconn__imap *
mailconn__imap_new(const struct mailconn__engine_params *p)
{
	if (!p)
		return NULL;
	struct mailconn__imap *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->p = *p;
	e->st = ST_GREETING;
	e->stage = MAILCONN_STAGE_IMAP_CONNECT;
	e->step = MAILCONN__STEP_GREETING;
	/* Implicit mode: the driver did TLS before the first byte. */
	e->tls_active = p->tls_mode == MAILCONN__TLS_IMPLICIT;
	mailconn__buf_init(&e->out, IMAP_MAX_OUTPUT);
	mailconn__buf_init(&e->caps, MAILCONN__MAX_LINE);
	mailconn__buf_init(&e->kept, MAILCONN__MAX_REPLY);
	mailconn__buf_init(&e->tmp, MAILCONN__MAX_REPLY);
	mailconn__buf_init(&e->ir, IMAP_MAX_OUTPUT);
	mailconn__buf_init(&e->pend, IMAP_MAX_OUTPUT);
	mailconn__buf_init(&e->sasl_in, MAILCONN__MAX_LINE);
	mailconn__buf_init(&e->sasl_out, IMAP_MAX_OUTPUT);
	if (mailconn__pp_init(&e->pp, p)) {
		mailconn__imap_free(e);
		return NULL;
	}
	return e;
}

void
mailconn__imap_free(struct mailconn__imap *e)
{
	if (!e)
		return;
	if (e->sasl)
		mailconn__sasl_free(e->sasl);
	mailconn__pp_free(&e->pp);
	mailconn__buf_free(&e->out);
	mailconn__buf_free(&e->caps);
	mailconn__buf_free(&e->kept);
	mailconn__buf_free(&e->tmp);
	mailconn__buf_free(&e->ir);
	mailconn__buf_free(&e->pend);
	mailconn__buf_free(&e->sasl_in);
	mailconn__buf_free(&e->sasl_out);
	mailconn__wipe(e, sizeof(*e));
	free(e);
}

enum mailconn__action
mailconn__imap_next(struct mailconn__imap *e)
{
	if (!e)
		return MAILCONN__ACT_FAILED;
	/* Output first, even after a failure: the only output left then is
	 * the "*" that cancels a SASL exchange. */
	if (e->out.len)
		return MAILCONN__ACT_SEND;
	switch (e->st) {
	case ST_FAILED:
		return MAILCONN__ACT_FAILED;
	case ST_DONE:
		return MAILCONN__ACT_DONE;
	case ST_TLS_WAIT:
		return MAILCONN__ACT_START_TLS;
	default:
		return MAILCONN__ACT_NEED_INPUT;
	}
}

void
mailconn__imap_feed(struct mailconn__imap *e, const char *data, size_t len)
{
	if (!e || !data || e->st == ST_FAILED || e->st == ST_DONE)
		return;
	if (e->st == ST_TLS_WAIT) {
		if (len) {
			e->feed_rest = len;
			injection_check(e, NULL, 0);
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
			fail_nomem(e);
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
		fail(e, MAILCONN_IMAP_SETTINGS, MAILCONN_CAUSE_CONNECTION_CLOSED,
		     NULL, 0, "server closed the connection before sending a "
		     "greeting%s", partial);
		return;
	}
	build_reply(e, NULL, 0);
	fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_CONNECTION_CLOSED,
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

void
mailconn__imap_tls_started(struct mailconn__imap *e,
                           const struct mailconn__channel_binding *cb)
{
	if (!e || e->st == ST_FAILED || e->st == ST_DONE)
		return;
	int implicit_start = e->p.tls_mode == MAILCONN__TLS_IMPLICIT &&
	                     e->st == ST_GREETING && e->pp.in.len == 0;
	if (e->st != ST_TLS_WAIT && !implicit_start) {
		fail(e, stage_outcome(e), MAILCONN_CAUSE_PROTOCOL_ERROR, NULL, 0,
		     "TLS started where the IMAP exchange did not ask for it");
		return;
	}
	e->have_cb = 0;
	mailconn__wipe(e->cb_data, sizeof(e->cb_data));
	if (cb && cb->type && cb->data && cb->len &&
	    cb->len <= sizeof(e->cb_data) && strlen(cb->type) < sizeof(e->cb_type)) {
		snprintf(e->cb_type, sizeof(e->cb_type), "%s", cb->type);
		memcpy(e->cb_data, cb->data, cb->len);
		e->cb_len = cb->len;
		e->have_cb = 1;
	}
	e->tls_active = 1;
	if (implicit_start)
		return;
	/* RFC 3501 6.2.1 / RFC 2595 3.1: forget all that came in plaintext. */
	mailconn__buf_clear(&e->caps);
	mailconn__buf_clear(&e->kept);
	mailconn__pp_drop_input(&e->pp);
	e->caps_known = 0;
	e->caps_fresh = 0;
	e->lit_left = 0;
	e->resp_continues = 0;
	e->st = ST_CAPABILITY;
	advance(e);
}

mailconn_stage
mailconn__imap_stage(const struct mailconn__imap *e)
{
	return e ? e->stage : MAILCONN_STAGE_NONE;
}

const struct mailconn__failure *
mailconn__imap_failure(const struct mailconn__imap *e)
{
	return e ? &e->pp.failure : NULL;
}

const char *
mailconn__imap_capabilities(const struct mailconn__imap *e)
{
	return e && e->caps.data ? e->caps.data : "";
}

const char *
mailconn__imap_mechanism(const struct mailconn__imap *e)
{
	if (!e)
		return "";
	if (e->use_login_cmd)
		return "LOGIN";
	return mailconn__mech_name(e->mech);
}

/* IMAP never waits for the session's go-ahead. */
static int
never_held(const struct mailconn__imap *e)
{
	(void)e;
	return 0;
}

static void
nothing_to_release(struct mailconn__imap *e)
{
	(void)e;
}

MAILCONN__DEFINE_ENGINE_OPS(imap, MAILCONN_PROTOCOL_IMAP, never_held,
                            nothing_to_release);
