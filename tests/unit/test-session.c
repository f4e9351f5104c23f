/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session's own logic, deterministic: a fake clock and a scripted
 * connection (the link seam of lib/link.h) stand in for time and sockets,
 * so stage timing, every deadline, overlap, reclassification, callback
 * order and cancellation are checked to the millisecond without a server
 * and without waiting.
 *
 * A script says, per protocol, what the connection does at which fake
 * time: enter a stage (and say a line), hold before sending, finish, or
 * fail with a reply. The driver loop advances the clock to exactly the
 * time the session asks to be woken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "link.h"
#include "private.h"

/* ---- the fake clock --------------------------------------------------- */

static int64_t fake_now;

static int64_t
fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

/* ---- the scripted connection ----------------------------------------- */

enum event_kind { EV_STAGE, EV_HOLD, EV_DONE, EV_FAIL, EV_CONNECTED };

struct event {
	int64_t at;                  /* fake ms after the link opened */
	enum event_kind kind;
	mailconn_stage stage;        /* EV_STAGE: the stage entered */
	const char *line;            /* said (received) when it happens */
	mailconn_error outcome;      /* EV_FAIL */
	mailconn_cause cause;
	const char *reply;
	enum mailconn__step step;
};

#define MAX_EVENTS 8

struct script {
	struct event ev[MAX_EVENTS];
	int n;
	/* What the link says it waits for when time runs out (phase_ops). */
	mailconn_cause waiting;
	const char *waiting_what;
};

struct fake_link {
	struct mailconn__conn_params p;
	const struct script *script;
	int64_t opened_at;
	int next;
	mailconn_stage stage;
	int held, released, connected;
	enum mailconn__conn_status status;
	struct mailconn__failure failure;
};

struct scripts {
	struct script imap, smtp;
	const struct mailconn__link_ops *ops;   /* NULL: fake_link_ops */
	int opened[3];               /* by protocol */
	int closed;
};

static void *
fake_open(void *ctx, const struct mailconn__conn_params *p)
{
	struct scripts *sc = ctx;
	struct fake_link *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->p = *p;
	l->script = p->protocol == MAILCONN_PROTOCOL_IMAP ? &sc->imap : &sc->smtp;
	l->opened_at = fake_now;
	l->stage = p->protocol == MAILCONN_PROTOCOL_IMAP ? MAILCONN_STAGE_IMAP_CONNECT
	                                                 : MAILCONN_STAGE_SMTP_CONNECT;
	sc->opened[p->protocol]++;
	return l;
}

static struct scripts *closing_scripts;

static void
fake_close(void *link)
{
	if (closing_scripts)
		closing_scripts->closed++;
	free(link);
}

static void
say(struct fake_link *l, const char *line)
{
	if (line && l->p.engine.on_line)
		l->p.engine.on_line(l->p.engine.line_userdata, MAILCONN_DIR_RECEIVED,
		                    line, strlen(line));
}

static enum mailconn__conn_status
fake_step(void *link, int64_t now)
{
	struct fake_link *l = link;
	while (l->status == MAILCONN__CONN_PENDING && l->next < l->script->n) {
		const struct event *e = &l->script->ev[l->next];
		if (l->held && !l->released && e->kind != EV_FAIL)
			break;               /* nothing is sent while held */
		if (l->opened_at + e->at > now)
			break;
		l->next++;
		switch (e->kind) {
		case EV_CONNECTED:
			l->connected = 1;
			break;
		case EV_STAGE:
			l->connected = 1;
			l->stage = e->stage;
			break;
		case EV_HOLD:
			l->held = 1;
			break;
		case EV_DONE:
			l->status = MAILCONN__CONN_DONE;
			break;
		case EV_FAIL:
			l->failure.stage = l->stage;
			l->failure.outcome = e->outcome;
			l->failure.cause = e->cause;
			l->failure.step = e->step;
			snprintf(l->failure.reply, sizeof l->failure.reply, "%s",
			         e->reply ? e->reply : "");
			l->status = MAILCONN__CONN_FAILED;
			break;
		}
		say(l, e->line);
	}
	return l->status;
}

static int64_t
fake_wake_at(const void *link, int64_t now)
{
	const struct fake_link *l = link;
	(void)now;
	if (l->status != MAILCONN__CONN_PENDING || l->next >= l->script->n)
		return -1;
	if (l->held && !l->released)
		return -1;
	return l->opened_at + l->script->ev[l->next].at;
}

static mailconn_stage
fake_stage(const void *link)
{
	return ((const struct fake_link *)link)->stage;
}

static int
fake_held(const void *link)
{
	const struct fake_link *l = link;
	return l->held && !l->released;
}

static void
fake_release(void *link)
{
	struct fake_link *l = link;
	l->released = 1;
	l->stage = MAILCONN_STAGE_TEST_SEND;
	/* Like the SMTP engine, the release sends (and reports) MAIL FROM. */
	if (l->p.engine.on_line)
		l->p.engine.on_line(l->p.engine.line_userdata, MAILCONN_DIR_SENT,
		                    "MAIL FROM:<ann@example.com>", 27);
	/* Released events count from now on. */
	l->opened_at = fake_now - (l->next < l->script->n
	                           ? l->script->ev[l->next - 1].at : 0);
}

static int
fake_connected(const void *link)
{
	return ((const struct fake_link *)link)->connected;
}

static const struct mailconn__failure *
fake_failure(const void *link)
{
	return &((const struct fake_link *)link)->failure;
}

static const struct mailconn__link_ops fake_link_ops = {
	.open = fake_open, .close = fake_close, .step = fake_step,
	.wake_at = fake_wake_at, .stage = fake_stage, .held = fake_held,
	.release = fake_release, .connected = fake_connected,
	.failure = fake_failure,
};

static mailconn_cause
fake_waiting(const void *link, char *what, size_t size)
{
	const struct fake_link *l = link;
	snprintf(what, size, "%s", l->script->waiting_what);
	return l->script->waiting;
}

/* A link that can tell the phase it waits in, as the real one does. */
static const struct mailconn__link_ops phase_link_ops = {
	.open = fake_open, .close = fake_close, .step = fake_step,
	.wake_at = fake_wake_at, .stage = fake_stage, .held = fake_held,
	.release = fake_release, .connected = fake_connected,
	.failure = fake_failure, .waiting = fake_waiting,
};

/* ---- scripts ---------------------------------------------------------- */

#define STAGE_AT(t, s, l) { .at = (t), .kind = EV_STAGE, .stage = (s), .line = (l) }
#define DONE_AT(t) { .at = (t), .kind = EV_DONE }
#define HOLD_AT(t) { .at = (t), .kind = EV_HOLD }

static void
imap_passes(struct script *s, int64_t connect_ms, int64_t login_ms)
{
	*s = (struct script){ .n = 3, .ev = {
		STAGE_AT(0, MAILCONN_STAGE_IMAP_CONNECT, "* OK ready"),
		STAGE_AT(connect_ms, MAILCONN_STAGE_IMAP_LOGIN, "a1 OK logged in"),
		DONE_AT(connect_ms + login_ms),
	} };
}

static void
smtp_passes(struct script *s, int64_t connect_ms, int64_t login_ms,
            int64_t send_ms, int hold)
{
	if (hold) {
		*s = (struct script){ .n = 5, .ev = {
			STAGE_AT(0, MAILCONN_STAGE_SMTP_CONNECT, "220 ready"),
			STAGE_AT(connect_ms, MAILCONN_STAGE_SMTP_LOGIN, "250 ok"),
			HOLD_AT(connect_ms + login_ms),
			STAGE_AT(connect_ms + login_ms, MAILCONN_STAGE_TEST_SEND, "250 queued"),
			DONE_AT(connect_ms + login_ms + send_ms),
		} };
		return;
	}
	*s = (struct script){ .n = 4, .ev = {
		STAGE_AT(0, MAILCONN_STAGE_SMTP_CONNECT, "220 ready"),
		STAGE_AT(connect_ms, MAILCONN_STAGE_SMTP_LOGIN, "235 ok"),
		STAGE_AT(connect_ms + login_ms, MAILCONN_STAGE_TEST_SEND, "250 ok"),
		DONE_AT(connect_ms + login_ms + send_ms),
	} };
}

/* ---- driving ---------------------------------------------------------- */

struct observed {
	char log[4096];              /* "P1s L1 P1f ..." in call order */
	mailconn_session *session;
	int wrong_session;
	int cancel_at_stage;         /* cancel from the progress callback */
	size_t longest_line;
};

static void
append(struct observed *o, char kind, int stage, const char *suffix)
{
	size_t n = strlen(o->log);
	snprintf(o->log + n, sizeof o->log - n, "%c%d%s ", kind, stage, suffix);
}

static void
on_progress(mailconn_session *s, void *ud, mailconn_stage stage, int finished,
            mailconn_error outcome)
{
	struct observed *o = ud;
	if (s != o->session)
		o->wrong_session = 1;
	char result[16];
	snprintf(result, sizeof result, "=%d", (int)outcome);
	append(o, 'P', (int)stage, finished ? result : "+");
	/* Every getter is safe here; these used to crash at a stage start. */
	(void)mailconn_session_timeout_ms(s);
	(void)mailconn_session_fd(s);
	(void)mailconn_session_events(s);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
	(void)mailconn_session_stage(s);
	(void)mailconn_session_hint(s);
	(void)mailconn_session_fact(s, stage, MAILCONN_FACT_ADDRESS);
	if (finished) {
		CHECK_INT(mailconn_session_stage_passed(s, stage), outcome == MAILCONN_OK);
		CHECK(mailconn_session_stage_ms(s, stage) >= 0);
	}
	if (!finished && (int)stage == o->cancel_at_stage)
		mailconn_session_cancel(s);
}

static void
on_line(mailconn_session *s, void *ud, mailconn_stage stage,
        mailconn_protocol protocol, mailconn_direction dir, const char *line)
{
	struct observed *o = ud;
	(void)protocol;
	if (s != o->session)
		o->wrong_session = 1;
	append(o, dir == MAILCONN_DIR_RECEIVED ? 'L' : 'T', (int)stage, "");
	if (strlen(line) > o->longest_line)
		o->longest_line = strlen(line);
	(void)mailconn_session_timeout_ms(s);
	(void)mailconn_session_stage_ms(s, stage);
}

static mailconn_config *
base_config(void)
{
	mailconn_config *c = mailconn_config_new();
	mailconn_config_set_string(c, MAILCONN_OPT_EMAIL, "ann@example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_PASSWORD, "secret-pw");
	mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, "imap.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_SMTP_HOST, "smtp.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_BCC, "bcc@example.com");
	mailconn_config_set_int(c, MAILCONN_OPT_STAGE_TIMEOUT_MS, 30000);
	mailconn_config_set_int(c, MAILCONN_OPT_DEADLINE_MS, 120000);
	return c;
}

/* Run to the end on the fake clock; the clock jumps to each wake-up. */
static mailconn_session *
run(mailconn_config *c, struct scripts *sc, struct observed *o)
{
	struct mailconn__session_hooks h = {
		.now_ms = fake_clock, .link = sc->ops ? sc->ops : &fake_link_ops,
		.link_ctx = sc,
	};
	fake_now = 1000000;
	closing_scripts = sc;
	mailconn_session *s = NULL;
	CHECK_INT(mailconn__session_new_with(c, &h, &s), MAILCONN_OK);
	if (!s)
		return NULL;
	o->session = s;
	mailconn_session_set_progress(s, on_progress, o);
	mailconn_session_set_transcript(s, on_line, o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
	int steps = 0;
	while (mailconn_session_step(s) == MAILCONN_PENDING && steps++ < 1000) {
		int wait = mailconn_session_timeout_ms(s);
		CHECK(wait >= 0);
		if (wait > 0)
			fake_now += wait;
	}
	CHECK(steps < 1000);
	CHECK(!o->wrong_session);
	CHECK_INT(mailconn_session_timeout_ms(s), -1);
	CHECK_INT(mailconn_session_fd(s), -1);
	return s;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_sequential_pass(void)
{
	struct scripts sc = { 0 };
	imap_passes(&sc.imap, 40, 25);
	smtp_passes(&sc.smtp, 30, 20, 15, 0);
	mailconn_config *c = base_config();
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_OK);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_TEST_SEND);
	/* Stage times are exactly the scripted ones. */
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_CONNECT), 40);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_LOGIN), 25);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_SMTP_CONNECT), 30);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_SMTP_LOGIN), 20);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_TEST_SEND), 15);
	for (int st = 1; st <= 5; st++)
		CHECK_INT(mailconn_session_stage_passed(s, (mailconn_stage)st), 1);
	/* Started, its lines, finished: a stage's line never comes before
	 * its start or after its end. */
	CHECK_STR(o.log, "P1+ L1 P1=0 P2+ L2 P2=0 P3+ L3 P3=0 P4+ L4 P4=0 "
	                 "P5+ L5 P5=0 ");
	CHECK_INT(sc.opened[MAILCONN_PROTOCOL_IMAP], 1);
	CHECK_INT(sc.opened[MAILCONN_PROTOCOL_SMTP], 1);
	CHECK_INT(sc.closed, 2);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_connect_timeout(void)
{
	struct scripts sc = { 0 };   /* IMAP never connects */
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_STAGE_TIMEOUT_MS, 5000);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_IMAP_SETTINGS);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_CONNECT_TIMEOUT);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_CONNECT);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_CONNECT), 5000);
	CHECK_CONTAINS(mailconn_session_detail(s), "imap_connect timed out after 5000 ms");
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_SMTP_CONNECT), -1);
	CHECK_INT(sc.opened[MAILCONN_PROTOCOL_SMTP], 0);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_login_timeout(void)
{
	struct scripts sc = { 0 };
	sc.imap = (struct script){ .n = 1, .ev = {
		STAGE_AT(100, MAILCONN_STAGE_IMAP_LOGIN, "* OK ready") } };
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_STAGE_TIMEOUT_MS, 2000);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	/* Connected, then silence: the connection cannot be validated. */
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_IMAP_VALIDATION);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_TIMEOUT);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_CONNECT), 100);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_LOGIN), 2000);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

/* The link's phase becomes the cause and ends the detail, for the stage
 * timeout and the overall deadline alike; the hint follows the cause. */
static void
test_timeout_names_the_phase(void)
{
	struct scripts sc = { .ops = &phase_link_ops };
	sc.imap = (struct script){ .n = 1, .ev = {
		{ .at = 50, .kind = EV_CONNECTED } },
		.waiting = MAILCONN_CAUSE_TLS_HANDSHAKE_TIMEOUT,
		.waiting_what = "during the TLS handshake with 192.0.2.1:993" };
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_STAGE_TIMEOUT_MS, 5000);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_IMAP_SETTINGS);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_TLS_HANDSHAKE_TIMEOUT);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_CONNECT), 5000);
	CHECK_STR(mailconn_session_detail(s), "imap_connect timed out after "
	          "5000 ms during the TLS handshake with 192.0.2.1:993");
	CHECK_STR(mailconn_session_hint_id(s), "IMAP_SETTINGS.TLS_HANDSHAKE_TIMEOUT");
	CHECK_CONTAINS(mailconn_session_hint(s), "port 993");
	mailconn_session_free(s);

	/* SMTP greets never: its own cause, with the SMTP port in the hint. */
	sc = (struct scripts){ .ops = &phase_link_ops };
	imap_passes(&sc.imap, 10, 10);
	sc.smtp = (struct script){ .n = 1, .ev = {
		{ .at = 5, .kind = EV_CONNECTED } },
		.waiting = MAILCONN_CAUSE_GREETING_TIMEOUT,
		.waiting_what = "waiting for the server's greeting" };
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_PORT, 2525);
	mailconn_config_set_string(c, MAILCONN_OPT_LANGUAGE, "nb");
	s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_SMTP_SETTINGS);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_GREETING_TIMEOUT);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_SMTP_CONNECT);
	CHECK_CONTAINS(mailconn_session_detail(s), "smtp_connect timed out after "
	               "5000 ms waiting for the server's greeting");
	CHECK_CONTAINS(mailconn_session_hint(s), "port 2525");
	CHECK_CONTAINS(mailconn_session_hint(s), "hilste aldri");
	mailconn_session_free(s);

	/* The overall deadline cuts a login waiting for its reply. */
	sc = (struct scripts){ .ops = &phase_link_ops };
	sc.imap = (struct script){ .n = 1, .ev = {
		STAGE_AT(100, MAILCONN_STAGE_IMAP_LOGIN, "* OK ready") },
		.waiting = MAILCONN_CAUSE_TIMEOUT,
		.waiting_what = "waiting for the reply to LOGIN" };
	mailconn_config_set_int(c, MAILCONN_OPT_DEADLINE_MS, 3000);
	s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_IMAP_VALIDATION);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_TIMEOUT);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_STR(mailconn_session_detail(s), "the verification timed out after "
	          "3000 ms waiting for the reply to LOGIN");
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_overall_deadline(void)
{
	struct scripts sc = { 0 };
	imap_passes(&sc.imap, 1000, 500);
	sc.smtp = (struct script){ .n = 2, .ev = {
		STAGE_AT(0, MAILCONN_STAGE_SMTP_CONNECT, "220 ready"),
		STAGE_AT(700, MAILCONN_STAGE_SMTP_LOGIN, "250 ok") } };
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_DEADLINE_MS, 3000);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	/* 1500 ms of IMAP, 700 of SMTP connect: the login is cut at 3000. */
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_SMTP_SETTINGS);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_TIMEOUT);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_SMTP_LOGIN);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_SMTP_LOGIN), 800);
	CHECK_CONTAINS(mailconn_session_detail(s),
	               "the verification timed out after 3000 ms");
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_send_timeout(void)
{
	struct scripts sc = { 0 };
	imap_passes(&sc.imap, 10, 10);
	sc.smtp = (struct script){ .n = 3, .ev = {
		STAGE_AT(0, MAILCONN_STAGE_SMTP_CONNECT, "220 ready"),
		STAGE_AT(10, MAILCONN_STAGE_SMTP_LOGIN, "250 ok"),
		STAGE_AT(20, MAILCONN_STAGE_TEST_SEND, "235 ok") } };
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_STAGE_TIMEOUT_MS, 4000);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_TEST_SEND);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_TIMEOUT);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_TEST_SEND), 4000);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_overlap_hold(void)
{
	struct scripts sc = { 0 };
	/* IMAP's login takes 25 s; SMTP is logged in after 300 ms and waits.
	 * The wait is not SMTP's time: no stage may time out (limit 30 s). */
	imap_passes(&sc.imap, 200, 25000);
	smtp_passes(&sc.smtp, 100, 200, 50, 1);
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_OVERLAP, 1);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_OK);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_SMTP_LOGIN), 200);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_IMAP_LOGIN), 25000);
	CHECK_INT(mailconn_session_stage_ms(s, MAILCONN_STAGE_TEST_SEND), 50);
	/* The send starts only once IMAP has passed, and each stage starts
	 * and ends once, its first command after its start. */
	const char *p5 = strstr(o.log, "P5+"), *p2 = strstr(o.log, "P2=0");
	CHECK(p5 && p2 && p2 < p5);
	CHECK(p5 && !strstr(p5 + 1, "P5+"));
	const char *p4 = strstr(o.log, "P4=0");
	CHECK(p4 && !strstr(p4 + 1, "P4=0"));
	const char *t5 = strstr(o.log, "T5");
	CHECK(t5 && p5 && p5 < t5);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_overlap_earliest_stage_wins(void)
{
	struct scripts sc = { 0 };
	/* SMTP fails first (stage 3, at 50 ms), IMAP's login fails later
	 * (stage 2, at 400 ms): the earlier stage is the verdict. */
	sc.imap = (struct script){ .n = 3, .ev = {
		STAGE_AT(0, MAILCONN_STAGE_IMAP_CONNECT, "* OK ready"),
		STAGE_AT(100, MAILCONN_STAGE_IMAP_LOGIN, NULL),
		{ .at = 400, .kind = EV_FAIL, .outcome = MAILCONN_IMAP_VALIDATION,
		  .cause = MAILCONN_CAUSE_MAILBOX_UNAVAILABLE,
		  .reply = "a2 NO [NONEXISTENT] no INBOX",
		  .step = MAILCONN__STEP_SELECT } } };
	sc.smtp = (struct script){ .n = 1, .ev = {
		{ .at = 50, .kind = EV_FAIL, .outcome = MAILCONN_SMTP_SETTINGS,
		  .cause = MAILCONN_CAUSE_CONNECT_REFUSED } } };
	mailconn_config *c = base_config();
	mailconn_config_set_int(c, MAILCONN_OPT_OVERLAP, 1);
	struct observed o = { 0 };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_IMAP_VALIDATION);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(mailconn_session_protocol(s), MAILCONN_PROTOCOL_IMAP);
	CHECK_CONTAINS(mailconn_session_server_reply(s), "no INBOX");
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_SMTP_CONNECT), 0);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

/* A refusal that reads as "wrong credentials" on IMAP is reclassified
 * when SMTP accepted the very same credentials (overlapped mode). */
static void
test_overlap_reclassifies_imap_login(void)
{
	for (int smtp_ok = 0; smtp_ok <= 1; smtp_ok++) {
		struct scripts sc = { 0 };
		sc.imap = (struct script){ .n = 3, .ev = {
			STAGE_AT(0, MAILCONN_STAGE_IMAP_CONNECT, "* OK ready"),
			STAGE_AT(10, MAILCONN_STAGE_IMAP_LOGIN, NULL),
			{ .at = 20, .kind = EV_FAIL, .outcome = MAILCONN_UNAUTHORIZED,
			  .cause = MAILCONN_CAUSE_AUTH_REJECTED,
			  .reply = "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
			  .step = MAILCONN__STEP_LOGIN } } };
		if (smtp_ok) {
			smtp_passes(&sc.smtp, 100, 100, 10, 1);
		} else {
			sc.smtp = (struct script){ .n = 2, .ev = {
				STAGE_AT(100, MAILCONN_STAGE_SMTP_LOGIN, "220 ready"),
				{ .at = 200, .kind = EV_FAIL,
				  .outcome = MAILCONN_UNAUTHORIZED,
				  .cause = MAILCONN_CAUSE_AUTH_REJECTED,
				  .reply = "535 5.7.8 Error: authentication failed",
				  .step = MAILCONN__STEP_AUTHENTICATE } } };
		}
		mailconn_config *c = base_config();
		mailconn_config_set_int(c, MAILCONN_OPT_OVERLAP, 1);
		struct observed o = { 0 };
		mailconn_session *s = run(c, &sc, &o);
		/* The verdict waited for SMTP's login. */
		CHECK_INT(mailconn_session_outcome(s),
		          smtp_ok ? MAILCONN_IMAP_AUTH : MAILCONN_UNAUTHORIZED);
		CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_LOGIN);
		CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_SMTP_LOGIN),
		          smtp_ok ? 1 : 0);
		mailconn_session_free(s);
		mailconn_config_free(c);
	}
}

static void
test_cancel_from_callback(void)
{
	struct scripts sc = { 0 };
	imap_passes(&sc.imap, 40, 25);
	smtp_passes(&sc.smtp, 30, 20, 15, 0);
	mailconn_config *c = base_config();
	struct observed o = { .cancel_at_stage = MAILCONN_STAGE_SMTP_CONNECT };
	mailconn_session *s = run(c, &sc, &o);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_CANCELLED);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_SMTP_CONNECT);
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_IMAP_LOGIN), 1);
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_SMTP_CONNECT), -1);
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_TEST_SEND), -1);
	CHECK_CONTAINS(mailconn_session_detail(s), "cancelled");
	CHECK_STR(mailconn_session_hint(s), "");
	CHECK_INT(sc.closed, sc.opened[1] + sc.opened[2]);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static void
test_cancel_before_start(void)
{
	struct scripts sc = { 0 };
	imap_passes(&sc.imap, 40, 25);
	mailconn_config *c = base_config();
	struct mailconn__session_hooks h = {
		.now_ms = fake_clock, .link = &fake_link_ops, .link_ctx = &sc,
	};
	mailconn_session *s = NULL;
	CHECK_INT(mailconn__session_new_with(c, &h, &s), MAILCONN_OK);
	CHECK_INT(mailconn_session_cancel(s), MAILCONN_OK);
	CHECK_INT(mailconn_session_timeout_ms(s), 0);
	CHECK_INT(mailconn_session_step(s), MAILCONN_DONE);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_NONE);
	CHECK_INT(sc.opened[MAILCONN_PROTOCOL_IMAP], 0);
	/* A finished check keeps its outcome. */
	CHECK_INT(mailconn_session_cancel(s), MAILCONN_OK);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
	CHECK_INT(mailconn_session_cancel(NULL), MAILCONN_E_INVALID_ARGUMENT);
	mailconn_session_free(s);
	mailconn_config_free(c);
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Every text a session hands out holds to MAILCONN_TEXT_MAX, at the
 * bound and past it, whatever the server sends. */
static void
test_text_bounds(void)
{
	static char huge[6000], at_bound[MAILCONN_TEXT_MAX + 1];
	memset(huge, 'x', sizeof huge - 1);
	memcpy(huge, "* NO [ALERT] ", 13);
	/* Exactly what fits with no cut: the bound less the "..." room. */
	memset(at_bound, 'y', MAILCONN_TEXT_MAX - 3);
	const char *replies[] = { huge, at_bound };
	for (int i = 0; i < 2; i++) {
		struct scripts sc = { 0 };
		sc.imap = (struct script){ .n = 3, .ev = {
			STAGE_AT(0, MAILCONN_STAGE_IMAP_CONNECT, replies[i]),
			STAGE_AT(10, MAILCONN_STAGE_IMAP_LOGIN, NULL),
			{ .at = 20, .kind = EV_FAIL, .outcome = MAILCONN_IMAP_AUTH,
			  .cause = MAILCONN_CAUSE_AUTH_TEMPORARY, .reply = replies[i],
			  .step = MAILCONN__STEP_LOGIN } } };
		mailconn_config *c = base_config();
		struct observed o = { 0 };
		mailconn_session *s = run(c, &sc, &o);
		const char *reply = mailconn_session_server_reply(s);
		CHECK(strlen(reply) <= MAILCONN_TEXT_MAX);
		CHECK(o.longest_line <= MAILCONN_TEXT_MAX);
		CHECK(strlen(mailconn_session_hint(s)) <= MAILCONN_TEXT_MAX);
		if (i == 0) {
			CHECK(ends_with(reply, "..."));
			CHECK_INT(strlen(reply), MAILCONN_TEXT_MAX);
		} else {
			CHECK_STR(reply, at_bound);
			CHECK_INT(o.longest_line, MAILCONN_TEXT_MAX - 3);
		}
		mailconn_session_free(s);
		mailconn_config_free(c);
	}
}

int
main(void)
{
	test_sequential_pass();
	test_connect_timeout();
	test_login_timeout();
	test_overall_deadline();
	test_timeout_names_the_phase();
	test_send_timeout();
	test_overlap_hold();
	test_overlap_earliest_stage_wins();
	test_overlap_reclassifies_imap_login();
	test_cancel_from_callback();
	test_cancel_before_start();
	test_text_bounds();
	return check_finish();
}
