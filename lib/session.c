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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "conn.h"
#include "core/buf.h"
#include "core/scrub.h"
#include "core/text.h"
#include "private.h"
#include "proto/classify.h"
#include "proto/message.h"
#include "tls.h"

#define N_STAGES 6               /* index 1..5; 0 unused */
#define N_FACTS 8
#define MAX_SHOWN_REPLY MAILCONN__MAX_FAILURE_REPLY
#define MAX_SHOWN_LINE 2048
#define NEVER INT64_MAX

enum phase {
	PHASE_NEW,
	PHASE_RUNNING,
	PHASE_DONE
};

enum track_state {
	TRACK_IDLE,
	TRACK_RUNNING,
	TRACK_HELD,                  /* SMTP logged in, waiting for IMAP */
	TRACK_DONE,
	TRACK_FAILED
};

struct stage_record {
	int passed;                  /* -1 not run, 0 failed, 1 passed */
	int64_t started_ms;
	int64_t ms;
	char *facts[N_FACTS];
};

struct mailconn_session;

/* One protocol's connection and the stages it runs. */
struct track {
	struct mailconn_session *session;
	mailconn_protocol protocol;
	struct mailconn__conn *conn;
	enum track_state state;
	mailconn_stage stage;        /* running (or failed) stage */
	int64_t stage_deadline;
	struct mailconn__failure *failure;   /* set when FAILED */
};

struct mailconn_session {
	struct mailconn_config cfg;
	int epoll_fd;
	int overlap;
	struct mailconn__trust *trust;
	char imap_ascii[256], smtp_ascii[256];

	enum phase phase;
	struct track imap, smtp;
	int64_t overall_deadline;
	struct stage_record stages[N_STAGES];

	struct mailconn__buf message;
	struct mailconn__buf message_id;

	mailconn_error outcome;
	mailconn_stage final_stage;
	mailconn_cause cause;
	mailconn_protocol failed_protocol;
	struct mailconn__buf reply, detail, hint, line;
	/* The secrets, raw and as base64, to strip from anything a server
	 * says before it is shown: servers quote failed commands back. */
	struct mailconn__scrub secrets;
};

/* Server text for a caller: secrets out, sanitised (core/scrub.h). */
static void
show(struct mailconn_session *s, const char *text, size_t len,
     int keep_newlines, size_t max, struct mailconn__buf *out)
{
	mailconn__show_text(&s->secrets, text, len, keep_newlines, max, out);
}

int64_t
mailconn__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- stage bookkeeping ------------------------------------------------ */

static void
set_fact(struct mailconn_session *s, mailconn_stage stage, mailconn_fact fact,
         const char *value)
{
	if (!value || !value[0] || stage < 1 || stage >= N_STAGES)
		return;
	char **slot = &s->stages[stage].facts[fact];
	struct mailconn__buf b;
	mailconn__buf_init(&b, 8192);
	/* Capabilities and subjects come from the server: show them safely. */
	if (mailconn__show_text(&s->secrets, value, strlen(value),
	                        fact == MAILCONN_FACT_CAPABILITIES, 4000, &b) == 0 &&
	    b.data) {
		free(*slot);
		*slot = b.data;
	} else {
		mailconn__buf_free(&b);
	}
}

static mailconn_stage
connect_stage(const struct track *t)
{
	return t->protocol == MAILCONN_PROTOCOL_IMAP ? MAILCONN_STAGE_IMAP_CONNECT
	                                             : MAILCONN_STAGE_SMTP_CONNECT;
}

static void
begin_stage(struct track *t, mailconn_stage stage, int64_t now)
{
	struct mailconn_session *s = t->session;
	t->stage = stage;
	s->stages[stage].started_ms = now;
	t->stage_deadline = now + mailconn__config_int(&s->cfg,
	                                               MAILCONN_OPT_STAGE_TIMEOUT_MS);
	if (s->cfg.progress)
		s->cfg.progress(s->cfg.progress_userdata, stage, 0, MAILCONN_OK);
}

static void
record_conn_facts(struct track *t, mailconn_stage stage)
{
	struct mailconn_session *s = t->session;
	struct mailconn__conn *c = t->conn;
	if (!c)
		return;
	if (stage == MAILCONN_STAGE_TEST_SEND) {
		set_fact(s, stage, MAILCONN_FACT_MESSAGE_ID, s->message_id.data);
	}
}

static void
end_stage(struct track *t, mailconn_error outcome, int64_t now)
{
	struct mailconn_session *s = t->session;
	struct stage_record *r = &s->stages[t->stage];
	r->passed = outcome == MAILCONN_OK;
	r->ms = now - r->started_ms;
	record_conn_facts(t, t->stage);
	if (s->cfg.progress)
		s->cfg.progress(s->cfg.progress_userdata, t->stage, 1, outcome);
}

/* Follow the engine through the stage boundaries it crossed. */
static void
sync_stages(struct track *t, int64_t now)
{
	mailconn_stage engine_stage = mailconn__conn_stage(t->conn);
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
	if (!s->cfg.transcript)
		return;
	mailconn__buf_clear(&s->line);
	show(s, text, len, 0, MAX_SHOWN_LINE, &s->line);
	if (!s->line.data)
		return;
	/* The engine may have crossed into the next stage within this step. */
	mailconn_stage stage = t->conn ? mailconn__conn_stage(t->conn) : t->stage;
	if (stage < connect_stage(t))
		stage = connect_stage(t);
	s->cfg.transcript(s->cfg.transcript_userdata, stage, t->protocol, dir,
	                  s->line.data);
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
	set_fact(t->session, stage, fact, value);
}

/* ---- track results ---------------------------------------------------- */

/* What a failure without a more specific verdict means in each stage. */
static mailconn_error
stage_default_outcome(mailconn_stage stage)
{
	switch (stage) {
	case MAILCONN_STAGE_IMAP_CONNECT:
		return MAILCONN_IMAP_SETTINGS;
	case MAILCONN_STAGE_IMAP_LOGIN:
		return MAILCONN_IMAP_VALIDATION;
	case MAILCONN_STAGE_TEST_SEND:
		return MAILCONN_TEST_SEND;
	default:
		return MAILCONN_SMTP_SETTINGS;
	}
}

static void
close_track(struct track *t)
{
	mailconn__conn_free(t->conn);
	t->conn = NULL;
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
	if (t->conn)
		sync_stages(t, now);
	if (t->failure)
		t->failure->stage = t->stage;
	end_stage(t, t->failure ? t->failure->outcome : outcome, now);
	record_conn_facts(t, connect_stage(t));
	close_track(t);
	t->state = TRACK_FAILED;
}

static void
fail_track_from_conn(struct track *t, int64_t now)
{
	const struct mailconn__failure *f = mailconn__conn_failure(t->conn);
	mailconn_stage engine_stage = mailconn__conn_stage(t->conn);
	fail_track(t, f, engine_stage > t->stage ? stage_default_outcome(engine_stage)
	                                         : stage_default_outcome(t->stage),
	           f->cause, NULL, now);
}

static void
check_deadlines(struct track *t, int64_t now)
{
	struct mailconn_session *s = t->session;
	int overall = now >= s->overall_deadline;
	if (!overall && now < t->stage_deadline)
		return;
	char why[160];
	snprintf(why, sizeof why, "%s timed out after %lld ms",
	         overall ? "the verification" : mailconn_stage_name(t->stage),
	         (long long)mailconn__config_int(&s->cfg, overall
	                                         ? MAILCONN_OPT_DEADLINE_MS
	                                         : MAILCONN_OPT_STAGE_TIMEOUT_MS));
	int connecting = t->conn && !mailconn__conn_connected(t->conn);
	if (t->conn)
		sync_stages(t, now);
	fail_track(t, NULL, stage_default_outcome(t->stage),
	           connecting ? MAILCONN_CAUSE_CONNECT_TIMEOUT : MAILCONN_CAUSE_TIMEOUT,
	           why, now);
}

/* ---- connections ------------------------------------------------------ */

static const char *
str_or(const struct mailconn_session *s, mailconn_option a, mailconn_option b)
{
	const char *v = mailconn__config_str(&s->cfg, a);
	return v ? v : mailconn__config_str(&s->cfg, b);
}

static int
build_message(struct mailconn_session *s)
{
	unsigned char rnd[16];
	time_t now = time(NULL);
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) != 0)
		return -1;
	const char *from = mailconn__config_str(&s->cfg, MAILCONN_OPT_EMAIL);
	if (mailconn__message_id(rnd, now, from, &s->message_id) != 0)
		return -1;
	struct mailconn__message_params mp = {
		.from = from,
		.to = mailconn__config_str(&s->cfg, MAILCONN_OPT_BCC),
		.subject = mailconn__config_str(&s->cfg, MAILCONN_OPT_SUBJECT),
		.body = mailconn__config_str(&s->cfg, MAILCONN_OPT_BODY),
		.date = now,
		.message_id = s->message_id.data,
	};
	return mailconn__message_build(&mp, &s->message);
}

static void
start_track(struct track *t, int64_t now)
{
	struct mailconn_session *s = t->session;
	int imap = t->protocol == MAILCONN_PROTOCOL_IMAP;
	struct mailconn__conn_params p = { 0 };
	p.protocol = t->protocol;
	p.ascii_host = imap ? s->imap_ascii : s->smtp_ascii;
	p.port = mailconn__config_port(&s->cfg, t->protocol);
	p.address = mailconn__config_str(&s->cfg, imap ? MAILCONN_OPT_IMAP_ADDRESS
	                                              : MAILCONN_OPT_SMTP_ADDRESS);
	p.security = mailconn__config_security(&s->cfg, t->protocol);
	p.trust = s->trust;
	p.allow_untrusted = (int)mailconn__config_int(&s->cfg,
	                                              MAILCONN_OPT_ALLOW_UNTRUSTED_CERT);
	p.epoll_fd = s->epoll_fd;
	p.on_info = on_conn_info;
	p.info_userdata = t;
	p.on_fact = on_conn_fact;
	p.fact_userdata = t;

	struct mailconn__engine_params *e = &p.engine;
	e->host = p.ascii_host;
	e->port = p.port;
	e->on_line = on_engine_line;
	e->line_userdata = t;
	e->oauth2_token = mailconn__config_str(&s->cfg, MAILCONN_OPT_OAUTH2_TOKEN);
	if (imap) {
		e->username = str_or(s, MAILCONN_OPT_USERNAME, MAILCONN_OPT_EMAIL);
		e->password = mailconn__config_str(&s->cfg, MAILCONN_OPT_PASSWORD);
	} else {
		e->username = str_or(s, MAILCONN_OPT_SMTP_USERNAME, MAILCONN_OPT_USERNAME);
		if (!e->username)
			e->username = mailconn__config_str(&s->cfg, MAILCONN_OPT_EMAIL);
		e->password = str_or(s, MAILCONN_OPT_SMTP_PASSWORD, MAILCONN_OPT_PASSWORD);
		e->client_name = mailconn__config_str(&s->cfg, MAILCONN_OPT_CLIENT_NAME);
		if (!e->client_name)
			e->client_name = "localhost";
		e->mail_from = mailconn__config_str(&s->cfg, MAILCONN_OPT_EMAIL);
		e->rcpt_to = mailconn__config_str(&s->cfg, MAILCONN_OPT_BCC);
		e->message = s->message.data;
		e->hold_before_send = s->overlap;
	}
	if (e->oauth2_token)
		e->password = NULL;

	t->state = TRACK_RUNNING;
	begin_stage(t, connect_stage(t), now);
	t->conn = mailconn__conn_new(&p);
	if (!t->conn) {
		char why[128];
		snprintf(why, sizeof why, "cannot start a connection: %s",
		         strerror(errno ? errno : ENOMEM));
		fail_track(t, NULL, imap ? MAILCONN_IMAP_SETTINGS : MAILCONN_SMTP_SETTINGS,
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
	enum mailconn__conn_status st = mailconn__conn_step(t->conn, now);
	now = mailconn__now_ms();
	if (st == MAILCONN__CONN_FAILED) {
		fail_track_from_conn(t, now);
		return;
	}
	sync_stages(t, now);
	if (st == MAILCONN__CONN_DONE) {
		end_stage(t, MAILCONN_OK, now);
		close_track(t);
		t->state = TRACK_DONE;
	} else if (t->state == TRACK_RUNNING && mailconn__conn_held(t->conn)) {
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
		s->outcome = stage_default_outcome(failed->stage);
		s->cause = MAILCONN_CAUSE_NONE;
		return;
	}
	s->outcome = f->outcome;
	s->cause = f->cause;
	if (f->reply[0])
		show(s, f->reply, strlen(f->reply), 1, MAX_SHOWN_REPLY, &s->reply);
	if (f->detail[0])
		show(s, f->detail, strlen(f->detail), 0, MAX_SHOWN_REPLY, &s->detail);
	const char *provider = f->provider;
	if (!provider)
		provider = mailconn__provider_from_host(
			failed->protocol == MAILCONN_PROTOCOL_IMAP ? s->imap_ascii
			                                           : s->smtp_ascii);
	mailconn__buf_append_str(&s->hint, mailconn__hint(s->outcome, s->cause,
	                                                  provider));
	/* A wrong TLS mode is best explained by what the port really does,
	 * which only the detail knows. */
	if (s->cause == MAILCONN_CAUSE_TLS_MODE_MISMATCH && s->detail.data) {
		mailconn__buf_append_str(&s->hint, " ");
		mailconn__buf_append_str(&s->hint, s->detail.data);
		mailconn__buf_append_str(&s->hint, ".");
	}
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
		.host = s->imap_ascii,
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
		if (s->overlap && imap->failure &&
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
		smtp->state = TRACK_RUNNING;
		mailconn__conn_release(smtp->conn);
		begin_stage(smtp, MAILCONN_STAGE_TEST_SEND, now);
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

/* ---- public API ------------------------------------------------------- */

MAILCONN_API mailconn_error
mailconn_session_new(const mailconn_config *cfg, mailconn_session **out)
{
	if (!cfg || !out)
		return MAILCONN_E_INVALID_ARGUMENT;
	*out = NULL;

	static const struct {
		mailconn_option option;
		const char *name;
	} required[] = {
		{ MAILCONN_OPT_EMAIL, "email" },
		{ MAILCONN_OPT_IMAP_HOST, "imap_host" },
		{ MAILCONN_OPT_SMTP_HOST, "smtp_host" },
		{ MAILCONN_OPT_BCC, "bcc" },
	};
	/* The config is const to the caller; its error text is ours to set. */
	struct mailconn_config *writable = (struct mailconn_config *)cfg;
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		if (!mailconn__config_str(cfg, required[i].option)) {
			snprintf(writable->error, sizeof writable->error,
			         "%s is required", required[i].name);
			return MAILCONN_E_MISSING_OPTION;
		}
	}
	if (!mailconn__config_str(cfg, MAILCONN_OPT_PASSWORD) &&
	    !mailconn__config_str(cfg, MAILCONN_OPT_OAUTH2_TOKEN)) {
		snprintf(writable->error, sizeof writable->error,
		         "password or oauth2_token is required");
		return MAILCONN_E_MISSING_OPTION;
	}

	struct mailconn_session *s = calloc(1, sizeof *s);
	if (!s)
		return MAILCONN_E_NOMEM;
	s->epoll_fd = -1;
	s->imap.session = s->smtp.session = s;
	s->imap.protocol = MAILCONN_PROTOCOL_IMAP;
	s->smtp.protocol = MAILCONN_PROTOCOL_SMTP;
	mailconn__buf_init(&s->message, 256 * 1024);
	mailconn__buf_init(&s->message_id, 512);
	mailconn__buf_init(&s->reply, MAX_SHOWN_REPLY + 8);
	mailconn__buf_init(&s->detail, MAX_SHOWN_REPLY + 8);
	mailconn__buf_init(&s->hint, 2 * MAX_SHOWN_REPLY);
	mailconn__buf_init(&s->line, MAX_SHOWN_LINE + 8);
	mailconn__scrub_init(&s->secrets);
	for (int i = 0; i < N_STAGES; i++) {
		s->stages[i].passed = -1;
		s->stages[i].ms = -1;
	}
	if (mailconn__config_copy(&s->cfg, cfg) != 0) {
		mailconn_session_free(s);
		return MAILCONN_E_NOMEM;
	}
	s->overlap = (int)mailconn__config_int(cfg, MAILCONN_OPT_OVERLAP);
	if (mailconn__scrub_add(&s->secrets, mailconn__config_str(cfg, MAILCONN_OPT_PASSWORD)) ||
	    mailconn__scrub_add(&s->secrets, mailconn__config_str(cfg, MAILCONN_OPT_SMTP_PASSWORD)) ||
	    mailconn__scrub_add(&s->secrets, mailconn__config_str(cfg, MAILCONN_OPT_OAUTH2_TOKEN))) {
		mailconn_session_free(s);
		return MAILCONN_E_NOMEM;
	}
	char why[128];
	if (mailconn__host_to_ascii(mailconn__config_str(cfg, MAILCONN_OPT_IMAP_HOST),
	                            s->imap_ascii, why) != 0 ||
	    mailconn__host_to_ascii(mailconn__config_str(cfg, MAILCONN_OPT_SMTP_HOST),
	                            s->smtp_ascii, why) != 0) {
		mailconn_session_free(s);
		return MAILCONN_E_INVALID_CONFIG;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		mailconn_session_free(s);
		return MAILCONN_E_SYSTEM;
	}
	if (!writable->trust) {
		char detail[256];
		writable->trust = mailconn__trust_new(
			mailconn__config_str(cfg, MAILCONN_OPT_CA_FILE),
			mailconn__config_str(cfg, MAILCONN_OPT_CA_PATH),
			detail, sizeof detail);
		if (!writable->trust) {
			snprintf(writable->error, sizeof writable->error, "%s", detail);
			mailconn_session_free(s);
			return MAILCONN_E_INVALID_CONFIG;
		}
	}
	s->trust = mailconn__trust_ref(writable->trust);
	if (build_message(s) != 0) {
		snprintf(writable->error, sizeof writable->error,
		         "the test message cannot be built from subject and body");
		mailconn_session_free(s);
		return MAILCONN_E_INVALID_CONFIG;
	}
	*out = s;
	return MAILCONN_OK;
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
	mailconn__trust_unref(s->trust);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
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
	mailconn__config_clear(&s->cfg);
	mailconn__wipe(s, sizeof *s);
	free(s);
}

MAILCONN_API mailconn_state
mailconn_session_step(mailconn_session *s)
{
	if (!s || s->phase == PHASE_DONE)
		return MAILCONN_DONE;
	int64_t now = mailconn__now_ms();

	if (s->phase == PHASE_NEW) {
		s->overall_deadline = now + mailconn__config_int(&s->cfg,
		                                                 MAILCONN_OPT_DEADLINE_MS);
		s->phase = PHASE_RUNNING;
		start_track(&s->imap, now);
		if (s->overlap)
			start_track(&s->smtp, now);
	}
	/* A track may finish and the next one start (or be released) within a
	 * step, but the rounds are few: the work per call stays bounded. */
	for (int round = 0; round < 3 && s->phase != PHASE_DONE; round++) {
		step_track(&s->imap, now);
		step_track(&s->smtp, now);
		now = mailconn__now_ms();
		enum track_state before_imap = s->imap.state, before_smtp = s->smtp.state;
		decide(s, now);
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
	int64_t wake = mailconn__conn_wake_at(t->conn, now);
	return wake >= 0 && wake < at ? wake : at;
}

MAILCONN_API int
mailconn_session_timeout_ms(const mailconn_session *s)
{
	if (!s || s->phase == PHASE_DONE)
		return -1;
	if (s->phase == PHASE_NEW)
		return 0;
	int64_t now = mailconn__now_ms();
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
		if (rc < 0 && errno != EINTR)
			break;
	}
	return s->outcome;
}

MAILCONN_API mailconn_error
mailconn_session_outcome(const mailconn_session *s)
{
	return s ? s->outcome : MAILCONN_E_INVALID_ARGUMENT;
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
