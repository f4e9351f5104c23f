/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The verification session: an IMAP track (stages 1-2) and an SMTP track
 * (stages 3-5), run one after the other or, in overlapped mode, side by
 * side with the send held until IMAP has passed. It times each stage,
 * enforces the stage timeout and the overall deadline, picks the outcome
 * of the earliest failing stage, and turns it into the public result
 * (outcome, cause, sanitised reply, detail, hint, facts).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "private.h"
#include "proto/classify.h"
#include "proto/message.h"
#include "proto/outcome.h"
#include "session.h"

int64_t
mailconn__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
monotonic_clock(void *ctx)
{
	(void)ctx;
	return mailconn__now_ms();
}

static int64_t
now_ms(const struct mailconn_session *s)
{
	return s->hooks.now_ms(s->hooks.clock_ctx);
}

static const struct mailconn__link_ops *
link_ops(const struct mailconn_session *s)
{
	return s->hooks.link;
}

/* ---- callbacks to the caller ------------------------------------------ */

static void
notify_progress(struct mailconn_session *s, mailconn_stage stage, int finished,
                mailconn_error outcome)
{
	if (s->progress)
		s->progress(s, s->progress_userdata, stage, finished, outcome);
	else if (s->config_progress)
		s->config_progress(s->config_progress_userdata, stage, finished,
		                   outcome);
}

static int
wants_transcript(const struct mailconn_session *s)
{
	return s->transcript || s->config_transcript;
}

static void
notify_line(struct mailconn_session *s, mailconn_stage stage,
            mailconn_protocol protocol, mailconn_direction dir,
            const char *line)
{
	if (s->transcript)
		s->transcript(s, s->transcript_userdata, stage, protocol, dir, line);
	else if (s->config_transcript)
		s->config_transcript(s->config_transcript_userdata, stage, protocol,
		                     dir, line);
}

/* ---- stage bookkeeping ------------------------------------------------ */

static mailconn_stage
connect_stage(const struct track *t)
{
	return mailconn__plan_server(&t->session->plan, t->protocol)->first_stage;
}

static mailconn_stage
link_stage(const struct track *t)
{
	return link_ops(t->session)->stage(t->link);
}

static void
begin_stage(struct track *t, mailconn_stage stage, int64_t now)
{
	struct mailconn_session *s = t->session;
	t->stage = stage;
	s->stages[stage].started_ms = now;
	t->stage_deadline = now + s->plan.stage_timeout_ms;
	notify_progress(s, stage, 0, MAILCONN_OK);
}

/* The connection tells its own facts as it learns them (on_conn_fact);
 * the message id is the session's. */
static void
record_session_facts(struct track *t, mailconn_stage stage)
{
	struct mailconn_session *s = t->session;
	if (stage == MAILCONN_STAGE_TEST_SEND)
		mailconn__session_set_fact(s, stage, MAILCONN_FACT_MESSAGE_ID,
		                           s->message_id.data);
}

static void
end_stage(struct track *t, mailconn_error outcome, int64_t now)
{
	struct mailconn_session *s = t->session;
	struct stage_record *r = &s->stages[t->stage];
	r->passed = outcome == MAILCONN_OK;
	r->ms = now - r->started_ms;
	record_session_facts(t, t->stage);
	notify_progress(s, t->stage, 1, outcome);
}

/* Follow the engine through the stage boundaries it crossed. */
static void
sync_stages(struct track *t, int64_t now)
{
	mailconn_stage engine_stage = link_stage(t);
	while (t->stage < engine_stage) {
		end_stage(t, MAILCONN_OK, now);
		begin_stage(t, (mailconn_stage)(t->stage + 1), now);
	}
}

/* ---- callbacks from the connection ------------------------------------ */

static void
emit_line(struct track *t, mailconn_direction dir, const char *text, size_t len)
{
	struct mailconn_session *s = t->session;
	/* The engine may have crossed into the next stage within this step:
	 * report that crossing first, so a reader sees a stage start, then
	 * its lines, then its end. */
	if (t->link && t->state == TRACK_RUNNING && link_stage(t) > t->stage)
		sync_stages(t, now_ms(s));
	if (!wants_transcript(s))
		return;
	mailconn__buf_clear(&s->line);
	mailconn__session_show(s, text, len, 0, MAX_SHOWN, &s->line);
	if (!s->line.data)
		return;
	mailconn_stage stage = t->link ? link_stage(t) : t->stage;
	if (stage < connect_stage(t))
		stage = connect_stage(t);
	notify_line(s, stage, t->protocol, dir, s->line.data);
}

static void
on_engine_line(void *userdata, mailconn_direction dir, const char *line,
               size_t len)
{
	emit_line(userdata, dir, line, len);
}

static void
on_conn_info(void *userdata, const char *text)
{
	emit_line(userdata, MAILCONN_DIR_INFO, text, strlen(text));
}

static void
on_conn_fact(void *userdata, mailconn_stage stage, mailconn_fact fact,
             const char *value)
{
	struct track *t = userdata;
	mailconn__session_set_fact(t->session, stage, fact, value);
}

/* ---- track results ---------------------------------------------------- */

static mailconn_error
stage_default_outcome(const struct track *t, mailconn_stage stage)
{
	return mailconn__stage_outcome(t->protocol, stage);
}

static void
close_track(struct track *t)
{
	if (t->link)
		link_ops(t->session)->close(t->link);
	t->link = NULL;
}

/* Record a failure of the track's current stage; the session decides
 * later whether it is the one reported (the earliest stage wins). */
static void
fail_track(struct track *t, const struct mailconn__failure *from,
           mailconn_error outcome, mailconn_cause cause, const char *detail,
           int64_t now)
{
	t->failure = calloc(1, sizeof *t->failure);
	if (t->failure) {
		if (from)
			*t->failure = *from;
		t->failure->stage = t->stage;
		if (!from || t->failure->outcome == MAILCONN_OK)
			t->failure->outcome = outcome;
		if (!from)
			t->failure->cause = cause;
		if (detail)
			snprintf(t->failure->detail, sizeof t->failure->detail, "%s",
			         detail);
	}
	if (t->link)
		sync_stages(t, now);
	if (t->failure)
		t->failure->stage = t->stage;
	end_stage(t, t->failure ? t->failure->outcome : outcome, now);
	close_track(t);
	t->state = TRACK_FAILED;
}

static void
fail_track_from_conn(struct track *t, int64_t now)
{
	const struct mailconn__failure *f = link_ops(t->session)->failure(t->link);
	mailconn_stage engine_stage = link_stage(t);
	fail_track(t, f, stage_default_outcome(t, engine_stage > t->stage
	                                          ? engine_stage : t->stage),
	           f->cause, NULL, now);
}

static void
check_deadlines(struct track *t, int64_t now)
{
	struct mailconn_session *s = t->session;
	int overall = now >= s->overall_deadline;
	if (!overall && now < t->stage_deadline)
		return;
	/* The phase is asked before the stages are synced: that moves no
	 * bytes, but the answer must describe the moment time ran out. */
	char why[400], what[200] = "";
	mailconn_cause cause = MAILCONN_CAUSE_TIMEOUT;
	if (t->link && link_ops(s)->waiting)
		cause = link_ops(s)->waiting(t->link, what, sizeof what);
	else if (t->link && !link_ops(s)->connected(t->link))
		cause = MAILCONN_CAUSE_CONNECT_TIMEOUT;
	snprintf(why, sizeof why, "%s timed out after %lld ms%s%s",
	         overall ? "the verification" : mailconn_stage_name(t->stage),
	         (long long)(overall ? s->plan.deadline_ms
	                             : s->plan.stage_timeout_ms),
	         what[0] ? " " : "", what);
	if (t->link)
		sync_stages(t, now);
	fail_track(t, NULL, stage_default_outcome(t, t->stage), cause, why, now);
}

/* ---- connections ------------------------------------------------------ */

static int
build_message(const struct mailconn__plan *plan, struct mailconn__buf *message,
              struct mailconn__buf *message_id)
{
	unsigned char rnd[16];
	time_t now = time(NULL);
	if (mailconn__random_bytes(rnd, sizeof rnd) != 0)
		return -1;
	if (mailconn__message_id(rnd, now, plan->from, message_id) != 0)
		return -1;
	struct mailconn__message_params mp = {
		.from = plan->from,
		.to = plan->bcc,
		.subject = plan->subject,
		.body = plan->body,
		.date = now,
		.message_id = message_id->data,
	};
	return mailconn__message_build(&mp, message);
}

static void
start_track(struct track *t, int64_t now)
{
	struct mailconn_session *s = t->session;
	const struct mailconn__server_plan *sp =
		mailconn__plan_server(&s->plan, t->protocol);
	struct mailconn__conn_params p = { 0 };
	p.protocol = t->protocol;
	p.ascii_host = sp->ascii_host;
	p.port = sp->port;
	p.address = sp->address;
	p.security = sp->security;
	p.trust = s->plan.trust;
	p.allow_untrusted = s->plan.allow_untrusted;
	p.pin_sha256 = sp->pinned ? sp->pin_sha256 : NULL;
	p.epoll_fd = s->epoll_fd;
	p.on_info = on_conn_info;
	p.info_userdata = t;
	p.on_fact = on_conn_fact;
	p.fact_userdata = t;

	struct mailconn__engine_params *e = &p.engine;
	e->host = sp->ascii_host;
	e->port = sp->port;
	e->on_line = on_engine_line;
	e->line_userdata = t;
	e->username = sp->username;
	e->password = sp->password;
	e->oauth2_token = sp->oauth2_token;
	e->mechanisms = s->plan.mechanisms;
	if (t->protocol == MAILCONN_PROTOCOL_SMTP) {
		e->client_name = s->plan.client_name;
		e->mail_from = s->plan.from;
		e->rcpt_to = s->plan.bcc;
		e->message = s->message.data;
		e->hold_before_send = s->plan.overlap;
	}

	t->state = TRACK_RUNNING;
	begin_stage(t, connect_stage(t), now);
	t->link = link_ops(s)->open(s->hooks.link_ctx, &p);
	if (!t->link) {
		char why[128];
		snprintf(why, sizeof why, "cannot start a connection: %s",
		         strerror(errno ? errno : ENOMEM));
		fail_track(t, NULL, stage_default_outcome(t, t->stage),
		           MAILCONN_CAUSE_NETWORK_ERROR, why, now);
	}
}

/* Advance one running track by one bounded conn step. */
static void
step_track(struct track *t, int64_t now)
{
	if (t->state != TRACK_RUNNING && t->state != TRACK_HELD)
		return;
	check_deadlines(t, now);
	if (t->state == TRACK_FAILED)
		return;
	struct mailconn_session *s = t->session;
	enum mailconn__conn_status st = link_ops(s)->step(t->link, now);
	now = now_ms(s);
	if (st == MAILCONN__CONN_FAILED) {
		fail_track_from_conn(t, now);
		return;
	}
	sync_stages(t, now);
	if (st == MAILCONN__CONN_DONE) {
		end_stage(t, MAILCONN_OK, now);
		close_track(t);
		t->state = TRACK_DONE;
	} else if (t->state == TRACK_RUNNING && link_ops(s)->held(t->link)) {
		/* Stage 4 passed; waiting on IMAP is not the server's time. */
		end_stage(t, MAILCONN_OK, now);
		t->stage_deadline = NEVER;
		t->state = TRACK_HELD;
	}
}

/* ---- the session's verdict --------------------------------------------- */

/* A stage cut short by the verdict never finished: it did not run. */
static void
abandon_track(struct mailconn_session *s, struct track *t)
{
	if (t->state == TRACK_RUNNING) {
		s->stages[t->stage].passed = -1;
		s->stages[t->stage].ms = -1;
	}
	close_track(t);
}

static void
finish(struct mailconn_session *s, struct track *failed)
{
	abandon_track(s, &s->imap);
	abandon_track(s, &s->smtp);
	s->phase = PHASE_DONE;
	if (!failed) {
		s->outcome = MAILCONN_OK;
		s->final_stage = MAILCONN_STAGE_TEST_SEND;
		return;
	}
	const struct mailconn__failure *f = failed->failure;
	s->final_stage = failed->stage;
	s->failed_protocol = failed->protocol;
	if (!f) {                       /* out of memory while failing */
		s->outcome = stage_default_outcome(failed, failed->stage);
		s->cause = MAILCONN_CAUSE_NONE;
		return;
	}
	mailconn__session_report(s, f, failed->protocol);
}

/* A generic IMAP login refusal is only a credentials problem if SMTP did
 * not accept the very same credentials; knowing SMTP's answer (overlapped
 * mode) lets the classifier say IMAP_AUTH instead. */
static void
reclassify_imap_login(struct mailconn_session *s, int smtp_auth_ok)
{
	struct mailconn__failure *f = s->imap.failure;
	if (!f || f->stage != MAILCONN_STAGE_IMAP_LOGIN || !f->reply[0])
		return;
	struct mailconn__classify_input in = {
		.protocol = MAILCONN_PROTOCOL_IMAP,
		.step = f->step,
		.reply = f->reply,
		.reply_len = strlen(f->reply),
		.host = s->plan.imap.ascii_host,
		.tls_active = 1,
		.other_protocol_auth_ok = smtp_auth_ok,
	};
	struct mailconn__classification out;
	mailconn__classify(&in, &out);
	if (out.outcome != MAILCONN_OK) {
		f->outcome = out.outcome;
		f->cause = out.cause;
	}
}

/* Decide what happens next from both tracks; sequential mode is the
 * special case where SMTP starts only after IMAP is done. */
static void
decide(struct mailconn_session *s, int64_t now)
{
	struct track *imap = &s->imap, *smtp = &s->smtp;
	if (imap->state == TRACK_FAILED) {
		int smtp_undecided = smtp->state == TRACK_RUNNING &&
		                     smtp->stage <= MAILCONN_STAGE_SMTP_LOGIN;
		if (s->plan.overlap && imap->failure &&
		    imap->failure->outcome == MAILCONN_UNAUTHORIZED) {
			if (smtp_undecided)
				return;          /* wait for SMTP's login verdict */
			int smtp_ok = smtp->state == TRACK_HELD ? 1
			            : smtp->state == TRACK_FAILED &&
			              smtp->stage == MAILCONN_STAGE_SMTP_LOGIN ? 0 : -1;
			reclassify_imap_login(s, smtp_ok);
		}
		finish(s, imap);
		return;
	}
	if (imap->state != TRACK_DONE)
		return;                  /* an SMTP failure waits: IMAP comes first */
	switch (smtp->state) {
	case TRACK_IDLE:
		start_track(smtp, now);
		break;
	case TRACK_HELD:
		/* The stage starts before the engine is released: the release
		 * already sends (and reports) the first command of stage 5. */
		smtp->state = TRACK_RUNNING;
		begin_stage(smtp, MAILCONN_STAGE_TEST_SEND, now);
		link_ops(s)->release(smtp->link);
		break;
	case TRACK_FAILED:
		finish(s, smtp);
		break;
	case TRACK_DONE:
		finish(s, NULL);
		break;
	case TRACK_RUNNING:
		break;
	}
}

/* ---- stopping without a verdict ----------------------------------------- */

/* End the check without a verification outcome: cancelled, or the
 * blocking loop could not wait. Stages not finished did not run. */
static void
stop(struct mailconn_session *s, mailconn_error status, mailconn_cause cause,
     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
stop(struct mailconn_session *s, mailconn_error status, mailconn_cause cause,
     const char *fmt, ...)
{
	if (s->phase == PHASE_DONE)
		return;
	s->final_stage = mailconn_session_stage(s);
	s->failed_protocol = s->final_stage == MAILCONN_STAGE_NONE
		? MAILCONN_PROTOCOL_NONE
		: s->final_stage <= MAILCONN_STAGE_IMAP_LOGIN ? MAILCONN_PROTOCOL_IMAP
		                                              : MAILCONN_PROTOCOL_SMTP;
	abandon_track(s, &s->imap);
	abandon_track(s, &s->smtp);
	s->phase = PHASE_DONE;
	s->outcome = status;
	s->cause = cause;
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	mailconn__buf_clear(&s->detail);
	mailconn__buf_append_str(&s->detail, text);
}

static int
cancel_check(struct mailconn_session *s)
{
	if (!atomic_load(&s->cancel_requested))
		return 0;
	stop(s, MAILCONN_E_CANCELLED, MAILCONN_CAUSE_CANCELLED,
	     "the check was cancelled");
	return 1;
}

/* ---- public API ------------------------------------------------------- */

MAILCONN_API mailconn_error
mailconn_config_check_option(const mailconn_config *cfg, char *reason,
                             size_t reason_size, mailconn_option *option)
{
	char why[256];
	mailconn_option bad = 0;
	if (reason && reason_size)
		reason[0] = '\0';
	if (option)
		*option = 0;
	if (!cfg)
		return MAILCONN_E_INVALID_ARGUMENT;
	struct mailconn__plan plan = { 0 };
	mailconn_error rc = mailconn__plan_build(cfg, &plan, why, sizeof why, &bad);
	if (rc == MAILCONN_OK) {
		struct mailconn__buf message, message_id;
		mailconn__buf_init(&message, 256 * 1024);
		mailconn__buf_init(&message_id, 512);
		if (build_message(&plan, &message, &message_id) != 0) {
			snprintf(why, sizeof why,
			         "the test message cannot be built from subject and body");
			rc = MAILCONN_E_INVALID_CONFIG;
		}
		mailconn__buf_free(&message);
		mailconn__buf_free(&message_id);
		mailconn__plan_clear(&plan);
	}
	if (reason && reason_size)
		snprintf(reason, reason_size, "%s", why);
	if (option)
		*option = bad;
	return rc;
}

MAILCONN_API mailconn_error
mailconn_config_check(const mailconn_config *cfg, char *reason,
                      size_t reason_size)
{
	return mailconn_config_check_option(cfg, reason, reason_size, NULL);
}

mailconn_error
mailconn__session_new_with(const mailconn_config *cfg,
                           const struct mailconn__session_hooks *hooks,
                           mailconn_session **out)
{
	if (!cfg || !out)
		return MAILCONN_E_INVALID_ARGUMENT;
	*out = NULL;

	struct mailconn_session *s = calloc(1, sizeof *s);
	if (!s)
		return MAILCONN_E_NOMEM;
	s->epoll_fd = s->cancel_fd = -1;
	atomic_init(&s->cancel_requested, 0);
	if (hooks)
		s->hooks = *hooks;
	if (!s->hooks.now_ms)
		s->hooks.now_ms = monotonic_clock;
	if (!s->hooks.link)
		s->hooks.link = &mailconn__socket_link;
	s->imap.session = s->smtp.session = s;
	s->imap.protocol = MAILCONN_PROTOCOL_IMAP;
	s->smtp.protocol = MAILCONN_PROTOCOL_SMTP;
	mailconn__buf_init(&s->message, 256 * 1024);
	mailconn__buf_init(&s->message_id, 512);
	mailconn__buf_init(&s->reply, MAILCONN_TEXT_MAX);
	mailconn__buf_init(&s->detail, MAILCONN_TEXT_MAX);
	mailconn__buf_init(&s->hint, MAILCONN_TEXT_MAX);
	mailconn__buf_init(&s->line, MAILCONN_TEXT_MAX);
	mailconn__scrub_init(&s->secrets);
	for (int i = 0; i < N_STAGES; i++) {
		s->stages[i].passed = -1;
		s->stages[i].ms = -1;
	}
	s->config_progress = cfg->progress;
	s->config_progress_userdata = cfg->progress_userdata;
	s->config_transcript = cfg->transcript;
	s->config_transcript_userdata = cfg->transcript_userdata;

	char why[256];
	mailconn_option bad;
	mailconn_error rc = mailconn__plan_build(cfg, &s->plan, why, sizeof why, &bad);
	if (rc != MAILCONN_OK) {
		mailconn_session_free(s);
		return rc;
	}
	if (mailconn__scrub_add(&s->secrets, s->plan.imap.password) ||
	    mailconn__scrub_add(&s->secrets, s->plan.smtp.password) ||
	    mailconn__scrub_add(&s->secrets, s->plan.imap.oauth2_token)) {
		mailconn_session_free(s);
		return MAILCONN_E_NOMEM;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = s->cancel_fd };
	if (s->epoll_fd < 0 || s->cancel_fd < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->cancel_fd, &ev) != 0) {
		mailconn_session_free(s);
		return MAILCONN_E_SYSTEM;
	}
	if (build_message(&s->plan, &s->message, &s->message_id) != 0) {
		mailconn_session_free(s);
		return MAILCONN_E_INVALID_CONFIG;
	}
	*out = s;
	return MAILCONN_OK;
}

MAILCONN_API mailconn_error
mailconn_session_new(const mailconn_config *cfg, mailconn_session **out)
{
	return mailconn__session_new_with(cfg, NULL, out);
}

MAILCONN_API void
mailconn_session_free(mailconn_session *s)
{
	if (!s)
		return;
	close_track(&s->imap);
	close_track(&s->smtp);
	free(s->imap.failure);
	free(s->smtp.failure);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->cancel_fd >= 0)
		close(s->cancel_fd);
	for (int i = 0; i < N_STAGES; i++)
		for (int f = 0; f < N_FACTS; f++)
			free(s->stages[i].facts[f]);
	mailconn__buf_free(&s->message);
	mailconn__buf_free(&s->message_id);
	mailconn__buf_free(&s->reply);
	mailconn__buf_free(&s->detail);
	mailconn__buf_free(&s->hint);
	mailconn__buf_free(&s->line);
	mailconn__scrub_free(&s->secrets);
	mailconn__plan_clear(&s->plan);
	mailconn__wipe(s, sizeof *s);
	free(s);
}

MAILCONN_API mailconn_error
mailconn_session_set_progress(mailconn_session *s,
                              mailconn_session_progress_fn fn, void *userdata)
{
	if (!s)
		return MAILCONN_E_INVALID_ARGUMENT;
	s->progress = fn;
	s->progress_userdata = userdata;
	/* Set, even to NULL, it replaces the config's for this session. */
	s->config_progress = NULL;
	return MAILCONN_OK;
}

MAILCONN_API mailconn_error
mailconn_session_set_transcript(mailconn_session *s,
                                mailconn_session_transcript_fn fn,
                                void *userdata)
{
	if (!s)
		return MAILCONN_E_INVALID_ARGUMENT;
	s->transcript = fn;
	s->transcript_userdata = userdata;
	s->config_transcript = NULL;
	return MAILCONN_OK;
}

MAILCONN_API mailconn_error
mailconn_session_cancel(mailconn_session *s)
{
	if (!s)
		return MAILCONN_E_INVALID_ARGUMENT;
	atomic_store(&s->cancel_requested, 1);
	/* Wake a caller blocked on the session's fd; the next step ends it. */
	uint64_t one = 1;
	ssize_t n = write(s->cancel_fd, &one, sizeof one);
	(void)n;                     /* a full counter is still readable */
	return MAILCONN_OK;
}

MAILCONN_API mailconn_state
mailconn_session_step(mailconn_session *s)
{
	if (!s || s->phase == PHASE_DONE)
		return MAILCONN_DONE;
	if (cancel_check(s))
		return MAILCONN_DONE;
	int64_t now = now_ms(s);

	if (s->phase == PHASE_NEW) {
		s->overall_deadline = now + s->plan.deadline_ms;
		s->phase = PHASE_RUNNING;
		start_track(&s->imap, now);
		if (s->plan.overlap)
			start_track(&s->smtp, now);
	}
	/* A track may finish and the next one start (or be released) within a
	 * step, but the rounds are few: the work per call stays bounded. */
	for (int round = 0; round < 3 && s->phase != PHASE_DONE; round++) {
		step_track(&s->imap, now);
		step_track(&s->smtp, now);
		now = now_ms(s);
		enum track_state before_imap = s->imap.state, before_smtp = s->smtp.state;
		decide(s, now);
		if (cancel_check(s))
			break;
		if (s->imap.state == before_imap && s->smtp.state == before_smtp)
			break;
	}
	return s->phase == PHASE_DONE ? MAILCONN_DONE : MAILCONN_PENDING;
}

MAILCONN_API int
mailconn_session_fd(const mailconn_session *s)
{
	/* One epoll set holds every socket and the resolver pipes, so the fd
	 * the caller registers never changes and is never closed under it. */
	return s && s->phase != PHASE_DONE ? s->epoll_fd : -1;
}

MAILCONN_API unsigned
mailconn_session_events(const mailconn_session *s)
{
	return s && s->phase != PHASE_DONE ? MAILCONN_WAIT_READ : 0;
}

static int64_t
track_wake_at(const struct track *t, int64_t now)
{
	if (t->state != TRACK_RUNNING && t->state != TRACK_HELD)
		return NEVER;
	int64_t at = t->stage_deadline;
	/* A stage's start is reported before its connection exists. */
	if (!t->link)
		return now;
	int64_t wake = link_ops(t->session)->wake_at(t->link, now);
	return wake >= 0 && wake < at ? wake : at;
}

MAILCONN_API int
mailconn_session_timeout_ms(const mailconn_session *s)
{
	if (!s || s->phase == PHASE_DONE)
		return -1;
	if (s->phase == PHASE_NEW || atomic_load(&s->cancel_requested))
		return 0;
	int64_t now = now_ms(s);
	int64_t at = s->overall_deadline;
	int64_t a = track_wake_at(&s->imap, now), b = track_wake_at(&s->smtp, now);
	if (a < at)
		at = a;
	if (b < at)
		at = b;
	/* A failed track whose verdict waits for the other one, or a track
	 * that is about to start, needs a step now. */
	if ((s->imap.state == TRACK_DONE && s->smtp.state == TRACK_IDLE))
		return 0;
	if (at <= now)
		return 0;
	return at - now > 0x7fffffff ? 0x7fffffff : (int)(at - now);
}

MAILCONN_API mailconn_error
mailconn_session_run(mailconn_session *s)
{
	if (!s)
		return MAILCONN_E_INVALID_ARGUMENT;
	while (mailconn_session_step(s) == MAILCONN_PENDING) {
		struct pollfd pfd = { .fd = mailconn_session_fd(s), .events = POLLIN };
		int rc = poll(&pfd, 1, mailconn_session_timeout_ms(s));
		if (rc < 0 && errno != EINTR) {
			/* Never report a verdict that was not observed. */
			stop(s, MAILCONN_E_SYSTEM, MAILCONN_CAUSE_SYSTEM,
			     "waiting for the session's fd failed: poll: %s",
			     strerror(errno));
			break;
		}
	}
	return s->outcome;
}

