/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event-loop contract, against a local server that accepts TCP
 * connections and never says a word: mailconn_session_step() returns at
 * once, the session asks to be woken only when there is reason to, the
 * stage timeout fires as configured, the reported fd stays valid until the
 * next step, and spurious steps change nothing.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mailconn.h>

#include "../unit/check.h"
#include "drive.h"
#include "silent-server.h"

static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static mailconn_config *
config_for(int port, long timeout_ms)
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
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, timeout_ms), 0);
	return cfg;
}

static void
test_silent_server(void)
{
	int port;
	int listener = silent_server(&port);
	const long timeout = 300;
	mailconn_config *cfg = config_for(port, timeout);
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	mailconn_config_free(cfg);

	long long start = now_ms(), longest_step = 0;
	int steps = 0;
	mailconn_state st;
	do {
		long long t0 = now_ms();
		st = mailconn_session_step(s);
		long long took = now_ms() - t0;
		if (took > longest_step)
			longest_step = took;
		steps++;
		if (st == MAILCONN_PENDING) {
			int fd = mailconn_session_fd(s);
			CHECK(fd >= 0);
			/* Still open: the caller may keep it registered until the
			 * next step. */
			CHECK(fcntl(fd, F_GETFD) != -1);
			CHECK(mailconn_session_events(s) & MAILCONN_WAIT_READ);
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, mailconn_session_timeout_ms(s));
		}
	} while (st == MAILCONN_PENDING && steps < 1000);
	long long elapsed = now_ms() - start;

	printf("silent server: %d steps, longest %lld ms, finished after %lld ms\n",
	       steps, longest_step, elapsed);
	CHECK_INT(st, MAILCONN_DONE);
	CHECK_STR(mailconn_error_name(mailconn_session_outcome(s)), "IMAP_SETTINGS");
	CHECK_STR(mailconn_cause_name(mailconn_session_cause(s)), "GREETING_TIMEOUT");
	CHECK(strstr(mailconn_session_detail(s), "the server sent nothing") != NULL);
	CHECK_INT(mailconn_session_stage(s), MAILCONN_STAGE_IMAP_CONNECT);
	/* The timeout fired, not earlier than set... */
	CHECK(elapsed >= timeout);
	/* ...and the session slept in between instead of spinning. */
	CHECK(steps < 20);
	/* A step never waited on the network: far below the timeout. */
	CHECK(longest_step < timeout / 2);
	CHECK(mailconn_session_timeout_ms(s) == -1);
	CHECK(mailconn_session_fd(s) == -1);
	CHECK(mailconn_session_step(s) == MAILCONN_DONE);
	mailconn_session_free(s);
	close(listener);
}

static void
test_spurious_steps(void)
{
	int port;
	int listener = silent_server(&port);
	mailconn_config *cfg = config_for(port, 60000);
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	mailconn_config_free(cfg);
	/* Waking a session with nothing to do, many times, is harmless. */
	for (int i = 0; i < 200; i++)
		CHECK_INT(mailconn_session_step(s), MAILCONN_PENDING);
	/* Not finished is never "verified". */
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_PENDING);
	CHECK(mailconn_session_timeout_ms(s) > 1000);
	/* Freeing mid-stage closes everything; valgrind runs check the rest. */
	mailconn_session_free(s);
	close(listener);
}

static void
test_many_sessions_one_thread(void)
{
	enum { N = 50 };
	int port;
	int listener = silent_server(&port);
	mailconn_session *sessions[N];
	for (int i = 0; i < N; i++) {
		mailconn_config *cfg = config_for(port, 200);
		CHECK_INT(mailconn_session_new(cfg, &sessions[i]), MAILCONN_OK);
		mailconn_config_free(cfg);
	}
	int pending = drive_all(sessions, N, 1000);
	CHECK_INT(pending, 0);
	for (int i = 0; i < N; i++) {
		CHECK_STR(mailconn_cause_name(mailconn_session_cause(sessions[i])), "GREETING_TIMEOUT");
		mailconn_session_free(sessions[i]);
	}
	close(listener);
}

static void
test_refused_is_immediate(void)
{
	int port;
	int fd = silent_server(&port);
	close(fd);              /* nothing listens on the port now */
	mailconn_config *cfg = config_for(port, 60000);
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	mailconn_config_free(cfg);
	CHECK_STR(mailconn_error_name(mailconn_session_run(s)), "IMAP_SETTINGS");
	CHECK_STR(mailconn_cause_name(mailconn_session_cause(s)), "CONNECT_REFUSED");
	CHECK_CONTAINS(mailconn_session_detail(s), "refused");
	mailconn_session_free(s);
}

/* With the slow-resolver shim preloaded, a lookup takes a second; the
 * session must keep returning at once and wake when the answer is in. */
static void
test_slow_dns(void)
{
	if (!getenv("MAILCONN_SLOW_RESOLVER")) {
		printf("slow dns: shim not preloaded, case not run\n");
		return;
	}
	mailconn_config *cfg = config_for(143, 60000);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST,
	                                     "imap.slow.test"), 0);
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	mailconn_config_free(cfg);
	long long start = now_ms(), longest = 0;
	int steps = 0;
	mailconn_state st;
	do {
		long long t0 = now_ms();
		st = mailconn_session_step(s);
		if (now_ms() - t0 > longest)
			longest = now_ms() - t0;
		steps++;
		if (st == MAILCONN_PENDING) {
			struct pollfd pfd = { .fd = mailconn_session_fd(s), .events = POLLIN };
			poll(&pfd, 1, mailconn_session_timeout_ms(s));
		}
	} while (st == MAILCONN_PENDING && steps < 1000);
	long long elapsed = now_ms() - start;
	printf("slow dns: %d steps, longest %lld ms, answer after %lld ms\n",
	       steps, longest, elapsed);
	CHECK_STR(mailconn_cause_name(mailconn_session_cause(s)), "DNS_NOT_FOUND");
	CHECK(elapsed >= 1000);        /* the shim really was in the way */
	CHECK(longest < 200);          /* but no step waited for it */
	CHECK(steps < 20);             /* and the loop slept, woken by the pipe */
	mailconn_session_free(s);
}

int
main(void)
{
	test_silent_server();
	test_spurious_steps();
	test_many_sessions_one_thread();
	test_refused_is_immediate();
	test_slow_dns();
	return check_finish();
}
