/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * poll-many: check several mailboxes at once from one thread with a plain
 * poll() loop, as a service that watches many accounts would.
 */
#define _POSIX_C_SOURCE 200809L         /* clock_gettime() */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mailconn.h>

#define EXIT_MISMATCH 1
#define EXIT_USAGE 2
#define MAX_ACCOUNTS 64

/*
 * One account to check. The session carries all of its own state; the
 * loop only has to remember when the session asked to be stepped again.
 */
struct account {
	int number;                     /* 1-based, as given on the command line */
	const char *address;
	const char *expected;           /* outcome name such as "OK" */
	mailconn_session *session;      /* NULL once reported */
	int64_t due_ms;                 /* monotonic time of the next step */
};

static void
usage(FILE *out)
{
	fputs("usage: poll-many [--OPTION VALUE]... "
	      "ADDRESS=PASSWORD_VAR[:EXPECTED]...\n"
	      "  --OPTION is any libmailconn option name with '-' for '_', e.g.\n"
	      "  --imap-host, --imap-port, --imap-security tls|starttls|plain|auto,\n"
	      "  --smtp-host, --smtp-port, --smtp-security, --bcc, --ca-file.\n"
	      "  Each account's password is read from the environment variable\n"
	      "  PASSWORD_VAR, never from argv. EXPECTED is the outcome name the\n"
	      "  check should end with (default OK); the exit status is 0 when\n"
	      "  every account matched, 1 when one did not, 2 on a usage error.\n",
	      out);
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
parse_security(const char *value, int64_t *out)
{
	static const char *const names[] = { "auto", "tls", "starttls", "plain" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(value, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/*
 * "--imap-port 993" -> mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT,
 * 993). Looking names up in the library keeps this parser in step with
 * every option the library knows. Returns 0, or prints why and returns -1.
 */
static int
apply_option(mailconn_config *cfg, const char *flag, const char *value)
{
	char name[64];
	size_t len = strlen(flag);
	if (len >= sizeof name) {
		fprintf(stderr, "poll-many: %s: unknown option\n", flag);
		return -1;
	}
	for (size_t i = 0; i <= len; i++)
		name[i] = flag[i] == '-' ? '_' : flag[i];

	int id = mailconn_option_from_name(name);
	if (id < 0) {
		fprintf(stderr, "poll-many: --%s: unknown option\n", flag);
		return -1;
	}
	if (id == MAILCONN_OPT_PASSWORD || id == MAILCONN_OPT_SMTP_PASSWORD ||
	    id == MAILCONN_OPT_OAUTH2_TOKEN) {
		/* Anyone on the machine can read another process's argv. */
		fprintf(stderr, "poll-many: --%s: secrets come from the "
		        "environment, see ADDRESS=PASSWORD_VAR\n", flag);
		return -1;
	}

	mailconn_error rc;
	if (id < 100) {
		rc = mailconn_config_set_string(cfg, (mailconn_option)id, value);
	} else {
		int64_t n;
		char *end;
		if (id == MAILCONN_OPT_IMAP_SECURITY ||
		    id == MAILCONN_OPT_SMTP_SECURITY) {
			if (parse_security(value, &n) != 0) {
				fprintf(stderr, "poll-many: --%s: expected auto, "
				        "tls, starttls or plain\n", flag);
				return -1;
			}
		} else {
			errno = 0;
			n = strtoll(value, &end, 10);
			if (errno != 0 || end == value || *end != '\0') {
				fprintf(stderr, "poll-many: --%s: not a number: "
				        "%s\n", flag, value);
				return -1;
			}
		}
		rc = mailconn_config_set_int(cfg, (mailconn_option)id, n);
	}
	if (rc != MAILCONN_OK) {
		/* The library's message names the option and the problem. */
		fprintf(stderr, "poll-many: %s\n", mailconn_config_error(cfg));
		return -1;
	}
	return 0;
}

/*
 * Split "ADDRESS=PASSWORD_VAR[:EXPECTED]" in place, look up the password
 * and start a session for it. The configuration is shared by all accounts:
 * mailconn_session_new() copies it, so changing the address and password
 * for the next account does not affect the sessions already made.
 */
static int
add_account(mailconn_config *cfg, char *spec, struct account *a)
{
	char *eq = strrchr(spec, '=');
	if (!eq || eq == spec || eq[1] == '\0') {
		fprintf(stderr, "poll-many: %s: expected "
		        "ADDRESS=PASSWORD_VAR[:EXPECTED]\n", spec);
		return -1;
	}
	*eq = '\0';
	char *var = eq + 1;
	char *colon = strchr(var, ':');
	a->expected = "OK";
	if (colon) {
		*colon = '\0';
		a->expected = colon + 1;
	}
	a->address = spec;

	const char *password = getenv(var);
	if (!password) {
		fprintf(stderr, "poll-many: %s: %s is not set\n", spec, var);
		return -1;
	}
	if (mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL,
	                               a->address) != MAILCONN_OK ||
	    mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD,
	                               password) != MAILCONN_OK) {
		fprintf(stderr, "poll-many: %s\n", mailconn_config_error(cfg));
		return -1;
	}
	mailconn_error rc = mailconn_session_new(cfg, &a->session);
	if (rc != MAILCONN_OK) {
		/* E.g. MISSING_OPTION when --bcc or a host was not given. */
		char why[256];
		mailconn_config_check(cfg, why, sizeof why);
		fprintf(stderr, "poll-many: %s: %s\n", mailconn_error_name(rc), why);
		return -1;
	}
	/* Nothing has been sent yet: the first step is due right away. */
	a->due_ms = 0;
	return 0;
}

/* One line per account, printed as soon as its check ends. */
static int
report(const struct account *a)
{
	const mailconn_session *s = a->session;
	mailconn_error outcome = mailconn_session_outcome(s);
	const char *name = mailconn_error_name(outcome);

	printf("[%d] %s: %s", a->number, a->address, name);
	if (outcome != MAILCONN_OK)
		printf(" at %s (%s); hint: %s",
		       mailconn_stage_name(mailconn_session_stage(s)),
		       mailconn_cause_name(mailconn_session_cause(s)),
		       mailconn_session_hint(s));
	int matched = strcmp(name, a->expected) == 0;
	if (!matched)
		printf(" [expected %s]", a->expected);
	putchar('\n');
	fflush(stdout);
	return matched;
}

/*
 * Step a session, then remember when it wants the next step. A session
 * that is done is reported and freed at once, which also closes its
 * connection; nothing else needs to know about it.
 */
static void
step(struct account *a, int64_t now, int *pending, int *mismatches)
{
	if (mailconn_session_step(a->session) == MAILCONN_DONE) {
		if (!report(a))
			(*mismatches)++;
		mailconn_session_free(a->session);
		a->session = NULL;
		(*pending)--;
		return;
	}
	int timeout = mailconn_session_timeout_ms(a->session);
	/* -1 ("no timer") only happens once done; guard anyway. */
	a->due_ms = timeout < 0 ? INT64_MAX : now + timeout;
}

int
main(int argc, char **argv)
{
	static struct account accounts[MAX_ACCOUNTS];
	static struct pollfd fds[MAX_ACCOUNTS];
	int n = 0, status = EXIT_USAGE;

	mailconn_config *cfg = mailconn_config_new();
	if (!cfg) {
		fputs("poll-many: out of memory\n", stderr);
		return EXIT_USAGE;
	}

	/* Options first, so that they are set before any session copies the
	 * configuration; then one account per remaining argument. */
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			status = 0;
			goto out;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "poll-many: %s: missing value\n", argv[i]);
			goto out;
		}
		if (apply_option(cfg, argv[i] + 2, argv[i + 1]) != 0)
			goto out;
	}
	if (i == argc) {
		usage(stderr);
		goto out;
	}
	for (; i < argc; i++) {
		if (n == MAX_ACCOUNTS) {
			fprintf(stderr, "poll-many: at most %d accounts\n",
			        MAX_ACCOUNTS);
			goto out;
		}
		accounts[n].number = n + 1;
		if (add_account(cfg, argv[i], &accounts[n]) != 0)
			goto out;
		n++;
	}
	/* The sessions hold their own copies, password included; this wipes
	 * ours now rather than at exit. */
	mailconn_config_free(cfg);
	cfg = NULL;

	int pending = n, mismatches = 0;
	while (pending > 0) {
		/*
		 * Rebuild the poll set on every round: a session may switch to
		 * another fd (IMAP -> SMTP) or to other events (reading ->
		 * writing) after any step. Finished accounts get fd -1, which
		 * poll() ignores.
		 */
		int64_t now = now_ms(), wait = INT64_MAX;
		for (int k = 0; k < n; k++) {
			struct account *a = &accounts[k];
			fds[k].fd = -1;
			fds[k].events = 0;
			fds[k].revents = 0;
			if (!a->session)
				continue;
			unsigned ev = mailconn_session_events(a->session);
			fds[k].fd = mailconn_session_fd(a->session);
			if (ev & MAILCONN_WAIT_READ)
				fds[k].events |= POLLIN;
			if (ev & MAILCONN_WAIT_WRITE)
				fds[k].events |= POLLOUT;
			int64_t left = a->due_ms > now ? a->due_ms - now : 0;
			if (left < wait)
				wait = left;
		}

		int timeout = wait > INT_MAX ? INT_MAX : (int)wait;
		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			perror("poll-many: poll");
			status = EXIT_USAGE;
			goto out;
		}

		/* Step the sessions whose fd is ready (POLLERR and POLLHUP
		 * count: the step finds out what happened) or whose timer ran
		 * out. The others are left alone until their turn. */
		now = now_ms();
		for (int k = 0; k < n; k++) {
			struct account *a = &accounts[k];
			if (a->session && (fds[k].revents != 0 || now >= a->due_ms))
				step(a, now, &pending, &mismatches);
		}
	}
	status = mismatches == 0 ? 0 : EXIT_MISMATCH;

out:
	/* Freeing a session that never finished is fine: it closes the
	 * connection and wipes the secrets. */
	for (int k = 0; k < n; k++)
		mailconn_session_free(accounts[k].session);
	mailconn_config_free(cfg);
	return status;
}
