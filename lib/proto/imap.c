/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sans-I/O IMAP client for stages 1-2: greeting, CAPABILITY, STARTTLS, one
 * login (LOGIN or AUTHENTICATE), EXAMINE INBOX and LOGOUT. This half
 * sequences the commands; imap-wire.c reads and writes the wire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/text.h"
#include "proto/imap-int.h"

/* ---- Stage flow ------------------------------------------------------- */

static void start_login(struct mailconn__imap *e);

/* Decide the next command once the previous one (or the greeting) is done. */
static void
advance(struct mailconn__imap *e)
{
	e->cmd_open = 0;
	if (!e->caps_known) {
		if (imap_send_command(e, MAILCONN__STEP_CAPABILITY, "CAPABILITY") == 0)
			e->st = ST_CAPABILITY;
		return;
	}
	if (e->p.tls_mode == MAILCONN__TLS_STARTTLS && !e->tls_active) {
		if (!imap_has_cap(e, "STARTTLS")) {
			e->step = MAILCONN__STEP_STARTTLS;
			imap_fail(e, MAILCONN_IMAP_VALIDATION,
			          MAILCONN_CAUSE_STARTTLS_UNAVAILABLE, NULL, 0,
			          "server does not offer STARTTLS (capabilities: %.400s)",
			          e->caps.data ? e->caps.data : "");
			return;
		}
		if (imap_send_command(e, MAILCONN__STEP_STARTTLS, "STARTTLS") == 0)
			e->st = ST_STARTTLS;
		return;
	}
	if (!imap_has_cap(e, "IMAP4rev1") && !imap_has_cap(e, "IMAP4rev2")) {
		e->step = MAILCONN__STEP_CAPABILITY;
		imap_fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NO_IMAP4REV1,
		          NULL, 0,
		          "server offers neither IMAP4rev1 nor IMAP4rev2 "
		          "(capabilities: %.400s)", e->caps.data ? e->caps.data : "");
		return;
	}
	e->stage = MAILCONN_STAGE_IMAP_LOGIN;
	start_login(e);
}

/* A login command we could not even put together is our failure to
 * connect as configured, not the server's. */
static void
cannot_build(struct mailconn__imap *e, const char *command)
{
	imap_fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NONE, NULL, 0,
	          "cannot build the %s command (out of memory or credentials "
	          "too long)", command);
}

static void
login_command(struct mailconn__imap *e)
{
	const char *user = e->p.username ? e->p.username : "";

	e->use_login_cmd = 1;
	e->mech = MAILCONN__MECH_NONE;
	imap_begin_command(e, MAILCONN__STEP_LOGIN);
	mailconn__buf_clear(&e->pend);
	e->pend_chunks = e->pend_next = 0;

	int rc = mailconn__buf_printf(&e->pend, "%s LOGIN ", e->tag);
	if (!rc)
		rc = imap_append_astring(e, user);
	if (!rc)
		rc = mailconn__buf_append(&e->pend, " ", 1);
	if (!rc)
		rc = imap_append_astring(e, e->p.password);
	if (!rc)
		rc = mailconn__buf_append(&e->pend, "\r\n", 2);
	if (!rc)
		rc = imap_send_next_chunk(e);
	if (rc) {
		cannot_build(e, "LOGIN");
		return;
	}
	e->secret_sent = 1;

	/* The transcript shows the user as typed and never the password, nor
	 * its length as a literal would. */
	mailconn__buf_clear(&e->tmp);
	rc = mailconn__buf_printf(&e->tmp, "%s LOGIN ", e->tag);
	if (!rc)
		rc = imap_append_quoted(&e->tmp, user);
	if (!rc)
		rc = mailconn__buf_printf(&e->tmp, " %s", redacted);
	if (!rc)
		imap_report(e, MAILCONN_DIR_SENT, e->tmp.data, e->tmp.len);
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
	/* The retry after a refused -PLUS says "n": "y" would tell a server
	 * that offers -PLUS to treat it as a downgrade and refuse again. */
	int bind = e->have_cb && !e->unbound_retry;

	e->use_login_cmd = 0;
	e->mech = m;
	imap_begin_command(e, MAILCONN__STEP_AUTHENTICATE);
	e->sasl = mailconn__sasl_new(m, e->p.username ? e->p.username : "",
	                             imap_secret(e), e->p.host, e->p.port,
	                             bind ? &cb : NULL, e->p.crypto);
	if (!e->sasl) {
		imap_fail_nomem(e);
		return;
	}
	mailconn__buf_clear(&e->sasl_out);
	enum mailconn__sasl_status st = mailconn__sasl_start(e->sasl,
	                                                     &e->sasl_out);
	if (st == MAILCONN__SASL_ERROR) {
		mailconn_cause cause = mailconn__sasl_error_cause(e->sasl);
		imap_fail(e, MAILCONN_IMAP_VALIDATION,
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
		imap_fail(e, MAILCONN_IMAP_VALIDATION, MAILCONN_CAUSE_NONE,
		          NULL, 0, "cannot encode the SASL %s initial response",
		          name);
		return;
	}

	/* Mechanisms without an initial response (LOGIN) send none, even
	 * with SASL-IR: "=" would be an empty response, not an absent one. */
	int inline_ir = e->ir.len > 0 && imap_has_cap(e, "SASL-IR");
	rc = mailconn__buf_printf(&e->out, "%s AUTHENTICATE %s", e->tag, name);
	if (!rc && inline_ir)
		rc = mailconn__buf_printf(&e->out, " %s", e->ir.data);
	if (!rc)
		rc = mailconn__buf_append(&e->out, "\r\n", 2);
	if (rc) {
		cannot_build(e, "AUTHENTICATE");
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
		imap_report(e, MAILCONN_DIR_SENT, e->tmp.data, e->tmp.len);
	mailconn__buf_clear(&e->tmp);
	e->st = ST_LOGIN;
}

/* Only a certificate accepted unverified changes the usual choice, so
 * only then does the transcript say why: the user sees that the password
 * was kept from a possible interceptor where the server allowed. */
static void
note_choice(struct mailconn__imap *e, const char *name, int exposed)
{
	char note[200];
	if (!exposed || !e->tls_active || e->p.mechanisms)
		return;
	int n = snprintf(note, sizeof(note), "logging in with %s: the "
	                 "certificate is not verified, so the password is sent "
	                 "in a recoverable form only if the server offers "
	                 "nothing better", name);
	if (n > 0)
		imap_report(e, MAILCONN_DIR_INFO, note,
		            (size_t)n < sizeof(note) ? (size_t)n : sizeof(note) - 1);
}

/* A LOGIN command that is complete in one flight (no synchronising
 * literals) takes EXAMINE and LOGOUT along: one round trip instead of
 * two, and LOGOUT's reply is never awaited. Not after AUTHENTICATE, even
 * a one-flight PLAIN with SASL-IR: Cyrus IMAP 3.6 drops whatever was
 * pipelined behind an AUTHENTICATE and then never answers it. The server runs them in order, so the login's tagged reply
 * still comes first and decides: a refused login is reported with its
 * own text whatever the others answer, and a reply out of order is a
 * protocol error. Tags stay A<n>, A<n+1>, A<n+2>; e->tag names the reply
 * awaited now. */
static void
pipeline_rest(struct mailconn__imap *e)
{
	if (e->st != ST_LOGIN)
		return;
	int whole_login = e->use_login_cmd && e->pend_chunks == 0 &&
	                  e->pend_next > e->pend_chunks;
	if (!whole_login)
		return;
	char line[48];
	static const char *const rest[] = { "EXAMINE INBOX", "LOGOUT" };
	for (unsigned i = 0; i < 2; i++) {
		int n = snprintf(line, sizeof(line), "A%u %s", e->tag_no + 1 + i,
		                 rest[i]);
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    mailconn__buf_append(&e->out, line, (size_t)n) ||
		    mailconn__buf_append(&e->out, "\r\n", 2)) {
			imap_fail_nomem(e);
			return;
		}
		imap_report(e, MAILCONN_DIR_SENT, line, (size_t)n);
	}
	e->pipelined = 1;
}

static void
start_login(struct mailconn__imap *e)
{
	const char *token = e->p.oauth2_token && *e->p.oauth2_token
	                    ? e->p.oauth2_token : NULL;
	int logindisabled = imap_has_cap(e, "LOGINDISABLED");
	struct mailconn__mech_policy pol = {
		.have_password = !token && e->p.password != NULL,
		.have_token = token != NULL,
		.have_binding = e->have_cb && e->tls_active,
		.exposed = e->cert_unverified || !e->tls_active,
		.order = e->p.mechanisms,
	};
	enum mailconn__mech m;

	e->step = token ? MAILCONN__STEP_AUTHENTICATE : MAILCONN__STEP_LOGIN;
	/* Defence in depth: the flow above never gets here in plaintext
	 * unless the user chose plaintext. */
	if (!e->tls_active && e->p.tls_mode != MAILCONN__TLS_NONE) {
		imap_fail(e, MAILCONN_IMAP_VALIDATION,
		          MAILCONN_CAUSE_AUTH_INSECURE, NULL, 0,
		          "refusing to send credentials without TLS");
		return;
	}
	if (token) {
		m = mailconn__sasl_pick(imap_auth_offered(e), &pol);
		if (m == MAILCONN__MECH_NONE) {
			imap_fail(e, MAILCONN_IMAP_VALIDATION,
			          MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
			          "server offers no %s mechanism (AUTH=XOAUTH2 or "
			          "AUTH=OAUTHBEARER; capabilities: %.400s)",
			          e->p.mechanisms ? "configured OAuth2" : "OAuth2",
			          e->caps.data ? e->caps.data : "");
			return;
		}
		authenticate_command(e, m);
		return;
	}
	if (!e->p.password) {
		imap_fail(e, MAILCONN_IMAP_VALIDATION,
		          MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
		          "no password or OAuth2 token to log in with");
		return;
	}
	/* The LOGIN command is offered by every IMAP server that does not
	 * say LOGINDISABLED, whatever its AUTH= atoms: it competes as "LOGIN"
	 * in the order. */
	const char *offered = imap_auth_offered(e);
	if (!logindisabled) {
		if (mailconn__buf_append_str(&e->tmp, " LOGIN")) {
			imap_fail_nomem(e);
			return;
		}
		offered = e->tmp.data;
	}
	m = mailconn__sasl_pick(offered, &pol);
	mailconn__buf_clear(&e->tmp);
	/* Without SASL-IR, AUTHENTICATE PLAIN waits for a "+" first: a round
	 * trip more than the LOGIN command, which carries the same password
	 * over the same verified TLS (and GNU imap4d with GNU SASL never
	 * answers that PLAIN at all). */
	if (m == MAILCONN__MECH_PLAIN && !pol.exposed && !e->p.mechanisms &&
	    !logindisabled && !imap_has_cap(e, "SASL-IR"))
		m = MAILCONN__MECH_LOGIN;
	if (m == MAILCONN__MECH_NONE && !e->p.mechanisms && !logindisabled)
		m = MAILCONN__MECH_LOGIN;
	if (m == MAILCONN__MECH_NONE) {
		if (!e->tls_active && logindisabled)
			imap_fail(e, MAILCONN_IMAP_SETTINGS,
			          MAILCONN_CAUSE_AUTH_PRIVACY_REQUIRED,
			          NULL, 0,
			          "server disables LOGIN on this unencrypted "
			          "connection (LOGINDISABLED) and offers no "
			          "usable AUTH= mechanism: use TLS or STARTTLS");
		else if (e->p.mechanisms)
			imap_fail(e, MAILCONN_IMAP_VALIDATION,
			          MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
			          "server offers none of the configured mechanisms "
			          "(%.200s; capabilities: %.400s)", e->p.mechanisms,
			          e->caps.data ? e->caps.data : "");
		else
			imap_fail(e, MAILCONN_IMAP_VALIDATION,
			          MAILCONN_CAUSE_AUTH_NO_MECHANISM, NULL, 0,
			          "server disables LOGIN (LOGINDISABLED) and "
			          "offers no usable AUTH= mechanism "
			          "(capabilities: %.400s)",
			          e->caps.data ? e->caps.data : "");
		return;
	}
	note_choice(e, m == MAILCONN__MECH_LOGIN && !logindisabled
	               ? "the LOGIN command" : mailconn__mech_name(m),
	            pol.exposed);
	/* The LOGIN command is the plainer twin of SASL LOGIN; SASL LOGIN is
	 * only worth it when the command is disabled. */
	if (m == MAILCONN__MECH_LOGIN && !logindisabled)
		login_command(e);
	else
		authenticate_command(e, m);
	pipeline_rest(e);
}

/* A refused SCRAM-SHA-256-PLUS says nothing about the password: servers
 * offer it and then cannot check our channel binding (Cyrus SASL knows
 * only tls-unique, GNU SASL provides none), and since the binding is part
 * of the proof, even a right password fails. Try once more, on the same
 * connection, without the binding; that attempt's verdict is the one
 * reported. 1 when the retry is under way. */
static int
can_retry_unbound(struct mailconn__imap *e)
{
	enum mailconn__mech m = mailconn__mech_unbound(e->mech);
	struct mailconn__mech_policy pol = {
		.have_password = 1, .order = mailconn__mech_name(m),
	};
	int ok = !e->use_login_cmd && !e->unbound_retry &&
	         m != MAILCONN__MECH_NONE && e->p.password &&
	         !(e->p.oauth2_token && *e->p.oauth2_token) &&
	         mailconn__mech_allowed(e->p.mechanisms, m) &&
	         mailconn__sasl_pick(imap_auth_offered(e), &pol) == m;
	mailconn__buf_clear(&e->tmp);
	return ok;
}

static int
retry_unbound(struct mailconn__imap *e)
{
	enum mailconn__mech m = mailconn__mech_unbound(e->mech);
	if (!can_retry_unbound(e))
		return 0;
	char note[200];
	int n = snprintf(note, sizeof(note), "%s was refused, which does not "
	                 "prove the password wrong (the server may not support "
	                 "the channel binding); trying once more with %s",
	                 mailconn__mech_name(e->mech), mailconn__mech_name(m));
	imap_report(e, MAILCONN_DIR_INFO, note,
	            (size_t)n < sizeof(note) ? (size_t)n : sizeof(note) - 1);
	mailconn__sasl_free(e->sasl);
	e->sasl = NULL;
	e->sasl_done = 0;
	e->unbound_retry = 1;
	mailconn__buf_clear(&e->ir);
	e->ir_pending = 0;
	authenticate_command(e, m);
	return 1;
}

/* ---- Responses -------------------------------------------------------- */

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
		imap_fail(e, MAILCONN_IMAP_SETTINGS,
		          MAILCONN_CAUSE_WRONG_PROTOCOL, l, n,
		          "this port speaks SMTP, not IMAP: check the IMAP host "
		          "and port (usually 993 or 143)");
		return;
	}
	if (mailconn__ascii_iprefix(l, n, "+OK")) {
		imap_fail(e, MAILCONN_IMAP_SETTINGS,
		          MAILCONN_CAUSE_WRONG_PROTOCOL, l, n,
		          "this port speaks POP3, not IMAP: check the IMAP host "
		          "and port (usually 993 or 143)");
		return;
	}
	if (n >= 2 && l[0] == '*' && l[1] == ' ') {
		c.p += 2;
		c.n -= 2;
	}
	if (c.n == n || !imap_cur_token(&c, &t, &tn)) {
		imap_fail(e, MAILCONN_IMAP_SETTINGS,
		          MAILCONN_CAUSE_PROTOCOL_ERROR, l, n,
		          "the server's greeting is not an IMAP greeting");
		return;
	}
	if (mailconn__ascii_ieq(t, tn, "OK")) {
		const char *code, *args;
		size_t code_len, args_len;
		e->greeted = 1;
		if (imap_resp_code(c.p, c.n, &code, &code_len, &args, &args_len) &&
		    mailconn__ascii_ieq(code, code_len, "CAPABILITY"))
			imap_set_caps(e, args, args_len);
		advance(e);
	} else if (mailconn__ascii_ieq(t, tn, "PREAUTH")) {
		imap_fail(e, MAILCONN_IMAP_VALIDATION,
		          MAILCONN_CAUSE_UNEXPECTED_PREAUTH, l, n,
		          e->p.tls_mode == MAILCONN__TLS_STARTTLS
		          ? "server greeted with PREAUTH on a connection that must "
		       "be upgraded with STARTTLS first (possible downgrade attack)"
		          : "server greeted with PREAUTH: the session is already "
		       "authenticated, so the login cannot be verified");
	} else if (mailconn__ascii_ieq(t, tn, "BYE")) {
		imap_fail_refusal(e, MAILCONN__STEP_GREETING, l, n,
		                  MAILCONN_IMAP_VALIDATION,
		                  MAILCONN_CAUSE_GREETING_REJECTED,
		                  "server refused service in its greeting (BYE)");
	} else {
		imap_fail(e, MAILCONN_IMAP_SETTINGS,
		          MAILCONN_CAUSE_PROTOCOL_ERROR, l, n,
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
		imap_fail_refusal(e, MAILCONN__STEP_CAPABILITY, l, n,
		                  bye ? MAILCONN_IMAP_VALIDATION : imap_stage_outcome(e),
		                  bye ? MAILCONN_CAUSE_SERVER_BYE
		                 : MAILCONN_CAUSE_PROTOCOL_ERROR,
		                  bye ? "server ended the session (BYE) during "
		                   "CAPABILITY"
		                 : "server refused the CAPABILITY command");
		break;
	case ST_STARTTLS:
		imap_fail_refusal(e, MAILCONN__STEP_STARTTLS, l, n,
		                  MAILCONN_IMAP_VALIDATION,
		                  MAILCONN_CAUSE_STARTTLS_REFUSED,
		                  "server refused STARTTLS");
		break;
	case ST_LOGIN: {
		if (!bye && l && retry_unbound(e))
			break;
		char what[160];
		snprintf(what, sizeof(what), "server %s the login (%s%s)",
		         bye ? "ended the session (BYE) during" : "refused",
		         e->use_login_cmd ? "LOGIN command"
		                          : "AUTHENTICATE ",
		         e->use_login_cmd ? "" : mailconn__mech_name(e->mech));
		imap_fail_refusal(e, e->use_login_cmd ? MAILCONN__STEP_LOGIN
		                                 : MAILCONN__STEP_AUTHENTICATE,
		                  l, n, MAILCONN_UNAUTHORIZED,
		                  MAILCONN_CAUSE_AUTH_REJECTED, what);
		if (!e->use_login_cmd &&
		    e->mech == MAILCONN__MECH_SCRAM_SHA_256_PLUS)
			mailconn__pp_plus_unproven(&e->pp.failure, imap_stage_outcome(e));
		break;
	}
	case ST_CAPABILITY_POST:
	case ST_EXAMINE:
		imap_fail_refusal(e, MAILCONN__STEP_SELECT, l, n,
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
		imap_protocol_error(e, l, n, "unexpected server reply");
		break;
	}
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
		imap_protocol_error(e, l, n, "malformed untagged response");
		return;
	}
	if (!imap_cur_token(&c, &t, &tn))
		return;
	/* Any untagged response may end in a literal: its bytes follow and
	 * must be skipped, never parsed as responses. */
	imap_check_literal(e, l, n);
	if (e->st == ST_FAILED)
		return;
	/* "* 3 EXISTS": message data we have no use for. */
	if (t[0] >= '0' && t[0] <= '9')
		return;
	if (mailconn__ascii_ieq(t, tn, "CAPABILITY")) {
		imap_set_caps(e, c.p, c.n);
		return;
	}
	if (mailconn__ascii_ieq(t, tn, "OK")) {
		if (!imap_resp_code(c.p, c.n, &code, &code_len, &args, &args_len))
			return;
		if (mailconn__ascii_ieq(code, code_len, "CAPABILITY")) {
			imap_set_caps(e, args, args_len);
		} else if (mailconn__ascii_ieq(code, code_len, "ALERT") ||
		           mailconn__ascii_ieq(code, code_len, "WEBALERT")) {
			if (e->kept.len)
				imap_append_some(&e->kept, "\n", 1);
			imap_append_some(&e->kept, l, n);
		}
		return;
	}
	if (mailconn__ascii_ieq(t, tn, "NO") ||
	    mailconn__ascii_ieq(t, tn, "BAD") ||
	    mailconn__ascii_ieq(t, tn, "BYE")) {
		if (e->kept.len)
			imap_append_some(&e->kept, "\n", 1);
		imap_append_some(&e->kept, l, n);
		if (mailconn__ascii_ieq(t, tn, "BYE"))
			refused(e, NULL, 0, 1);
		return;
	}
}

static void
handle_continuation(struct mailconn__imap *e, const char *l, size_t n)
{
	if (e->st != ST_LOGIN || e->out.len) {
		imap_protocol_error(e, l, n, e->st != ST_LOGIN
		                    ? "unexpected continuation request"
		                    : "server answered before the command was sent");
		return;
	}
	if (e->use_login_cmd) {
		if (e->pend_next > e->pend_chunks) {
			imap_protocol_error(e, l, n, "unexpected continuation request");
			return;
		}
		if (imap_send_next_chunk(e))
			imap_fail_nomem(e);
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
			imap_fail_nomem(e);
			return;
		}
		imap_report(e, MAILCONN_DIR_SENT, redacted, sizeof(redacted) - 1);
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
	if (st == MAILCONN__SASL_ERROR && !bad_b64 &&
	    mailconn__sasl_error_cause(e->sasl) == MAILCONN_CAUSE_AUTH_REJECTED &&
	    can_retry_unbound(e)) {
		/* The server's own "e=" refusal of the -PLUS proof: cancel
		 * (RFC 3501 6.2.2), and retry when it confirms. */
		if (mailconn__buf_append(&e->out, "*\r\n", 3) == 0)
			imap_report(e, MAILCONN_DIR_SENT, "*", 1);
		else
			imap_fail_nomem(e);
		return;
	}
	if (st == MAILCONN__SASL_ERROR) {
		mailconn_cause cause = bad_b64 ? MAILCONN_CAUSE_PROTOCOL_ERROR
		                       : mailconn__sasl_error_cause(e->sasl);
		if (cause == MAILCONN_CAUSE_NONE)
			cause = MAILCONN_CAUSE_PROTOCOL_ERROR;
		imap_build_reply(e, l, n);
		imap_fail(e, MAILCONN_IMAP_VALIDATION, cause, e->tmp.data, e->tmp.len,
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
			imap_report(e, MAILCONN_DIR_SENT, "*", 1);
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
		imap_fail_nomem(e);
		return;
	}
	imap_report(e, MAILCONN_DIR_SENT, redacted, sizeof(redacted) - 1);
}

static void
handle_tagged_ok(struct mailconn__imap *e, const char *l, size_t n,
                 const char *text, size_t tn)
{
	const char *code, *args;
	size_t code_len, args_len;

	if (imap_resp_code(text, tn, &code, &code_len, &args, &args_len) &&
	    mailconn__ascii_ieq(code, code_len, "CAPABILITY"))
		imap_set_caps(e, args, args_len);

	switch (e->st) {
	case ST_CAPABILITY:
		if (!e->caps_fresh) {
			imap_protocol_error(e, l, n,
			                    "server answered CAPABILITY "
			                    "without listing its capabilities");
			return;
		}
		advance(e);
		break;
	case ST_STARTTLS:
		if (imap_injection_check(e, l, n))
			return;
		e->cmd_open = 0;
		e->st = ST_TLS_WAIT;
		break;
	case ST_LOGIN:
		if (e->ir_pending ||
		    (e->use_login_cmd && e->pend_next <= e->pend_chunks)) {
			imap_protocol_error(e, l, n,
			                    "server accepted the login before "
			                    "it received the credentials");
			return;
		}
		if (!e->use_login_cmd) {
			if (!mailconn__sasl_server_verified(e->sasl)) {
				imap_build_reply(e, l, n);
				imap_fail(e, MAILCONN_IMAP_VALIDATION,
				          MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE,
				          e->tmp.data, e->tmp.len,
				          "server accepted %s without proving it knows "
				          "the password (no valid SCRAM signature)",
				          mailconn__mech_name(e->mech));
				return;
			}
			if (!e->sasl_done) {
				imap_protocol_error(e, l, n,
				                    "server accepted the login "
				                    "before the SASL exchange finished");
				return;
			}
			mailconn__sasl_free(e->sasl);
			e->sasl = NULL;
		}
		if (e->pipelined) {
			/* EXAMINE is on its way: await its reply. */
			imap_begin_command(e, MAILCONN__STEP_SELECT);
			e->st = ST_EXAMINE;
			break;
		}
		if (!e->caps_fresh) {
			if (imap_send_command(e, MAILCONN__STEP_CAPABILITY,
			                      "CAPABILITY") == 0)
				e->st = ST_CAPABILITY_POST;
			return;
		}
		/* fall through */
	case ST_CAPABILITY_POST:
		if (imap_send_command(e, MAILCONN__STEP_SELECT, "EXAMINE INBOX") == 0)
			e->st = ST_EXAMINE;
		break;
	case ST_EXAMINE:
		if (e->pipelined) {
			e->cmd_open = 0;
			e->st = ST_DONE;
			break;
		}
		/* The verdict is in with EXAMINE's OK. LOGOUT is a courtesy:
		 * send it and finish without waiting a round trip for the
		 * reply (the driver closes once it is out). */
		if (imap_send_command(e, MAILCONN__STEP_LOGOUT, "LOGOUT") == 0) {
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

	imap_cur_token(&c, &t, &tn);
	if (!e->cmd_open || tn != strlen(e->tag) || memcmp(t, e->tag, tn)) {
		imap_protocol_error(e, l, n, "server sent a tagged reply to a "
		                    "command we did not send");
		return;
	}
	if (e->out.len) {
		imap_protocol_error(e, l, n,
		                    "server answered before the command "
		                    "was sent");
		return;
	}
	imap_cur_token(&c, &st, &stn);
	if (mailconn__ascii_ieq(st, stn, "OK"))
		handle_tagged_ok(e, l, n, c.p, c.n);
	else if (mailconn__ascii_ieq(st, stn, "NO") ||
	         mailconn__ascii_ieq(st, stn, "BAD"))
		refused(e, l, n, 0);
	else
		imap_protocol_error(e, l, n, "tagged reply is not OK, NO or BAD");
}

void
imap_process_line(struct mailconn__imap *e, const char *l, size_t n)
{
	mailconn__pp_report_received(&e->pp, l, n);

	if (e->resp_continues) {
		/* The rest of a response interrupted by a literal. */
		e->resp_continues = 0;
		imap_check_literal(e, l, n);
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

/* ---- Public entry points ---------------------------------------------- */

void
mailconn__imap_tls_unverified(struct mailconn__imap *e)
{
	if (e)
		e->cert_unverified = 1;
}

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
mailconn__imap_tls_started(struct mailconn__imap *e,
                           const struct mailconn__channel_binding *cb)
{
	if (!e || e->st == ST_FAILED || e->st == ST_DONE)
		return;
	int implicit_start = e->p.tls_mode == MAILCONN__TLS_IMPLICIT &&
	                     e->st == ST_GREETING && e->pp.in.len == 0;
	if (e->st != ST_TLS_WAIT && !implicit_start) {
		imap_fail(e, imap_stage_outcome(e),
		          MAILCONN_CAUSE_PROTOCOL_ERROR, NULL, 0,
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
	if (e->unbound_retry)
		return "SCRAM-SHA-256 (after SCRAM-SHA-256-PLUS was refused)";
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
