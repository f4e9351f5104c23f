/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The five stages against a real Dovecot and Postfix, started on loopback
 * by tests/servers/mailservers.py, which passes their ports, users and CA
 * in MAILCONN_TEST_* variables. Each case asserts the outcome, the cause
 * and the stage, and that the password never shows up anywhere.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mailconn.h>

#include "../unit/check.h"
#include "drive.h"

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

static long
env_port(const char *name)
{
	return strtol(env(name), NULL, 10);
}

/* Everything a case may change from the working default. */
struct setup {
	const char *email, *username, *password, *smtp_password, *bcc;
	const char *imap_host, *imap_address, *smtp_host, *smtp_address;
	long imap_port, smtp_port;
	int imap_security, smtp_security;
	int allow_untrusted;
	int overlap;
	long stage_timeout_ms;
	const char *ca_file;
};

static struct setup
default_setup(void)
{
	struct setup s = {
		.email = env("MAILCONN_TEST_USER"),
		.password = env("MAILCONN_TEST_PASSWORD"),
		.bcc = env("MAILCONN_TEST_BCC"),
		.imap_host = env("MAILCONN_TEST_HOSTNAME"),
		.smtp_host = env("MAILCONN_TEST_HOSTNAME"),
		.imap_port = env_port("MAILCONN_TEST_IMAP_TLS_PORT"),
		.smtp_port = env_port("MAILCONN_TEST_SMTP_STARTTLS_PORT"),
		.imap_security = MAILCONN_SECURITY_TLS,
		.smtp_security = MAILCONN_SECURITY_STARTTLS,
		.stage_timeout_ms = 20000,
		.ca_file = env("MAILCONN_TEST_CA_FILE"),
	};
	return s;
}

/* What a run leaves behind for the assertions. */
struct result {
	mailconn_error outcome;
	mailconn_cause cause;
	mailconn_stage stage;
	char reply[4096], detail[1024], hint[2048];
	char message_id[512];
	char transcript[65536];
	size_t transcript_len;
	int progress_events;
	int passed[6];
	char facts[6][8][256];
};

static void
on_transcript(void *userdata, mailconn_stage stage, mailconn_protocol protocol,
              mailconn_direction dir, const char *line)
{
	struct result *r = userdata;
	(void)protocol;
	int n = snprintf(r->transcript + r->transcript_len,
	                 sizeof r->transcript - r->transcript_len, "%d%c %s\n",
	                 (int)stage, dir == MAILCONN_DIR_SENT ? '>' : '<', line);
	if (n > 0 && r->transcript_len + (size_t)n < sizeof r->transcript)
		r->transcript_len += (size_t)n;
}

static void
on_progress(void *userdata, mailconn_stage stage, int finished,
            mailconn_error outcome)
{
	struct result *r = userdata;
	(void)stage;
	(void)finished;
	(void)outcome;
	r->progress_events++;
}

static mailconn_config *
make_config(const struct setup *s, struct result *r)
{
	mailconn_config *cfg = mailconn_config_new();
	CHECK(cfg != NULL);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL, s->email), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD, s->password), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_BCC, s->bcc), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, s->imap_host), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_HOST, s->smtp_host), MAILCONN_OK);
	/* The checks below read English advice, whatever the tester's locale. */
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_LANGUAGE, "en"), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, s->imap_port), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_SMTP_PORT, s->smtp_port), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_SECURITY, s->imap_security), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_SMTP_SECURITY, s->smtp_security), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, s->stage_timeout_ms), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_ALLOW_UNTRUSTED_CERT, s->allow_untrusted), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_OVERLAP, s->overlap), MAILCONN_OK);
	if (s->ca_file)
		CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_CA_FILE, s->ca_file), MAILCONN_OK);
	if (s->username)
		CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_USERNAME, s->username), MAILCONN_OK);
	if (s->smtp_password)
		CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_PASSWORD, s->smtp_password), MAILCONN_OK);
	if (s->imap_address)
		CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_ADDRESS, s->imap_address), MAILCONN_OK);
	if (s->smtp_address)
		CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_ADDRESS, s->smtp_address), MAILCONN_OK);
	mailconn_config_set_transcript(cfg, on_transcript, r);
	mailconn_config_set_progress(cfg, on_progress, r);
	return cfg;
}

static void
collect(const mailconn_session *s, struct result *r)
{
	r->outcome = mailconn_session_outcome(s);
	r->cause = mailconn_session_cause(s);
	r->stage = mailconn_session_stage(s);
	snprintf(r->reply, sizeof r->reply, "%s", mailconn_session_server_reply(s));
	snprintf(r->detail, sizeof r->detail, "%s", mailconn_session_detail(s));
	snprintf(r->hint, sizeof r->hint, "%s", mailconn_session_hint(s));
	snprintf(r->message_id, sizeof r->message_id, "%s",
	         mailconn_session_fact(s, MAILCONN_STAGE_TEST_SEND, MAILCONN_FACT_MESSAGE_ID));
	for (int i = 1; i <= 5; i++) {
		r->passed[i] = mailconn_session_stage_passed(s, (mailconn_stage)i);
		for (int f = 0; f < 8; f++)
			snprintf(r->facts[i][f], sizeof r->facts[i][f], "%s",
			         mailconn_session_fact(s, (mailconn_stage)i, (mailconn_fact)f));
	}
}

/* The password must not appear in anything the library hands out. */
static void
check_no_secret(const struct result *r, const char *secret)
{
	CHECK(strstr(r->transcript, secret) == NULL);
	CHECK(strstr(r->reply, secret) == NULL);
	CHECK(strstr(r->detail, secret) == NULL);
	CHECK(strstr(r->hint, secret) == NULL);
}

static void
run_once(const char *name, const struct setup *s, struct result *r)
{
	memset(r, 0, sizeof *r);
	mailconn_config *cfg = make_config(s, r);
	mailconn_session *session = NULL;
	CHECK_INT(mailconn_session_new(cfg, &session), MAILCONN_OK);
	mailconn_config_free(cfg);
	if (!session)
		return;
	mailconn_session_run(session);
	collect(session, r);
	mailconn_session_free(session);
	check_no_secret(r, s->password);
	if (s->smtp_password)
		check_no_secret(r, s->smtp_password);
	printf("%-28s %s%s/%s stage %d  %s\n", name, s->overlap ? "[overlap] " : "",
	       mailconn_error_name(r->outcome), mailconn_cause_name(r->cause),
	       (int)r->stage, r->detail);
}

/* Every case runs sequentially and again in overlapped mode: both must
 * report the same outcome, cause and stage (the earliest failing stage
 * wins, whichever connection finished first). */
static void
run_case(const char *name, const struct setup *s, struct result *r)
{
	static struct result overlapped;
	struct setup o = *s;
	o.overlap = 1;
	run_once(name, &o, &overlapped);
	run_once(name, s, r);
	CHECK_STR(mailconn_error_name(overlapped.outcome), mailconn_error_name(r->outcome));
	CHECK_STR(mailconn_cause_name(overlapped.cause), mailconn_cause_name(r->cause));
	CHECK_INT(overlapped.stage, r->stage);
	for (int i = 1; i <= 2; i++)
		CHECK_INT(overlapped.passed[i], r->passed[i]);
}

/* Wait (bounded) until a file holding `needle` lands in Maildir/new. The
 * wait is on inotify events, not on a clock. */
static int
maildir_has(const char *maildir, const char *needle)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/new", maildir);
	int ino = inotify_init1(IN_CLOEXEC);
	if (ino >= 0)
		inotify_add_watch(ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE);
	int found = 0;
	for (int round = 0; round < 50 && !found; round++) {
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "grep -rlF -- '%s' '%s' >/dev/null 2>&1",
		         needle, dir);
		if (system(cmd) == 0) {
			found = 1;
			break;
		}
		struct pollfd pfd = { .fd = ino, .events = POLLIN };
		if (ino < 0 || poll(&pfd, 1, 10000) <= 0)
			break;
		char events[4096];
		if (read(ino, events, sizeof events) < 0)
			break;
	}
	if (ino >= 0)
		close(ino);
	return found;
}

static void
test_happy_paths(void)
{
	struct result r;
	struct setup s = default_setup();

	run_case("imap-tls smtp-starttls", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "OK");
	CHECK_INT(r.stage, MAILCONN_STAGE_TEST_SEND);
	for (int i = 1; i <= 5; i++)
		CHECK_INT(r.passed[i], 1);
	CHECK_INT(r.progress_events, 10);
	CHECK_CONTAINS(r.facts[1][MAILCONN_FACT_ADDRESS], "127.0.0.1:");
	CHECK_CONTAINS(r.facts[1][MAILCONN_FACT_TLS_VERSION], "TLS1.");
	CHECK_CONTAINS(r.facts[1][MAILCONN_FACT_CAPABILITIES], "IMAP4rev1");
	CHECK(strlen(r.facts[1][MAILCONN_FACT_CERT_SHA256]) == 95);
	CHECK_CONTAINS(r.facts[3][MAILCONN_FACT_TLS_VERSION], "TLS1.");
	CHECK(r.facts[2][MAILCONN_FACT_AUTH_MECHANISM][0] != '\0');
	CHECK(r.facts[4][MAILCONN_FACT_AUTH_MECHANISM][0] != '\0');
	CHECK(r.message_id[0] != '\0');
	CHECK(maildir_has(env("MAILCONN_TEST_MAILDIR_BCC"), r.message_id));
	CHECK_CONTAINS(r.transcript, "[redacted]");
	CHECK_STR(r.hint, "");

	s.imap_port = env_port("MAILCONN_TEST_IMAP_STARTTLS_PORT");
	s.imap_security = MAILCONN_SECURITY_STARTTLS;
	s.smtp_port = env_port("MAILCONN_TEST_SMTP_TLS_PORT");
	s.smtp_security = MAILCONN_SECURITY_TLS;
	run_case("imap-starttls smtp-tls", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "OK");
	CHECK(maildir_has(env("MAILCONN_TEST_MAILDIR_BCC"), r.message_id));

	/* Every awkward character class in a password still logs in. */
	s = default_setup();
	s.email = env("MAILCONN_TEST_AWKWARD_USER");
	s.password = env("MAILCONN_TEST_AWKWARD_PASSWORD");
	run_case("awkward password", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "OK");

	/* A login name that differs from the address. */
	s = default_setup();
	s.email = env("MAILCONN_TEST_CUSTOM_ADDRESS");
	s.username = env("MAILCONN_TEST_CUSTOM_LOGIN");
	s.password = env("MAILCONN_TEST_CUSTOM_PASSWORD");
	run_case("custom username", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "OK");

	/* The caller-resolved address: the name stays for the certificate. */
	s = default_setup();
	s.imap_address = "127.0.0.1";
	s.smtp_address = "127.0.0.1";
	run_case("caller-resolved address", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "OK");
	CHECK_CONTAINS(r.facts[1][MAILCONN_FACT_ADDRESS], "127.0.0.1:");
}

static void
test_credentials(void)
{
	struct result r;
	struct setup s = default_setup();

	s.password = "wrong-password-1";
	run_case("wrong password", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "UNAUTHORIZED");
	CHECK_INT(r.stage, MAILCONN_STAGE_IMAP_LOGIN);
	CHECK_INT(r.passed[1], 1);
	CHECK_INT(r.passed[2], 0);
	CHECK_INT(r.passed[3], -1);
	CHECK(r.reply[0] != '\0');
	CHECK(r.hint[0] != '\0');

	s = default_setup();
	s.smtp_password = "wrong-smtp-password-2";
	run_case("wrong smtp password", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "UNAUTHORIZED");
	CHECK_INT(r.stage, MAILCONN_STAGE_SMTP_LOGIN);
	CHECK_CONTAINS(r.reply, "535");
}

static void
test_network_settings(void)
{
	struct result r;
	struct setup s = default_setup();

	/* A port nobody listens on: bind one, then close it. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sin;
	bind(fd, (struct sockaddr *)&sin, sizeof sin);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	s.imap_port = ntohs(sin.sin_port);
	s.imap_address = "127.0.0.1";
	run_case("closed port", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "IMAP_SETTINGS");
	CHECK_STR(mailconn_cause_name(r.cause), "CONNECT_REFUSED");
	CHECK_INT(r.stage, MAILCONN_STAGE_IMAP_CONNECT);

	s = default_setup();
	s.imap_host = "nonexistent.invalid";
	run_case("name does not resolve", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "IMAP_SETTINGS");
	CHECK_STR(mailconn_cause_name(r.cause), "DNS_NOT_FOUND");

	/* Plaintext IMAP on a port configured for TLS. */
	s = default_setup();
	s.imap_port = env_port("MAILCONN_TEST_IMAP_STARTTLS_PORT");
	run_case("plaintext on tls port", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "IMAP_SETTINGS");
	CHECK_STR(mailconn_cause_name(r.cause), "TLS_MODE_MISMATCH");
	/* The advice names the port actually used and the mode it needs; the
	 * detail (what the port speaks) is its own field, not repeated. */
	char want[64];
	snprintf(want, sizeof want, "port %ld, which needs STARTTLS", s.imap_port);
	CHECK_CONTAINS(r.hint, want);
	CHECK_CONTAINS(r.detail, "plaintext IMAP");
	CHECK(strstr(r.hint, r.detail) == NULL);

	/* The SMTP port typed as the IMAP port. */
	s = default_setup();
	s.imap_port = env_port("MAILCONN_TEST_SMTP_STARTTLS_PORT");
	s.imap_security = MAILCONN_SECURITY_STARTTLS;
	run_case("smtp port as imap", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "IMAP_SETTINGS");
	CHECK_STR(mailconn_cause_name(r.cause), "WRONG_PROTOCOL");

	/* SMTP with the wrong TLS mode. */
	s = default_setup();
	s.smtp_security = MAILCONN_SECURITY_TLS;
	run_case("smtp plaintext on tls", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "SMTP_SETTINGS");
	CHECK_STR(mailconn_cause_name(r.cause), "TLS_MODE_MISMATCH");
	CHECK_INT(r.stage, MAILCONN_STAGE_SMTP_CONNECT);

	/* Both broken: SMTP's instant failure must not hide IMAP's (in
	 * overlapped mode SMTP usually fails first). */
	s = default_setup();
	s.smtp_security = MAILCONN_SECURITY_TLS;
	s.password = "wrong-password-3";
	run_case("both broken", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "UNAUTHORIZED");
	CHECK_INT(r.stage, MAILCONN_STAGE_IMAP_LOGIN);
}

static void
test_certificates(void)
{
	static const struct {
		const char *addr_var;
		const char *cause;
	} faults[] = {
		{ "MAILCONN_TEST_IMAP_SELFSIGNED_ADDR", "CERT_UNTRUSTED" },
		{ "MAILCONN_TEST_IMAP_EXPIRED_ADDR", "CERT_EXPIRED" },
		{ "MAILCONN_TEST_IMAP_WRONGHOST_ADDR", "CERT_HOSTNAME" },
	};
	struct result r;
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		struct setup s = default_setup();
		s.imap_address = env(faults[i].addr_var);
		s.imap_port = env_port("MAILCONN_TEST_IMAP_FAULT_PORT");
		run_case(faults[i].cause, &s, &r);
		CHECK_STR(mailconn_error_name(r.outcome), "UNTRUSTED_CERT");
		CHECK_STR(mailconn_cause_name(r.cause), faults[i].cause);
		CHECK_INT(r.stage, MAILCONN_STAGE_IMAP_CONNECT);
		/* The user can pin or report the certificate by its fingerprint. */
		CHECK(strlen(r.facts[1][MAILCONN_FACT_CERT_SHA256]) == 95);
		/* No password was sent to the untrusted server. */
		CHECK(strstr(r.transcript, "LOGIN") == NULL);

		/* Allowed explicitly, the same server passes every stage. */
		s.allow_untrusted = 1;
		run_case("  allowed", &s, &r);
		CHECK_STR(mailconn_error_name(r.outcome), "OK");
	}

	static const struct {
		const char *port_var;
		const char *cause;
	} smtp_faults[] = {
		{ "MAILCONN_TEST_SMTP_SELFSIGNED_PORT", "CERT_UNTRUSTED" },
		{ "MAILCONN_TEST_SMTP_EXPIRED_PORT", "CERT_EXPIRED" },
		{ "MAILCONN_TEST_SMTP_WRONGHOST_PORT", "CERT_HOSTNAME" },
	};
	for (size_t i = 0; i < sizeof smtp_faults / sizeof smtp_faults[0]; i++) {
		struct setup s = default_setup();
		s.smtp_port = env_port(smtp_faults[i].port_var);
		s.smtp_security = MAILCONN_SECURITY_TLS;
		run_case(smtp_faults[i].cause, &s, &r);
		CHECK_STR(mailconn_error_name(r.outcome), "UNTRUSTED_CERT");
		CHECK_STR(mailconn_cause_name(r.cause), smtp_faults[i].cause);
		CHECK_INT(r.stage, MAILCONN_STAGE_SMTP_CONNECT);
	}

	/* Without the test CA the good certificate is unknown too. */
	struct setup s = default_setup();
	s.ca_file = NULL;
	run_case("no ca file", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "UNTRUSTED_CERT");
	CHECK_STR(mailconn_cause_name(r.cause), "CERT_UNTRUSTED");
}

static void
test_send_refusals(void)
{
	struct result r;
	struct setup s = default_setup();

	s.bcc = "someone@example.org";
	run_case("relay denied", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "TEST_SEND");
	CHECK_INT(r.stage, MAILCONN_STAGE_TEST_SEND);
	CHECK_CONTAINS(r.reply, "Relay access denied");

	s = default_setup();
	s.bcc = "nobody-here@mail.test";
	run_case("unknown recipient", &s, &r);
	CHECK_STR(mailconn_error_name(r.outcome), "TEST_SEND");
	CHECK_INT(r.stage, MAILCONN_STAGE_TEST_SEND);
}

/* Drive a session for `steps` steps (waiting as told in between), then
 * free it wherever it is. Returns 1 when it finished within the budget. */
static int
run_steps_then_free(const struct setup *s, int steps)
{
	struct result r;
	memset(&r, 0, sizeof r);
	mailconn_config *cfg = make_config(s, &r);
	mailconn_session *session = NULL;
	CHECK_INT(mailconn_session_new(cfg, &session), MAILCONN_OK);
	mailconn_config_free(cfg);
	int finished = 0;
	for (int i = 0; i < steps && !finished; i++) {
		finished = mailconn_session_step(session) == MAILCONN_DONE;
		if (!finished) {
			struct pollfd pfd = { .fd = mailconn_session_fd(session),
			                      .events = POLLIN };
			poll(&pfd, 1, mailconn_session_timeout_ms(session));
		}
	}
	mailconn_session_free(session);
	CHECK(strstr(r.transcript, s->password) == NULL);
	return finished;
}

static void
test_free_in_every_stage(void)
{
	/* Freeing must be clean at any point: resolving, connecting, in the
	 * TLS handshake, mid-login, mid-send. Valgrind and ASan runs of this
	 * test turn a leak or a use-after-free into a failure. */
	struct setup s = default_setup();
	int k;
	for (k = 1; k < 200; k++)
		if (run_steps_then_free(&s, k))
			break;
	printf("freed a session after each of 1..%d steps\n", k);
	CHECK(k > 5 && k < 200);
}

static void
test_concurrent_sessions(void)
{
	enum { N = 20 };
	struct setup s = default_setup();
	static struct result results[N];
	mailconn_session *sessions[N];
	for (int i = 0; i < N; i++) {
		memset(&results[i], 0, sizeof results[i]);
		mailconn_config *cfg = make_config(&s, &results[i]);
		CHECK_INT(mailconn_session_new(cfg, &sessions[i]), MAILCONN_OK);
		mailconn_config_free(cfg);
	}
	CHECK_INT(drive_all(sessions, N, 100000), 0);
	int ok = 0;
	for (int i = 0; i < N; i++) {
		if (mailconn_session_outcome(sessions[i]) == MAILCONN_OK)
			ok++;
		else
			printf("concurrent session %d: %s %s\n", i,
			       mailconn_error_name(mailconn_session_outcome(sessions[i])),
			       mailconn_session_detail(sessions[i]));
		mailconn_session_free(sessions[i]);
	}
	printf("%d of %d concurrent sessions in one thread passed\n", ok, N);
	CHECK_INT(ok, N);
}

int
main(void)
{
	test_happy_paths();
	test_credentials();
	test_network_settings();
	test_certificates();
	test_send_refusals();
	test_free_in_every_stage();
	test_concurrent_sessions();
	return check_finish();
}
