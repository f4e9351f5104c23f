/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The verification session: runs the IMAP connection (stages 1-2) and
 * then the SMTP connection (stages 3-5), times each stage, enforces the
 * stage timeout and the overall deadline, and turns what happened into
 * the public result (outcome, cause, sanitised reply, detail, hint, facts).
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
#include "core/text.h"
#include "private.h"
#include "proto/classify.h"
#include "proto/message.h"
#include "tls.h"

#define N_STAGES 6               /* index 1..5; 0 unused */
#define N_FACTS 8
#define MAX_SHOWN_REPLY 4096
#define MAX_SHOWN_LINE 2048

enum phase {
	PHASE_NEW,
	PHASE_IMAP,
	PHASE_SMTP,
	PHASE_DONE
};

struct stage_record {
	int passed;                  /* -1 not run, 0 failed, 1 passed */
	int64_t started_ms;
	int64_t ms;
	char *facts[N_FACTS];
};

struct mailconn_session {
	struct mailconn_config cfg;
	int epoll_fd;
	gnutls_certificate_credentials_t creds;
	char imap_ascii[256], smtp_ascii[256];

	enum phase phase;
	struct mailconn__conn *conn;
	mailconn_protocol conn_protocol;
	mailconn_stage stage;
	int64_t stage_deadline, overall_deadline;
	struct stage_record stages[N_STAGES];

	struct mailconn__buf message;
	struct mailconn__buf message_id;

	mailconn_error outcome;
	mailconn_cause cause;
	mailconn_protocol failed_protocol;
	struct mailconn__buf reply, detail, hint, line;
};

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
	if (mailconn__sanitize(value, strlen(value), fact == MAILCONN_FACT_CAPABILITIES,
	                       4000, &b) == 0 && b.data) {
		free(*slot);
		*slot = b.data;
	} else {
		mailconn__buf_free(&b);
	}
}

static void
begin_stage(struct mailconn_session *s, mailconn_stage stage, int64_t now)
{
	s->stage = stage;
	s->stages[stage].started_ms = now;
	s->stage_deadline = now + mailconn__config_int(&s->cfg,
	                                               MAILCONN_OPT_STAGE_TIMEOUT_MS);
	if (s->cfg.progress)
		s->cfg.progress(s->cfg.progress_userdata, stage, 0, MAILCONN_OK);
}

static void
record_conn_facts(struct mailconn_session *s, mailconn_stage stage)
{
	struct mailconn__conn *c = s->conn;
	mailconn_stage connect_stage = s->conn_protocol == MAILCONN_PROTOCOL_IMAP
	                               ? MAILCONN_STAGE_IMAP_CONNECT
	                               : MAILCONN_STAGE_SMTP_CONNECT;
	if (!c)
		return;
	if (stage == connect_stage) {
		set_fact(s, stage, MAILCONN_FACT_ADDRESS, mailconn__conn_address(c));
		set_fact(s, stage, MAILCONN_FACT_TLS_VERSION, mailconn__conn_tls_version(c));
		set_fact(s, stage, MAILCONN_FACT_TLS_CIPHER, mailconn__conn_tls_cipher(c));
		set_fact(s, stage, MAILCONN_FACT_CERT_SHA256, mailconn__conn_cert_sha256(c));
		set_fact(s, stage, MAILCONN_FACT_CERT_SUBJECT, mailconn__conn_cert_subject(c));
		set_fact(s, stage, MAILCONN_FACT_CAPABILITIES, mailconn__conn_capabilities(c));
	} else if (stage == connect_stage + 1) {
		set_fact(s, stage, MAILCONN_FACT_AUTH_MECHANISM, mailconn__conn_mechanism(c));
	} else if (stage == MAILCONN_STAGE_TEST_SEND) {
		set_fact(s, stage, MAILCONN_FACT_MESSAGE_ID, s->message_id.data);
	}
}

static void
end_stage(struct mailconn_session *s, mailconn_stage stage, mailconn_error outcome,
          int64_t now)
{
	struct stage_record *r = &s->stages[stage];
	r->passed = outcome == MAILCONN_OK;
	r->ms = now - r->started_ms;
	record_conn_facts(s, stage);
	if (s->cfg.progress)
		s->cfg.progress(s->cfg.progress_userdata, stage, 1, outcome);
}

/* ---- callbacks from the connection ------------------------------------ */

static void
emit_line(struct mailconn_session *s, mailconn_direction dir, const char *text,
          size_t len)
{
	if (!s->cfg.transcript)
		return;
	mailconn__buf_clear(&s->line);
	if (mailconn__sanitize(text, len, 0, MAX_SHOWN_LINE, &s->line) != 0 ||
	    !s->line.data)
		return;
	/* The engine may have crossed into the next stage within this step. */
	mailconn_stage stage = s->conn ? mailconn__conn_stage(s->conn) : s->stage;
	s->cfg.transcript(s->cfg.transcript_userdata, stage, s->conn_protocol,
	                  dir, s->line.data);
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

/* ---- results ---------------------------------------------------------- */

/* End the session with a failure in the current stage. */
static void
fail_session(struct mailconn_session *s, mailconn_error outcome,
             mailconn_cause cause, const char *reply, const char *detail,
             const char *provider, int64_t now)
{
	s->outcome = outcome;
	s->cause = cause;
	s->failed_protocol = s->conn_protocol;
	if (reply && reply[0])
		mailconn__sanitize(reply, strlen(reply), 1, MAX_SHOWN_REPLY, &s->reply);
	if (detail && detail[0])
		mailconn__sanitize(detail, strlen(detail), 0, MAX_SHOWN_REPLY, &s->detail);
	const char *host = s->conn_protocol == MAILCONN_PROTOCOL_IMAP
	                   ? s->imap_ascii : s->smtp_ascii;
	if (!provider)
		provider = mailconn__provider_from_host(host);
	mailconn__buf_append_str(&s->hint, mailconn__hint(outcome, cause, provider));
	/* A wrong TLS mode is best explained by what the port really does,
	 * which only the detail knows. */
	if (cause == MAILCONN_CAUSE_TLS_MODE_MISMATCH && s->detail.data) {
		mailconn__buf_append_str(&s->hint, " ");
		mailconn__buf_append_str(&s->hint, s->detail.data);
		mailconn__buf_append_str(&s->hint, ".");
	}
	end_stage(s, s->stage, outcome, now);
	mailconn__conn_free(s->conn);
	s->conn = NULL;
	s->phase = PHASE_DONE;
}

/* What a failure without a more specific verdict means in each stage. */
static mailconn_error
stage_default_outcome(const struct mailconn_session *s)
{
	switch (s->stage) {
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
finish_from_conn(struct mailconn_session *s, int64_t now)
{
	const struct mailconn__failure *f = mailconn__conn_failure(s->conn);
	mailconn_stage stage = f->stage ? f->stage : s->stage;
	/* The engine may already be one stage further than the session saw. */
	if (stage != s->stage && stage > s->stage) {
		end_stage(s, s->stage, MAILCONN_OK, now);
		begin_stage(s, stage, now);
	}
	record_conn_facts(s, s->conn_protocol == MAILCONN_PROTOCOL_IMAP
	                     ? MAILCONN_STAGE_IMAP_CONNECT : MAILCONN_STAGE_SMTP_CONNECT);
	fail_session(s, f->outcome != MAILCONN_OK ? f->outcome : stage_default_outcome(s), f->cause,
	       f->reply, f->detail, f->provider, now);
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

static int
start_conn(struct mailconn_session *s, mailconn_protocol proto, int64_t now)
{
	int imap = proto == MAILCONN_PROTOCOL_IMAP;
	struct mailconn__conn_params p = { 0 };
	p.protocol = proto;
	p.ascii_host = imap ? s->imap_ascii : s->smtp_ascii;
	p.port = mailconn__config_port(&s->cfg, proto);
	p.address = mailconn__config_str(&s->cfg, imap ? MAILCONN_OPT_IMAP_ADDRESS
	                                              : MAILCONN_OPT_SMTP_ADDRESS);
	p.security = mailconn__config_security(&s->cfg, proto);
	p.creds = s->creds;
	p.allow_untrusted = (int)mailconn__config_int(&s->cfg,
	                                              MAILCONN_OPT_ALLOW_UNTRUSTED_CERT);
	p.epoll_fd = s->epoll_fd;
	p.on_info = on_conn_info;
	p.info_userdata = s;

	struct mailconn__engine_params *e = &p.engine;
	e->host = p.ascii_host;
	e->on_line = on_engine_line;
	e->line_userdata = s;
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
	}
	if (e->oauth2_token)
		e->password = NULL;

	s->conn_protocol = proto;
	begin_stage(s, imap ? MAILCONN_STAGE_IMAP_CONNECT : MAILCONN_STAGE_SMTP_CONNECT,
	            now);
	s->conn = mailconn__conn_new(&p);
	if (!s->conn) {
		char why[128];
		snprintf(why, sizeof why, "cannot start a connection: %s",
		         strerror(errno ? errno : ENOMEM));
		fail_session(s, imap ? MAILCONN_IMAP_SETTINGS : MAILCONN_SMTP_SETTINGS,
		       MAILCONN_CAUSE_NETWORK_ERROR, NULL, why, NULL, now);
		return -1;
	}
	return 0;
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
	mailconn__buf_init(&s->message, 256 * 1024);
	mailconn__buf_init(&s->message_id, 512);
	mailconn__buf_init(&s->reply, MAX_SHOWN_REPLY + 8);
	mailconn__buf_init(&s->detail, MAX_SHOWN_REPLY + 8);
	mailconn__buf_init(&s->hint, 2 * MAX_SHOWN_REPLY);
	mailconn__buf_init(&s->line, MAX_SHOWN_LINE + 8);
	for (int i = 0; i < N_STAGES; i++) {
		s->stages[i].passed = -1;
		s->stages[i].ms = -1;
	}
	if (mailconn__config_copy(&s->cfg, cfg) != 0) {
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
	char detail[256];
	if (mailconn__tls_creds_new(&s->creds,
	                            mailconn__config_str(cfg, MAILCONN_OPT_CA_FILE),
	                            mailconn__config_str(cfg, MAILCONN_OPT_CA_PATH),
	                            detail, sizeof detail) != 0) {
		snprintf(writable->error, sizeof writable->error, "%s", detail);
		mailconn_session_free(s);
		return MAILCONN_E_INVALID_CONFIG;
	}
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
	mailconn__conn_free(s->conn);
	if (s->creds)
		gnutls_certificate_free_credentials(s->creds);
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
		s->phase = PHASE_IMAP;
		if (start_conn(s, MAILCONN_PROTOCOL_IMAP, now) != 0)
			return MAILCONN_DONE;
	}

	/* One connection may finish and the next start within a step, but
	 * never more than that: the work per call stays bounded. */
	for (int round = 0; round < 2 && s->phase != PHASE_DONE; round++) {
		if (now >= s->stage_deadline || now >= s->overall_deadline) {
			int overall = now >= s->overall_deadline;
			char why[160];
			snprintf(why, sizeof why, "%s timed out after %lld ms",
			         overall ? "the verification" : mailconn_stage_name(s->stage),
			         (long long)(overall ? mailconn__config_int(&s->cfg, MAILCONN_OPT_DEADLINE_MS)
			                             : mailconn__config_int(&s->cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS)));
			int connecting = s->conn && !mailconn__conn_connected(s->conn);
			fail_session(s, stage_default_outcome(s),
			       connecting ? MAILCONN_CAUSE_CONNECT_TIMEOUT : MAILCONN_CAUSE_TIMEOUT,
			       NULL, why, NULL, now);
			break;
		}
		enum mailconn__conn_status st = mailconn__conn_step(s->conn, now);
		now = mailconn__now_ms();
		/* Follow the engine through stage boundaries it crossed. */
		mailconn_stage engine_stage = mailconn__conn_stage(s->conn);
		while (st != MAILCONN__CONN_FAILED && s->stage < engine_stage) {
			end_stage(s, s->stage, MAILCONN_OK, now);
			begin_stage(s, (mailconn_stage)(s->stage + 1), now);
		}
		if (st == MAILCONN__CONN_PENDING)
			break;
		if (st == MAILCONN__CONN_FAILED) {
			finish_from_conn(s, now);
			break;
		}
		/* The connection finished its last stage. */
		end_stage(s, s->stage, MAILCONN_OK, now);
		mailconn__conn_free(s->conn);
		s->conn = NULL;
		if (s->phase == PHASE_IMAP) {
			s->phase = PHASE_SMTP;
			if (start_conn(s, MAILCONN_PROTOCOL_SMTP, now) != 0)
				break;
		} else {
			s->phase = PHASE_DONE;      /* all five stages passed */
		}
	}
	return s->phase == PHASE_DONE ? MAILCONN_DONE : MAILCONN_PENDING;
}

MAILCONN_API int
mailconn_session_fd(const mailconn_session *s)
{
	/* One epoll set holds every socket and the resolver pipe, so the fd
	 * the caller registers never changes and is never closed under it. */
	return s && s->phase != PHASE_DONE ? s->epoll_fd : -1;
}

MAILCONN_API unsigned
mailconn_session_events(const mailconn_session *s)
{
	return s && s->phase != PHASE_DONE ? MAILCONN_WAIT_READ : 0;
}

MAILCONN_API int
mailconn_session_timeout_ms(const mailconn_session *s)
{
	if (!s || s->phase == PHASE_DONE)
		return -1;
	if (s->phase == PHASE_NEW || !s->conn)
		return 0;
	int64_t now = mailconn__now_ms();
	int64_t at = s->stage_deadline < s->overall_deadline ? s->stage_deadline
	                                                     : s->overall_deadline;
	int64_t wake = mailconn__conn_wake_at(s->conn, now);
	if (wake >= 0 && wake < at)
		at = wake;
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
	return s ? s->stage : MAILCONN_STAGE_NONE;
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
