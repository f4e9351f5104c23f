/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One config, many threads (MAILCONN_1.1): mailconn_session_new() no
 * longer writes into the config, so threads may create (and free)
 * sessions from one shared config at the same time, including the first
 * sessions, which build the config's shared trust (a CA file is set);
 * mailconn_config_check() is const and thread-safe and says what
 * mailconn_session_new() would; mailconn_session_cancel() may be called
 * from other threads while the owner steps the session.
 *
 * Run under ThreadSanitizer by tools/sanitize.sh (build-tsan): a data race
 * anywhere in those paths fails the run. Without TSan the same program
 * still checks the single-threaded parts of the contract and the results
 * of every concurrent call.
 *
 * argv[1]: a PEM file with one CA certificate (threads-ca.pem).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mailconn.h>

#include "../unit/check.h"
#include "silent-server.h"

#define THREADS 8
#define ROUNDS 100

static const char *ca_file;

static mailconn_config *
full_config(void)
{
	mailconn_config *cfg = mailconn_config_new();
	CHECK(cfg != NULL);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL, "ann@example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD, "secret-pw"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_BCC, "bcc@example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, "imap.example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_HOST, "smtp.example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_CA_FILE, ca_file), 0);
	return cfg;
}

/* ---- single-threaded: what config_check says, and that new() is const -- */

static void
check_agrees(mailconn_config *cfg, mailconn_error want, const char *needle,
             const char *what)
{
	char reason[512];
	memset(reason, 'x', sizeof reason);
	mailconn_error got = mailconn_config_check(cfg, reason, sizeof reason);
	printf("%s: config_check %s \"%s\"\n", what, mailconn_error_name(got),
	       memchr(reason, '\0', sizeof reason) ? reason : "(unterminated)");
	CHECK_INT(got, want);
	CHECK(memchr(reason, '\0', sizeof reason) != NULL);
	if (needle)
		CHECK_CONTAINS(reason, needle);
	else if (memchr(reason, '\0', sizeof reason))
		CHECK_STR(reason, "");

	/* A reason buffer too small is cut, still terminated. */
	char tiny[4];
	memset(tiny, 'x', sizeof tiny);
	CHECK_INT(mailconn_config_check(cfg, tiny, sizeof tiny), want);
	CHECK(memchr(tiny, '\0', sizeof tiny) != NULL);

	/* mailconn_session_new() says the same, and leaves the config alone:
	 * its error text is still that of the last setter (a success). */
	CHECK_STR(mailconn_config_error(cfg), "");
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), want);
	CHECK((s != NULL) == (want == MAILCONN_OK));
	mailconn_session_free(s);
	CHECK_STR(mailconn_config_error(cfg), "");
	/* ...and config_check after it still agrees. */
	CHECK_INT(mailconn_config_check(cfg, reason, sizeof reason), want);
}

static void
test_config_check(void)
{
	mailconn_config *cfg = full_config();
	check_agrees(cfg, MAILCONN_OK, NULL, "complete");
	CHECK_INT(mailconn_config_check(NULL, NULL, 0), MAILCONN_E_INVALID_ARGUMENT);
	mailconn_config_free(cfg);

	static const struct {
		mailconn_option option;
		const char *name;
	} required[] = {
		{ MAILCONN_OPT_EMAIL, "email" },
		{ MAILCONN_OPT_IMAP_HOST, "imap_host" },
		{ MAILCONN_OPT_SMTP_HOST, "smtp_host" },
		{ MAILCONN_OPT_BCC, "bcc" },
		{ MAILCONN_OPT_PASSWORD, "password" },
	};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		cfg = full_config();
		CHECK_INT(mailconn_config_set_string(cfg, required[i].option, NULL), 0);
		check_agrees(cfg, MAILCONN_E_MISSING_OPTION, required[i].name,
		             required[i].name);
		mailconn_config_free(cfg);
	}

	/* A readable CA file without a certificate: accepted by the setter,
	 * refused when the trust is built. */
	char empty[] = "/tmp/mailconn-empty-ca-XXXXXX";
	int fd = mkstemp(empty);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, "not a certificate\n", 18) == 18);
		close(fd);
		cfg = full_config();
		CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_CA_FILE, empty), 0);
		check_agrees(cfg, MAILCONN_E_INVALID_CONFIG, "CA file", "empty CA file");
		mailconn_config_free(cfg);
		unlink(empty);
	}
}

/* ---- many threads, one config ------------------------------------------- */

/* The shared configs; only read (through const pointers) by the threads. */
static const mailconn_config *shared_full, *shared_missing;

struct worker {
	pthread_t thread;
	int index;
	int failures;                   /* own counters: no race in the test */
	char first[256];
};

static void
fail(struct worker *w, const char *what, int got)
{
	if (w->failures++ == 0)
		snprintf(w->first, sizeof w->first, "thread %d: %s (got %d)",
		         w->index, what, got);
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	char reason[256];
	for (int round = 0; round < ROUNDS; round++) {
		mailconn_session *s = NULL;
		mailconn_error rc = mailconn_session_new(shared_full, &s);
		if (rc != MAILCONN_OK || !s)
			fail(w, "session_new(full) != OK", (int)rc);
		/* Odd threads keep theirs over a config_check, so sessions are
		 * created and freed in every order. */
		if (w->index % 2 == 0)
			mailconn_session_free(s);
		rc = mailconn_config_check(shared_full, reason, sizeof reason);
		if (rc != MAILCONN_OK)
			fail(w, "config_check(full) != OK", (int)rc);
		if (w->index % 2 == 1)
			mailconn_session_free(s);

		s = NULL;
		rc = mailconn_session_new(shared_missing, &s);
		if (rc != MAILCONN_E_MISSING_OPTION || s)
			fail(w, "session_new(missing) != E_MISSING_OPTION", (int)rc);
		mailconn_session_free(s);
		rc = mailconn_config_check(shared_missing, reason, sizeof reason);
		if (rc != MAILCONN_E_MISSING_OPTION)
			fail(w, "config_check(missing) != E_MISSING_OPTION", (int)rc);
		else if (!strstr(reason, "bcc"))
			fail(w, "config_check(missing): reason lacks bcc", 0);
	}
	return NULL;
}

static void
test_threads(void)
{
	/* Fresh configs: no session made from them yet, so the threads race
	 * for the first build of the shared trust. */
	mailconn_config *full = full_config();
	mailconn_config *missing = full_config();
	CHECK_INT(mailconn_config_set_string(missing, MAILCONN_OPT_BCC, NULL), 0);
	shared_full = full;
	shared_missing = missing;

	static struct worker w[THREADS];
	int started = 0;
	for (int i = 0; i < THREADS; i++) {
		w[i].index = i;
		int rc = pthread_create(&w[i].thread, NULL, work, &w[i]);
		CHECK_INT(rc, 0);
		if (rc != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		CHECK_INT(w[i].failures, 0);
		if (w[i].failures)
			fprintf(stderr, "%s; %d failures\n", w[i].first, w[i].failures);
	}
	printf("%d threads x %d rounds from one config\n", started, ROUNDS);
	/* The configs are as they were. */
	CHECK_STR(mailconn_config_error(full), "");
	CHECK_STR(mailconn_config_error(missing), "");
	mailconn_config_free(full);
	mailconn_config_free(missing);
}

/* ---- cancel from other threads while this one steps --------------------- */

static void *
cancel_it(void *arg)
{
	return (void *)(intptr_t)mailconn_session_cancel(arg);
}

static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Two threads cancel each session while this one keeps stepping it (the
 * cancels land before, during or between steps): every session ends
 * cancelled, long before its stage timeout, and TSan sees no race. */
static void
test_cancel_while_stepping(void)
{
	enum { SESSIONS = 20, CANCELLERS = 2 };
	int port;
	int listener = silent_server(&port);
	mailconn_config *cfg = full_config();
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, "127.0.0.1"), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, port), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_SECURITY,
	                                  MAILCONN_SECURITY_STARTTLS), 0);
	/* 10 s: what a cancel that does not wake the fd would wait for. */
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, 10000), 0);
	int cancelled = 0;
	long long longest = 0;
	for (int i = 0; i < SESSIONS; i++) {
		mailconn_session *s = NULL;
		CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
		if (!s)
			break;
		CHECK_INT(mailconn_session_step(s), MAILCONN_PENDING);
		long long t0 = now_ms();
		pthread_t th[CANCELLERS];
		int started = 0;
		for (int k = 0; k < CANCELLERS; k++)
			if (pthread_create(&th[k], NULL, cancel_it, s) == 0)
				started++;
		CHECK_INT(started, CANCELLERS);
		int steps = 0;
		while (mailconn_session_step(s) == MAILCONN_PENDING && ++steps < 1000) {
			struct pollfd pfd = { .fd = mailconn_session_fd(s), .events = POLLIN };
			poll(&pfd, 1, mailconn_session_timeout_ms(s));
		}
		for (int k = 0; k < started; k++) {
			void *rc;
			pthread_join(th[k], &rc);
			CHECK_INT((intptr_t)rc, MAILCONN_OK);
		}
		if (now_ms() - t0 > longest)
			longest = now_ms() - t0;
		CHECK(steps < 1000);
		CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
		CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_CANCELLED);
		if (mailconn_session_outcome(s) == MAILCONN_E_CANCELLED)
			cancelled++;
		/* A cancel after the end changes nothing. */
		CHECK_INT(mailconn_session_cancel(s), MAILCONN_OK);
		CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
		mailconn_session_free(s);
		if (longest >= 5000)
			break;          /* failed already; do not wait out the rest */
	}
	printf("cancel while stepping: %d/%d cancelled, slowest end %lld ms\n",
	       cancelled, SESSIONS, longest);
	CHECK(longest < 5000);

	/* The blocking mailconn_session_run() is woken the same way. */
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	if (s) {
		CHECK_INT(mailconn_session_step(s), MAILCONN_PENDING);
		pthread_t th;
		int started = pthread_create(&th, NULL, cancel_it, s) == 0;
		CHECK(started);
		long long t0 = now_ms();
		mailconn_error rc = mailconn_session_run(s);
		long long took = now_ms() - t0;
		if (started)
			pthread_join(th, NULL);
		printf("run() cancelled from a thread: %s after %lld ms\n",
		       mailconn_error_name(rc), took);
		CHECK_INT(rc, MAILCONN_E_CANCELLED);
		CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_CANCELLED);
		CHECK_INT(mailconn_session_stage_passed(s, MAILCONN_STAGE_IMAP_CONNECT), -1);
		CHECK(took < 5000);
		mailconn_session_free(s);
	}
	mailconn_config_free(cfg);
	close(listener);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CA.pem\n", argv[0]);
		return 2;
	}
	ca_file = argv[1];
	test_config_check();
	test_threads();
	test_cancel_while_stepping();
	return check_finish();
}
