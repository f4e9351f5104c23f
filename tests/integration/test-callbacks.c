/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MAILCONN_1.1 callback and cancel contract, against a real Dovecot and
 * Postfix (started by tests/servers/mailservers.py, MAILCONN_TEST_*
 * variables) and against a loopback listener that never answers:
 *
 *  - per-session callbacks replace the config's, and every read-only
 *    getter gives sane values from inside every callback point (progress
 *    start, progress finish, transcript line), with the session pointer
 *    passed being the session;
 *  - for every stage: progress(stage, 0), then that stage's lines, then
 *    progress(stage, 1), each exactly once; no line of a stage outside
 *    that bracket; stages in order (per track with MAILCONN_OPT_OVERLAP);
 *  - mailconn_session_outcome() is MAILCONN_E_PENDING before the first
 *    step and while the check is pending;
 *  - mailconn_session_cancel() from another thread wakes the session's fd
 *    (a poll() with the session's own, long timeout returns at once), and
 *    from inside a progress callback; the outcome is MAILCONN_E_CANCELLED,
 *    cause MAILCONN_CAUSE_CANCELLED, stage the one that was running, and
 *    the stages that did not finish report passed == -1.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mailconn.h>

#include "../unit/check.h"
#include "silent-server.h"

#define N_STAGES 5
#define N_FACTS 8

static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);
	if (!v) {
		fprintf(stderr, "%s is not set: run through tests/servers/mailservers.py\n",
		        name);
		exit(1);
	}
	return v;
}

/* ---- configs ------------------------------------------------------------ */

static int config_callback_calls;

static void
config_progress(void *userdata, mailconn_stage stage, int finished,
                mailconn_error outcome)
{
	(void)userdata, (void)stage, (void)finished, (void)outcome;
	config_callback_calls++;
}

static void
config_transcript(void *userdata, mailconn_stage stage, mailconn_protocol protocol,
                  mailconn_direction dir, const char *line)
{
	(void)userdata, (void)stage, (void)protocol, (void)dir, (void)line;
	config_callback_calls++;
}

/* The working setup against the real servers: IMAP over TLS, SMTP with
 * STARTTLS, sequential stages. The config also registers callbacks, which
 * the per-session ones must replace. */
static mailconn_config *
real_config_overlap(const char *password, int overlap)
{
	mailconn_config *cfg = mailconn_config_new();
	CHECK(cfg != NULL);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL, env("MAILCONN_TEST_USER")), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD, password), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_BCC, env("MAILCONN_TEST_BCC")), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, env("MAILCONN_TEST_HOSTNAME")), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_HOST, env("MAILCONN_TEST_HOSTNAME")), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_CA_FILE, env("MAILCONN_TEST_CA_FILE")), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT,
	                                  strtol(env("MAILCONN_TEST_IMAP_TLS_PORT"), NULL, 10)), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_SMTP_PORT,
	                                  strtol(env("MAILCONN_TEST_SMTP_STARTTLS_PORT"), NULL, 10)), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_SECURITY, MAILCONN_SECURITY_TLS), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_SMTP_SECURITY, MAILCONN_SECURITY_STARTTLS), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, 20000), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_OVERLAP, overlap), 0);
	mailconn_config_set_progress(cfg, config_progress, NULL);
	mailconn_config_set_transcript(cfg, config_transcript, NULL);
	return cfg;
}

static mailconn_config *
real_config(const char *password)
{
	return real_config_overlap(password, 0);
}

/* The stage timeout (30 s) is what a cancel that does not work would wait
 * for; the checks below want the end far sooner. */
#define SILENT_STAGE_TIMEOUT_MS 30000
#define PROMPT_MS 5000

static mailconn_config *
silent_config(int port)
{
	mailconn_config *cfg = mailconn_config_new();
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL, "ann@example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD, "secret-pw"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_BCC, "bcc@example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, "127.0.0.1"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_HOST, "127.0.0.1"), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, port), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_SECURITY,
	                                  MAILCONN_SECURITY_STARTTLS), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS,
	                                  SILENT_STAGE_TIMEOUT_MS), 0);
	mailconn_config_set_progress(cfg, config_progress, NULL);
	mailconn_config_set_transcript(cfg, config_transcript, NULL);
	return cfg;
}

/* ---- what the callbacks see --------------------------------------------- */

enum { EV_START = 'S', EV_LINE = 'L', EV_FINISH = 'F' };

struct event {
	char kind;
	int stage;
	mailconn_error outcome;         /* EV_FINISH: the callback's argument */
};

struct ctx {
	mailconn_session *s;
	int all_pass;                   /* the run is expected to pass */
	int overlap;                    /* IMAP and SMTP stages side by side */
	int cancel_at_start_of;         /* cancel from progress(stage, 0) */
	int cancelled;                  /* ...and that has happened */
	mailconn_error cancel_rc;
	int wrong_session;              /* callbacks given another pointer */
	struct event ev[8192];
	int n;
};

static void
record(struct ctx *c, char kind, int stage, mailconn_error outcome)
{
	if (c->n < (int)(sizeof c->ev / sizeof c->ev[0]))
		c->ev[c->n++] = (struct event){ kind, stage, outcome };
	else
		CHECK(!"event log full");
}

/* Call every read-only getter and check what must hold at this point.
 * `stage` is the stage the callback is about; `finished` 1 only for
 * progress(stage, 1), whose outcome argument is `outcome`. */
static void
inspect(struct ctx *c, mailconn_session *s, char kind, mailconn_stage stage,
        mailconn_error outcome)
{
	if (s != c->s)
		c->wrong_session++;
	if (!s)
		return;
	int st = (int)stage;
	CHECK(st >= 1 && st <= N_STAGES);

	/* Strings: valid (strlen walks them: ASan and valgrind see a bad
	 * pointer) and bounded. */
	const char *strs[] = { mailconn_session_server_reply(s),
	                       mailconn_session_detail(s),
	                       mailconn_session_hint(s) };
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		CHECK(strs[i] != NULL);
		if (strs[i])
			CHECK(strlen(strs[i]) < 65536);
	}
	for (int k = 1; k <= N_STAGES; k++)
		for (int f = 0; f < N_FACTS; f++) {
			const char *v = mailconn_session_fact(s, (mailconn_stage)k,
			                                      (mailconn_fact)f);
			CHECK(v != NULL);
			if (v)
				CHECK(strlen(v) < 65536);
		}
	CHECK(strcmp(mailconn_cause_name(mailconn_session_cause(s)), "UNKNOWN") != 0);
	mailconn_protocol proto = mailconn_session_protocol(s);
	CHECK(proto == MAILCONN_PROTOCOL_NONE || proto == MAILCONN_PROTOCOL_IMAP ||
	      proto == MAILCONN_PROTOCOL_SMTP);
	CHECK(mailconn_session_fd(s) >= -1);
	CHECK((mailconn_session_events(s) & ~(MAILCONN_WAIT_READ | MAILCONN_WAIT_WRITE)) == 0);
	CHECK(mailconn_session_timeout_ms(s) >= -1);

	/* The stage reported is the one running, when one runs at a time. */
	if (!c->overlap)
		CHECK_INT(mailconn_session_stage(s), st);

	mailconn_error now = mailconn_session_outcome(s);
	if (kind != EV_FINISH) {
		/* Started, or in the middle: the check has not finished (a
		 * cancel asked for by this callback may have decided it). */
		if (!c->cancelled)
			CHECK_INT(now, MAILCONN_E_PENDING);
		else
			CHECK(now == MAILCONN_E_PENDING || now == MAILCONN_E_CANCELLED);
		CHECK_INT(mailconn_session_stage_passed(s, stage), -1);
	} else if (outcome == MAILCONN_E_CANCELLED) {
		/* A stage ended by a cancel did not finish: passed stays -1. */
		CHECK(now == MAILCONN_E_PENDING || now == MAILCONN_E_CANCELLED);
		CHECK_INT(mailconn_session_stage_passed(s, stage), -1);
	} else {
		/* A passed stage other than the last leaves the check going; at
		 * the end of the last or of a failed one the verdict may be in. */
		if (outcome == MAILCONN_OK && st < N_STAGES)
			CHECK_INT(now, MAILCONN_E_PENDING);
		else
			CHECK(now == MAILCONN_E_PENDING || now == outcome);
		CHECK_INT(mailconn_session_stage_passed(s, stage),
		          outcome == MAILCONN_OK ? 1 : 0);
		CHECK(mailconn_session_stage_ms(s, stage) >= 0);
	}
	/* Stages before this one (of its track, when the tracks overlap; the
	 * test send comes after both) have finished; later ones of its track
	 * have not run. */
	int first = 1, last = N_STAGES;
	if (c->overlap && st <= MAILCONN_STAGE_IMAP_LOGIN)
		last = MAILCONN_STAGE_IMAP_LOGIN;
	else if (c->overlap && st < MAILCONN_STAGE_TEST_SEND)
		first = MAILCONN_STAGE_SMTP_CONNECT;
	for (int k = first; k < st; k++) {
		int passed = mailconn_session_stage_passed(s, (mailconn_stage)k);
		if (c->all_pass)
			CHECK_INT(passed, 1);
		else
			CHECK(passed == 0 || passed == 1);
		CHECK(mailconn_session_stage_ms(s, (mailconn_stage)k) >= 0);
	}
	for (int k = st + 1; k <= last; k++) {
		CHECK_INT(mailconn_session_stage_passed(s, (mailconn_stage)k), -1);
		CHECK_INT(mailconn_session_stage_ms(s, (mailconn_stage)k), -1);
	}
}

static void
on_progress(mailconn_session *s, void *userdata, mailconn_stage stage,
            int finished, mailconn_error outcome)
{
	struct ctx *c = userdata;
	CHECK(finished == 0 || finished == 1);
	record(c, finished ? EV_FINISH : EV_START, (int)stage, outcome);
	if (!finished && c->cancel_at_start_of == (int)stage) {
		inspect(c, s, EV_START, stage, outcome);
		c->cancel_rc = mailconn_session_cancel(s);
		c->cancelled = 1;
		/* Getters stay safe after a cancel, from the same callback. */
		inspect(c, s, EV_START, stage, outcome);
		return;
	}
	inspect(c, s, finished ? EV_FINISH : EV_START, stage, outcome);
}

static void
on_transcript(mailconn_session *s, void *userdata, mailconn_stage stage,
              mailconn_protocol protocol, mailconn_direction dir, const char *line)
{
	struct ctx *c = userdata;
	record(c, EV_LINE, (int)stage, MAILCONN_OK);
	CHECK(line != NULL);
	CHECK(dir == MAILCONN_DIR_RECEIVED || dir == MAILCONN_DIR_SENT ||
	      dir == MAILCONN_DIR_INFO);
	CHECK_INT(protocol, stage <= MAILCONN_STAGE_IMAP_LOGIN ? MAILCONN_PROTOCOL_IMAP
	                                                      : MAILCONN_PROTOCOL_SMTP);
	inspect(c, s, EV_LINE, stage, MAILCONN_OK);
}

/* Step `s` from a poll() loop on its fd, as a caller's event loop would,
 * checking the outcome says pending while it is. Returns the ms taken. */
static long long
drive(mailconn_session *s, int max_steps)
{
	long long t0 = now_ms();
	int steps = 0;
	while (mailconn_session_step(s) == MAILCONN_PENDING && ++steps < max_steps) {
		CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
		unsigned ev = mailconn_session_events(s);
		struct pollfd pfd = {
			.fd = mailconn_session_fd(s),
			.events = (short)((ev & MAILCONN_WAIT_READ ? POLLIN : 0) |
			                  (ev & MAILCONN_WAIT_WRITE ? POLLOUT : 0)),
		};
		if (poll(&pfd, 1, mailconn_session_timeout_ms(s)) < 0 && errno != EINTR) {
			perror("poll");
			CHECK(!"poll failed");
			break;
		}
	}
	CHECK(steps < max_steps);
	return now_ms() - t0;
}

/* progress(N, 0), N's lines, progress(N, 1), for stages 1..`last`, one
 * stage after the other; nothing about any later stage. */
static void
check_order(const struct ctx *c, int last, const char *what)
{
	/* With overlap, stage k must wait only for prev[k] (0: nothing). */
	static const int seq_prev[] = { 0, 0, 1, 2, 3, 4 };
	static const int overlap_prev[] = { 0, 0, 1, 0, 3, 4 };
	const int *prev = c->overlap ? overlap_prev : seq_prev;
	int start[N_STAGES + 2], finish[N_STAGES + 2], lines[N_STAGES + 2];
	int starts[N_STAGES + 2] = { 0 }, finishes[N_STAGES + 2] = { 0 };
	for (int k = 0; k < N_STAGES + 2; k++)
		start[k] = finish[k] = -1, lines[k] = 0;
	int failures = check_failures;
	for (int i = 0; i < c->n; i++) {
		const struct event *e = &c->ev[i];
		CHECK(e->stage >= 1 && e->stage <= last);
		if (e->stage < 1 || e->stage > N_STAGES)
			continue;
		if (e->kind == EV_START) {
			starts[e->stage]++;
			start[e->stage] = i;
		} else if (e->kind == EV_FINISH) {
			finishes[e->stage]++;
			finish[e->stage] = i;
		} else {
			lines[e->stage]++;
			/* A line only between its stage's start and finish. */
			CHECK(start[e->stage] >= 0 && finish[e->stage] < 0);
			if (!(start[e->stage] >= 0 && finish[e->stage] < 0))
				fprintf(stderr, "%s: line %d of stage %d outside "
				        "progress(%d,0)..progress(%d,1)\n", what, i,
				        e->stage, e->stage, e->stage);
		}
	}
	for (int k = 1; k <= last; k++) {
		CHECK_INT(starts[k], 1);
		CHECK_INT(finishes[k], 1);
		CHECK(start[k] >= 0 && start[k] < finish[k]);
		CHECK(lines[k] > 0);
		if (prev[k])
			CHECK(finish[prev[k]] < start[k]);
		if (c->overlap && k == MAILCONN_STAGE_TEST_SEND)
			CHECK(finish[MAILCONN_STAGE_IMAP_LOGIN] < start[k]);
	}
	if (check_failures != failures) {
		fprintf(stderr, "%s: the callback sequence was:", what);
		for (int i = 0; i < c->n; i++)
			fprintf(stderr, " %c%d", c->ev[i].kind, c->ev[i].stage);
		fprintf(stderr, "\n");
	}
}

static mailconn_session *
new_session(mailconn_config *cfg, struct ctx *c)
{
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	if (!s)
		return NULL;
	c->s = s;
	/* Before the first step: nothing has run yet. */
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
	CHECK_INT(mailconn_session_set_progress(s, on_progress, c), MAILCONN_OK);
	CHECK_INT(mailconn_session_set_transcript(s, on_transcript, c), MAILCONN_OK);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
	return s;
}

/* ---- the cases ------------------------------------------------------------ */

static void
test_null_handles(void)
{
	CHECK_INT(mailconn_session_cancel(NULL), MAILCONN_E_INVALID_ARGUMENT);
	CHECK_INT(mailconn_session_set_progress(NULL, on_progress, NULL),
	          MAILCONN_E_INVALID_ARGUMENT);
	CHECK_INT(mailconn_session_set_transcript(NULL, on_transcript, NULL),
	          MAILCONN_E_INVALID_ARGUMENT);
}

/* (a), (b), (d): a check that passes every stage. */
static void
test_getters_and_order_all_pass(void)
{
	static struct ctx c;
	memset(&c, 0, sizeof c);
	c.all_pass = 1;
	config_callback_calls = 0;
	mailconn_config *cfg = real_config(env("MAILCONN_TEST_PASSWORD"));
	mailconn_session *s = new_session(cfg, &c);
	mailconn_config_free(cfg);
	if (!s)
		return;
	drive(s, 10000);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_OK);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_TEST_SEND);
	for (int k = 1; k <= N_STAGES; k++)
		CHECK_INT(mailconn_session_stage_passed(s, (mailconn_stage)k), 1);
	CHECK_INT(c.wrong_session, 0);
	CHECK_INT(config_callback_calls, 0);        /* replaced, not added to */
	check_order(&c, N_STAGES, "all pass");
	int finishes_ok = 0;
	for (int i = 0; i < c.n; i++)
		if (c.ev[i].kind == EV_FINISH && c.ev[i].outcome == MAILCONN_OK)
			finishes_ok++;
	CHECK_INT(finishes_ok, N_STAGES);
	printf("all pass: %d callbacks, outcome %s\n", c.n,
	       mailconn_error_name(mailconn_session_outcome(s)));
	mailconn_session_free(s);
}

/* (a), (b) with the IMAP and SMTP stages running side by side: each
 * stage's lines still sit between its own start and finish. */
static void
test_getters_and_order_overlap(void)
{
	static struct ctx c;
	memset(&c, 0, sizeof c);
	c.all_pass = 1;
	c.overlap = 1;
	config_callback_calls = 0;
	mailconn_config *cfg = real_config_overlap(env("MAILCONN_TEST_PASSWORD"), 1);
	mailconn_session *s = new_session(cfg, &c);
	mailconn_config_free(cfg);
	if (!s)
		return;
	drive(s, 10000);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_OK);
	for (int k = 1; k <= N_STAGES; k++)
		CHECK_INT(mailconn_session_stage_passed(s, (mailconn_stage)k), 1);
	CHECK_INT(c.wrong_session, 0);
	CHECK_INT(config_callback_calls, 0);
	check_order(&c, N_STAGES, "overlap");
	printf("overlap: %d callbacks, outcome %s, sequence", c.n,
	       mailconn_error_name(mailconn_session_outcome(s)));
	for (int i = 0; i < c.n; i++)
		if (c.ev[i].kind != EV_LINE)
			printf(" %c%d", c.ev[i].kind, c.ev[i].stage);
	printf("\n");
	mailconn_session_free(s);
}

/* (a), (b): a check that fails in stage 2 (wrong password). */
static void
test_getters_and_order_login_fails(void)
{
	static struct ctx c;
	memset(&c, 0, sizeof c);
	config_callback_calls = 0;
	mailconn_config *cfg = real_config("not-the-password-1234");
	mailconn_session *s = new_session(cfg, &c);
	mailconn_config_free(cfg);
	if (!s)
		return;
	drive(s, 10000);
	mailconn_error outcome = mailconn_session_outcome(s);
	CHECK(outcome == MAILCONN_UNAUTHORIZED || outcome == MAILCONN_IMAP_AUTH);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_IMAP_CONNECT), 1);
	CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_IMAP_LOGIN), 0);
	CHECK_INT(c.wrong_session, 0);
	CHECK_INT(config_callback_calls, 0);
	check_order(&c, MAILCONN_STAGE_IMAP_LOGIN, "login fails");
	/* The finish of stage 2 carried the outcome. */
	for (int i = 0; i < c.n; i++)
		if (c.ev[i].kind == EV_FINISH && c.ev[i].stage == 2)
			CHECK_INT(c.ev[i].outcome, outcome);
	printf("login fails: %d callbacks, outcome %s\n", c.n,
	       mailconn_error_name(outcome));
	mailconn_session_free(s);
}

/* The check after a cancel: `stage` was running and did not finish. */
static void
check_cancelled(mailconn_session *s, int stage, const char *what)
{
	printf("%s: outcome %s, cause %s, stage %d\n", what,
	       mailconn_error_name(mailconn_session_outcome(s)),
	       mailconn_cause_name(mailconn_session_cause(s)),
	       (int)mailconn_session_stage(s));
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_CANCELLED);
	CHECK_INT(mailconn_session_stage(s), stage);
	for (int k = 1; k < stage; k++)
		CHECK_INT(mailconn_session_stage_passed(s, (mailconn_stage)k), 1);
	for (int k = stage; k <= N_STAGES; k++)
		CHECK_INT(mailconn_session_stage_passed(s, (mailconn_stage)k), -1);
	CHECK(mailconn_session_fd(s) == -1);
	CHECK(mailconn_session_timeout_ms(s) == -1);
	CHECK_INT(mailconn_session_step(s), MAILCONN_DONE);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
}

struct canceller {
	mailconn_session *s;
	sem_t go;
	mailconn_error rc;
	long long at;
};

static void *
cancel_thread(void *arg)
{
	struct canceller *k = arg;
	while (sem_wait(&k->go) != 0 && errno == EINTR)
		;
	k->at = now_ms();
	k->rc = mailconn_session_cancel(k->s);
	return NULL;
}

/* (c), (d): another thread cancels while this one waits in poll() on the
 * session's fd with the session's own timeout (the 30 s stage timeout):
 * the cancel must wake that poll. */
static void
test_cancel_from_thread(void)
{
	int port;
	int listener = silent_server(&port);
	static struct ctx c;
	memset(&c, 0, sizeof c);
	mailconn_config *cfg = silent_config(port);
	mailconn_session *s = new_session(cfg, &c);
	mailconn_config_free(cfg);
	if (!s) {
		close(listener);
		return;
	}
	CHECK_INT(mailconn_session_step(s), MAILCONN_PENDING);
	/* Connected or connecting, waiting for a greeting that never comes. */
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
	CHECK(mailconn_session_fd(s) >= 0);
	CHECK(mailconn_session_timeout_ms(s) > PROMPT_MS);

	struct canceller k = { .s = s };
	sem_init(&k.go, 0, 0);
	pthread_t thread;
	CHECK_INT(pthread_create(&thread, NULL, cancel_thread, &k), 0);

	long long t0 = now_ms(), waited_longest = 0;
	int polls = 0, woken = 0;
	sem_post(&k.go);
	mailconn_state st = MAILCONN_PENDING;
	while (st == MAILCONN_PENDING && polls < 100) {
		unsigned ev = mailconn_session_events(s);
		int timeout = mailconn_session_timeout_ms(s);
		struct pollfd pfd = {
			.fd = mailconn_session_fd(s),
			.events = (short)((ev & MAILCONN_WAIT_READ ? POLLIN : 0) |
			                  (ev & MAILCONN_WAIT_WRITE ? POLLOUT : 0)),
		};
		long long p0 = now_ms();
		int rc = poll(&pfd, 1, timeout);
		if (now_ms() - p0 > waited_longest)
			waited_longest = now_ms() - p0;
		polls++;
		if (rc > 0)
			woken++;
		st = mailconn_session_step(s);
		if (st == MAILCONN_PENDING)
			CHECK(mailconn_session_outcome(s) == MAILCONN_E_PENDING ||
			      mailconn_session_outcome(s) == MAILCONN_E_CANCELLED);
	}
	long long elapsed = now_ms() - t0;
	pthread_join(thread, NULL);
	sem_destroy(&k.go);
	printf("cancel from a thread: done after %lld ms, %d polls (%d woken by "
	       "the fd), longest wait %lld ms\n", elapsed, polls, woken,
	       waited_longest);
	CHECK_INT(k.rc, MAILCONN_OK);
	CHECK_INT(st, MAILCONN_DONE);
	CHECK(elapsed < PROMPT_MS);
	CHECK(waited_longest < PROMPT_MS);
	CHECK(woken >= 1);                  /* the fd, not a timer, woke us */
	check_cancelled(s, MAILCONN_STAGE_IMAP_CONNECT, "cancel from a thread");
	CHECK_INT(c.wrong_session, 0);
	CHECK_INT(config_callback_calls, 0);
	mailconn_session_free(s);
	close(listener);
}

/* (c): cancel from inside progress(1, 0) while the server stays silent:
 * the step loop must end long before the stage timeout. */
static void
test_cancel_from_callback_silent(void)
{
	int port;
	int listener = silent_server(&port);
	static struct ctx c;
	memset(&c, 0, sizeof c);
	c.cancel_at_start_of = MAILCONN_STAGE_IMAP_CONNECT;
	c.cancel_rc = (mailconn_error)-1;
	mailconn_config *cfg = silent_config(port);
	mailconn_session *s = new_session(cfg, &c);
	mailconn_config_free(cfg);
	if (!s) {
		close(listener);
		return;
	}
	long long t0 = now_ms();
	int steps = 0;
	while (mailconn_session_step(s) == MAILCONN_PENDING && ++steps < 100) {
		unsigned ev = mailconn_session_events(s);
		struct pollfd pfd = {
			.fd = mailconn_session_fd(s),
			.events = (short)((ev & MAILCONN_WAIT_READ ? POLLIN : 0) |
			                  (ev & MAILCONN_WAIT_WRITE ? POLLOUT : 0)),
		};
		poll(&pfd, 1, mailconn_session_timeout_ms(s));
	}
	long long elapsed = now_ms() - t0;
	printf("cancel from progress(1,0), silent server: done after %lld ms, "
	       "%d steps\n", elapsed, steps);
	CHECK_INT(c.cancel_rc, MAILCONN_OK);
	CHECK(steps < 100);
	CHECK(elapsed < PROMPT_MS);
	check_cancelled(s, MAILCONN_STAGE_IMAP_CONNECT, "cancel from a callback");
	CHECK_INT(c.wrong_session, 0);
	mailconn_session_free(s);
	close(listener);
}

/* (c): cancel from inside progress(3, 0) against the real servers: stages 1
 * and 2 passed, 3 was running, nothing of 4 and 5 happens. */
static void
test_cancel_from_callback_real(void)
{
	static struct ctx c;
	memset(&c, 0, sizeof c);
	c.cancel_at_start_of = MAILCONN_STAGE_SMTP_CONNECT;
	c.cancel_rc = (mailconn_error)-1;
	config_callback_calls = 0;
	mailconn_config *cfg = real_config(env("MAILCONN_TEST_PASSWORD"));
	mailconn_session *s = new_session(cfg, &c);
	mailconn_config_free(cfg);
	if (!s)
		return;
	long long elapsed = drive(s, 10000);
	printf("cancel from progress(3,0), real servers: done after %lld ms\n",
	       elapsed);
	CHECK_INT(c.cancel_rc, MAILCONN_OK);
	check_cancelled(s, MAILCONN_STAGE_SMTP_CONNECT, "cancel in stage 3");
	int later = 0, started3 = 0;
	for (int i = 0; i < c.n; i++) {
		if (c.ev[i].stage > MAILCONN_STAGE_SMTP_CONNECT)
			later++;
		if (c.ev[i].stage == 3 && c.ev[i].kind == EV_START)
			started3++;
	}
	CHECK_INT(started3, 1);
	CHECK_INT(later, 0);                /* no callback of stage 4 or 5 */
	CHECK_INT(c.wrong_session, 0);
	CHECK_INT(config_callback_calls, 0);
	mailconn_session_free(s);
}

int
main(void)
{
	/* Line-buffered: what ran before a crash still shows in the log. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_null_handles();
	test_getters_and_order_all_pass();
	test_getters_and_order_overlap();
	test_getters_and_order_login_fails();
	test_cancel_from_thread();
	test_cancel_from_callback_silent();
	test_cancel_from_callback_real();
	return check_finish();
}
