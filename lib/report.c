/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a caller reads from a session: the outcome and its cause, the
 * server's words, the detail and the hint, and per stage whether it
 * passed, how long it took and the facts it learned. Everything shown
 * goes through the scrubber (no secret) and the sanitiser (no control
 * characters, bounded).
 */
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "proto/classify.h"
#include "proto/lang.h"
#include "session.h"

void
mailconn__session_show(struct mailconn_session *s, const char *text,
                       size_t len, int keep_newlines, size_t max,
                       struct mailconn__buf *out)
{
	mailconn__show_text(&s->secrets, text, len, keep_newlines, max, out);
}

void
mailconn__session_set_fact(struct mailconn_session *s, mailconn_stage stage,
                           mailconn_fact fact, const char *value)
{
	if (!value || !value[0] || stage < 1 || stage >= N_STAGES)
		return;
	char **slot = &s->stages[stage].facts[fact];
	struct mailconn__buf b;
	mailconn__buf_init(&b, MAILCONN_TEXT_MAX);
	/* Capabilities and subjects come from the server: show them safely. */
	if (mailconn__show_text(&s->secrets, value, strlen(value),
	                        fact == MAILCONN_FACT_CAPABILITIES, MAX_SHOWN, &b) == 0 &&
	    b.data) {
		free(*slot);
		*slot = b.data;
	} else {
		mailconn__buf_free(&b);
	}
}

void
mailconn__session_report(struct mailconn_session *s,
                         const struct mailconn__failure *f,
                         mailconn_protocol protocol)
{
	s->outcome = f->outcome;
	s->cause = f->cause;
	if (f->reply[0])
		mailconn__session_show(s, f->reply, strlen(f->reply), 1, MAX_SHOWN,
		                       &s->reply);
	if (f->detail[0])
		mailconn__session_show(s, f->detail, strlen(f->detail), 0, MAX_SHOWN,
		                       &s->detail);
	const struct mailconn__server_plan *sp =
		mailconn__plan_server(&s->plan, protocol);
	const char *provider = f->provider;
	if (!provider)
		provider = mailconn__provider_from_host(sp->ascii_host);
	s->provider = provider;
	const struct mailconn__hint_text *row = mailconn__hint_find(
		s->plan.language, s->outcome, s->cause, provider);
	mailconn__hint_id(s->outcome, row, s->hint_id, sizeof s->hint_id);
	if (!row)
		return;
	/* Only the port the user chose makes a port hint actionable. A TLS
	 * mode mismatch means the port wants the other mode than the one
	 * configured: plaintext where TLS was set, TLS where it was not. */
	struct mailconn__hint_vars vars = {
		.port = sp->port,
		.wanted = sp->security == MAILCONN_SECURITY_TLS ? "STARTTLS" : "TLS",
	};
	mailconn__hint_expand(row->text, &vars, &s->hint);
}

MAILCONN_API mailconn_error
mailconn_session_outcome(const mailconn_session *s)
{
	if (!s)
		return MAILCONN_E_INVALID_ARGUMENT;
	return s->phase == PHASE_DONE ? s->outcome : MAILCONN_E_PENDING;
}

MAILCONN_API mailconn_cause
mailconn_session_cause(const mailconn_session *s)
{
	return s ? s->cause : MAILCONN_CAUSE_NONE;
}

MAILCONN_API mailconn_stage
mailconn_session_stage(const mailconn_session *s)
{
	if (!s)
		return MAILCONN_STAGE_NONE;
	if (s->phase == PHASE_DONE)
		return s->final_stage;
	if (s->imap.state == TRACK_RUNNING)
		return s->imap.stage;
	return s->smtp.state == TRACK_IDLE ? MAILCONN_STAGE_NONE : s->smtp.stage;
}

MAILCONN_API mailconn_protocol
mailconn_session_protocol(const mailconn_session *s)
{
	return s ? s->failed_protocol : MAILCONN_PROTOCOL_NONE;
}

static const char *
buf_text(const struct mailconn__buf *b)
{
	return b->data ? b->data : "";
}

MAILCONN_API const char *
mailconn_session_server_reply(const mailconn_session *s)
{
	return s ? buf_text(&s->reply) : "";
}

MAILCONN_API const char *
mailconn_session_detail(const mailconn_session *s)
{
	return s ? buf_text(&s->detail) : "";
}

MAILCONN_API const char *
mailconn_session_hint(const mailconn_session *s)
{
	return s ? buf_text(&s->hint) : "";
}

MAILCONN_API const char *
mailconn_session_hint_id(const mailconn_session *s)
{
	return s ? s->hint_id : "";
}

MAILCONN_API const char *
mailconn_session_provider(const mailconn_session *s)
{
	if (!s)
		return "";
	if (s->provider)
		return s->provider;
	/* No failure named one: the host names still say who runs the
	 * mailbox, IMAP's first since that is the mailbox itself. */
	const char *p = mailconn__provider_from_host(s->plan.imap.ascii_host);
	if (!p)
		p = mailconn__provider_from_host(s->plan.smtp.ascii_host);
	return p ? p : "";
}

static const struct mailconn__language *
session_language(const mailconn_session *s)
{
	return s && s->plan.language ? s->plan.language : &mailconn__lang_en;
}

MAILCONN_API const char *
mailconn_session_message(const mailconn_session *s)
{
	if (!s)
		return mailconn__message(&mailconn__lang_en,
		                         MAILCONN_E_INVALID_ARGUMENT);
	return mailconn__message(session_language(s), mailconn_session_outcome(s));
}

MAILCONN_API const char *
mailconn_session_language(const mailconn_session *s)
{
	return session_language(s)->code;
}

MAILCONN_API int
mailconn_session_stage_passed(const mailconn_session *s, mailconn_stage stage)
{
	if (!s || stage < 1 || stage >= N_STAGES)
		return -1;
	return s->stages[stage].passed;
}

MAILCONN_API int64_t
mailconn_session_stage_ms(const mailconn_session *s, mailconn_stage stage)
{
	if (!s || stage < 1 || stage >= N_STAGES)
		return -1;
	return s->stages[stage].ms;
}

MAILCONN_API const char *
mailconn_session_fact(const mailconn_session *s, mailconn_stage stage,
                      mailconn_fact fact)
{
	if (!s || stage < 1 || stage >= N_STAGES || (unsigned)fact >= N_FACTS)
		return "";
	const char *v = s->stages[stage].facts[fact];
	return v ? v : "";
}
