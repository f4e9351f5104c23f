/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Setters are the first line of defence: anything that could inject a
 * command, reach the wrong host or make no sense is refused at once, with
 * a reason that names the option, before any connection is made.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "mailconn.h"
#include "private.h"
#include "resolve.h"

static mailconn_config *cfg;

static int
set(mailconn_option o, const char *v)
{
	return mailconn_config_set_string(cfg, o, v);
}

static void
test_strings(void)
{
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "ann@example.com"), MAILCONN_OK);
	CHECK_STR(mailconn_config_error(cfg), "");
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "ann@example.com\r\nRCPT TO:<x@y.z>"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(cfg), "email");
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "no-at-sign"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "@example.com"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "ann@localhost"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "a b@example.com"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "ann@exa mple.com"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_EMAIL, "\xc3\xa5se@b\xc3\xbc" "cher.example"), MAILCONN_OK);
	CHECK_INT(set(MAILCONN_OPT_BCC, "<bcc@example.com>"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_PASSWORD, "pa\nss"), MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(cfg), "password");
	/* The reason never repeats the secret. */
	CHECK(strstr(mailconn_config_error(cfg), "pa") == NULL ||
	      strstr(mailconn_config_error(cfg), "pa\nss") == NULL);
	CHECK_INT(set(MAILCONN_OPT_PASSWORD, "p\"a\\s s{3}%*() \xc3\x86"), MAILCONN_OK);
	CHECK_INT(set(MAILCONN_OPT_PASSWORD, "ctl\x01"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_BODY, "line one\nline two\n"), MAILCONN_OK);
	char long_subject[600];
	memset(long_subject, 'x', sizeof long_subject - 1);
	long_subject[sizeof long_subject - 1] = '\0';
	CHECK_INT(set(MAILCONN_OPT_SUBJECT, long_subject), MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(cfg), "longer than");
	CHECK_INT(set(MAILCONN_OPT_IMAP_ADDRESS, "192.0.2.1"), MAILCONN_OK);
	CHECK_INT(set(MAILCONN_OPT_IMAP_ADDRESS, "2001:db8::1"), MAILCONN_OK);
	CHECK_INT(set(MAILCONN_OPT_IMAP_ADDRESS, "imap.example.com"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_CA_FILE, "/nonexistent/ca.pem"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_CA_PATH, "/etc/hostname"), MAILCONN_E_INVALID_CONFIG);
	/* Clearing an optional value. */
	CHECK_INT(set(MAILCONN_OPT_SUBJECT, NULL), MAILCONN_OK);
	CHECK_INT(set(MAILCONN_OPT_SUBJECT, ""), MAILCONN_OK);
}

/* The address options take a list, as curl's --resolve does, so that
 * several addresses can be tried without DNS; the resolver hands them to
 * the connection in the order given. */
/* The mechanism list is checked when set, so a typo fails at once rather
 * than as "no mechanism" against a server. */
static void
test_mechanisms(void)
{
	CHECK_INT(set(MAILCONN_OPT_MECHANISMS, "SCRAM-SHA-256-PLUS, plain"),
	          MAILCONN_OK);
	CHECK_STR(mailconn__config_str(cfg, MAILCONN_OPT_MECHANISMS),
	          "SCRAM-SHA-256-PLUS, plain");
	CHECK_INT(set(MAILCONN_OPT_MECHANISMS, "CRAM-MD5"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(cfg), "mechanisms");
	CHECK_INT(set(MAILCONN_OPT_MECHANISMS, "PLAIN,PLAIN"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(set(MAILCONN_OPT_MECHANISMS, "PLAIN LOGIN"),
	          MAILCONN_E_INVALID_CONFIG);
	/* A refused value leaves the last good one. */
	CHECK_STR(mailconn__config_str(cfg, MAILCONN_OPT_MECHANISMS),
	          "SCRAM-SHA-256-PLUS, plain");
	CHECK_INT(mailconn_option_from_name("MECHANISMS"), MAILCONN_OPT_MECHANISMS);
	CHECK_INT(set(MAILCONN_OPT_MECHANISMS, NULL), MAILCONN_OK);
	CHECK(mailconn__config_str(cfg, MAILCONN_OPT_MECHANISMS) == NULL);
}

static void
test_address_lists(void)
{
	static const char *const good[] = {
		"192.0.2.1", "[2001:db8::1]", "[::1],127.0.0.1",
		"127.0.0.1,::1,192.0.2.7", "2001:db8::1,[2001:db8::2]",
	};
	static const char *const bad[] = {
		"imap.example.com", "192.0.2.1,", ",192.0.2.1", "192.0.2.1,,::1",
		"[192.0.2.1]", "[::1", "::1]", "192.0.2.1 ,::1", "192.0.2.1;::1",
		"127.0.0.1,imap.example.com", "[]",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		CHECK_INT(set(MAILCONN_OPT_SMTP_ADDRESS, good[i]), MAILCONN_OK);
		if (mailconn_config_error(cfg)[0])
			fprintf(stderr, "  refused: %s\n", good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(set(MAILCONN_OPT_SMTP_ADDRESS, bad[i]), MAILCONN_E_INVALID_CONFIG);
		CHECK_CONTAINS(mailconn_config_error(cfg), "smtp_address");
	}
	/* As many addresses as a connection keeps, and not one more. */
	char list[1024] = "";
	for (int i = 0; i < MAILCONN__MAX_NUMERIC_ADDRESSES; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s192.0.2.%d",
		         i ? "," : "", i + 1);
	CHECK_INT(set(MAILCONN_OPT_SMTP_ADDRESS, list), MAILCONN_OK);
	strcat(list, ",192.0.2.99");
	CHECK_INT(set(MAILCONN_OPT_SMTP_ADDRESS, list), MAILCONN_E_INVALID_CONFIG);

	/* Resolving a list needs no thread and keeps the order. */
	struct mailconn__resolver *r = mailconn__resolve_start("[::1],127.0.0.1,192.0.2.5", 993);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(mailconn__resolve_fd(r), -1);
	struct addrinfo *res = NULL;
	int gai = 0;
	CHECK_INT(mailconn__resolve_poll(r, &res, &gai), 1);
	int families[4] = { 0 }, n = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (n < 4)
			families[n++] = ai->ai_family;
	CHECK_INT(n, 3);
	CHECK_INT(families[0], AF_INET6);
	CHECK_INT(families[1], AF_INET);
	CHECK_INT(families[2], AF_INET);
	mailconn__addresses_free(res);
	mailconn__resolve_cancel(r);
}

static void
test_hosts(void)
{
	static const char *const good[] = {
		"imap.example.com", "IMAP.Example.COM", "imap.example.com.",
		"127.0.0.1", "::1", "[2001:db8::1]", "b\xc3\xbc" "cher.example",
		"xn--bcher-kva.example", "a-b.example", "localhost",
	};
	static const char *const bad[] = {
		"", "ex..ample.com", "exa mple.com", "a\tb.example", "-lead.example",
		"trail-.example", "under_score.example", ".example.com",
		"example.com..", "*.example.com", "[not-an-ip]",
		"xn--zzzzzzz-.example", "a\xc3" ".example",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int rc = set(MAILCONN_OPT_IMAP_HOST, good[i]);
		if (rc != MAILCONN_OK)
			fprintf(stderr, "refused good host \"%s\": %s\n", good[i],
			        mailconn_config_error(cfg));
		CHECK_INT(rc, MAILCONN_OK);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = set(MAILCONN_OPT_IMAP_HOST, bad[i]);
		if (rc != MAILCONN_E_INVALID_CONFIG && bad[i][0])
			fprintf(stderr, "accepted bad host \"%s\"\n", bad[i]);
		/* "" clears the option, which is allowed (the session then
		 * reports it missing). */
		CHECK_INT(rc, bad[i][0] ? MAILCONN_E_INVALID_CONFIG : MAILCONN_OK);
	}
	char label64[80] = "";
	memset(label64, 'a', 64);
	strcat(label64, ".example");
	CHECK_INT(set(MAILCONN_OPT_SMTP_HOST, label64), MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(cfg), "smtp_host");

	/* IDN names become lower-case A-labels, trailing dots go. */
	char out[256], why[128];
	CHECK_INT(mailconn__host_to_ascii("B\xc3\xbc" "cher.Example.", out, why), 0);
	CHECK_STR(out, "xn--bcher-kva.example");
	CHECK_INT(mailconn__host_to_ascii("[::1]", out, why), 0);
	CHECK_STR(out, "::1");
}

static void
test_integers(void)
{
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, 0), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, 65536), MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(cfg), "imap_port");
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, 993), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_SECURITY, 4), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_ALLOW_UNTRUSTED_CERT, 2), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, 0), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_DEADLINE_MS, INT64_MAX), MAILCONN_E_INVALID_CONFIG);
	/* Wrong value type and unknown ids are their own errors. */
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_HOST, 1), MAILCONN_E_OPTION_TYPE);
	CHECK_INT(set(MAILCONN_OPT_IMAP_PORT, "993"), MAILCONN_E_OPTION_TYPE);
	CHECK_INT(set((mailconn_option)99, "x"), MAILCONN_E_UNKNOWN_OPTION);
	CHECK_INT(mailconn_config_set_int(cfg, (mailconn_option)4242, 1), MAILCONN_E_UNKNOWN_OPTION);
	CHECK_INT(mailconn_config_set_int(NULL, MAILCONN_OPT_IMAP_PORT, 1), MAILCONN_E_INVALID_ARGUMENT);
}

static void
test_defaults(void)
{
	mailconn_config *c = mailconn_config_new();
	CHECK_INT(mailconn__config_security(c, MAILCONN_PROTOCOL_IMAP), MAILCONN_SECURITY_TLS);
	CHECK_INT(mailconn__config_port(c, MAILCONN_PROTOCOL_IMAP), 993);
	CHECK_INT(mailconn__config_port(c, MAILCONN_PROTOCOL_SMTP), 465);
	mailconn_config_set_int(c, MAILCONN_OPT_IMAP_PORT, 143);
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_PORT, 587);
	CHECK_INT(mailconn__config_security(c, MAILCONN_PROTOCOL_IMAP), MAILCONN_SECURITY_STARTTLS);
	CHECK_INT(mailconn__config_security(c, MAILCONN_PROTOCOL_SMTP), MAILCONN_SECURITY_STARTTLS);
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_PORT, 25);
	CHECK_INT(mailconn__config_security(c, MAILCONN_PROTOCOL_SMTP), MAILCONN_SECURITY_STARTTLS);
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_SECURITY, MAILCONN_SECURITY_STARTTLS);
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_PORT, 2525);
	CHECK_INT(mailconn__config_security(c, MAILCONN_PROTOCOL_SMTP), MAILCONN_SECURITY_STARTTLS);
	CHECK_INT(mailconn__config_int(c, MAILCONN_OPT_STAGE_TIMEOUT_MS), 30000);

	/* A session needs the required options; the check says which is
	 * missing, and making the session leaves the config untouched. */
	mailconn_session *s = (mailconn_session *)1;
	CHECK_INT(mailconn_session_new(c, &s), MAILCONN_E_MISSING_OPTION);
	CHECK(s == NULL);
	CHECK_STR(mailconn_config_error(c), "");
	char why[128];
	CHECK_INT(mailconn_config_check(c, why, sizeof why), MAILCONN_E_MISSING_OPTION);
	CHECK_CONTAINS(why, "email");
	CHECK_INT(mailconn_config_check(c, NULL, 0), MAILCONN_E_MISSING_OPTION);
	CHECK_INT(mailconn_config_check(NULL, why, sizeof why), MAILCONN_E_INVALID_ARGUMENT);
	mailconn_config_set_string(c, MAILCONN_OPT_EMAIL, "ann@example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, "imap.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_SMTP_HOST, "smtp.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_BCC, "bcc@example.com");
	CHECK_INT(mailconn_config_check(c, why, sizeof why), MAILCONN_E_MISSING_OPTION);
	CHECK_CONTAINS(why, "password");
	mailconn_config_set_string(c, MAILCONN_OPT_PASSWORD, "pw");
	CHECK_INT(mailconn_config_check(c, why, sizeof why), MAILCONN_OK);
	CHECK_STR(why, "");
	mailconn_config_free(c);
}

/* Every option the library knows has storage of its own: setting each to
 * a distinct value and reading all back finds any two sharing a slot. */
static void
test_option_slots(void)
{
	mailconn_config *c = mailconn_config_new();
	char expect[300][24];
	int known = 0;
	for (int id = 1; id < 300; id++) {
		expect[id][0] = '\0';
		if (!mailconn_option_name((mailconn_option)id))
			continue;
		known++;
		if (id < 100) {
			/* A value every string kind accepts but one: pick by kind. */
			const char *v[] = { "a%d@example.com", "h%d.example.com",
			                    "127.0.0.%d", "text %d" };
			int ok = 0;
			for (size_t k = 0; k < 4 && !ok; k++) {
				snprintf(expect[id], sizeof expect[id], v[k], id);
				ok = mailconn_config_set_string(c, (mailconn_option)id,
				                                expect[id]) == MAILCONN_OK;
			}
			if (!ok)            /* files and directories */
				expect[id][0] = '\0';
		} else {
			CHECK_INT(mailconn_config_set_int(c, (mailconn_option)id,
			                                  id == 101 || id == 103 ? 2
			                                  : id == 104 || id == 107 ? 1
			                                  : 1000 + id), MAILCONN_OK);
		}
	}
	CHECK(known >= 24);
	for (int id = 1; id < 100; id++)
		if (expect[id][0])
			CHECK_STR(mailconn__config_str(c, (mailconn_option)id), expect[id]);
	for (int id = 100; id < 300; id++) {
		if (!mailconn_option_name((mailconn_option)id))
			continue;
		int64_t want = id == 101 || id == 103 ? 2 : id == 104 || id == 107 ? 1
		             : 1000 + id;
		CHECK_INT(mailconn__config_int(c, (mailconn_option)id), want);
	}
	mailconn_config_free(c);
}

static void
test_names(void)
{
	for (int id = 0; id < 300; id++) {
		const char *name = mailconn_option_name((mailconn_option)id);
		if (name)
			CHECK_INT(mailconn_option_from_name(name), id);
	}
	CHECK_INT(mailconn_option_from_name("IMAP_HOST"), MAILCONN_OPT_IMAP_HOST);
	CHECK_INT(mailconn_option_from_name("no_such_option"), -1);
	CHECK_STR(mailconn_error_name(MAILCONN_APP_PASSWORD), "APP_PASSWORD");
	CHECK_STR(mailconn_error_name((mailconn_error)77), "UNKNOWN");
	CHECK_STR(mailconn_cause_name(MAILCONN_CAUSE_CERT_EXPIRED), "CERT_EXPIRED");
	CHECK_STR(mailconn_stage_name(MAILCONN_STAGE_SMTP_LOGIN), "smtp_login");
	for (int e = MAILCONN_IMAP_SETTINGS; e <= MAILCONN_UNTRUSTED_CERT; e++) {
		CHECK(mailconn_error_hint((mailconn_error)e)[0] != '\0');
		CHECK(strcmp(mailconn_error_name((mailconn_error)e), "UNKNOWN") != 0);
	}
	CHECK_STR(mailconn_error_hint(MAILCONN_OK), "");
	for (int c = 0; c < 100; c++) {
		const char *n = mailconn_cause_name((mailconn_cause)c);
		/* Every cause the header defines has a name (spot-check ranges). */
		if (c == 10 || c == 20 || c == 30 || c == 40 || c == 50 || c == 70 || c == 90)
			CHECK(strcmp(n, "UNKNOWN") != 0);
	}
	CHECK_INT(mailconn_version_number(), MAILCONN_VERSION_NUMBER);
	char v[32];
	snprintf(v, sizeof v, "%d.%d.%d", MAILCONN_VERSION_MAJOR,
	         MAILCONN_VERSION_MINOR, MAILCONN_VERSION_PATCH);
	CHECK_STR(mailconn_version(), v);
}

/* A settings dialog points at the field from the id alone: every kind of
 * failure names the option it was about, and a success clears it. */
static void
test_error_option(void)
{
	mailconn_config *c = mailconn_config_new();
	CHECK_INT(mailconn_config_error_option(c), 0);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, "bad host"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_error_option(c), MAILCONN_OPT_IMAP_HOST);
	CHECK_INT(mailconn_config_set_int(c, MAILCONN_OPT_SMTP_PORT, 70000),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_error_option(c), MAILCONN_OPT_SMTP_PORT);
	CHECK_INT(mailconn_config_set_int(c, MAILCONN_OPT_BCC, 1),
	          MAILCONN_E_OPTION_TYPE);
	CHECK_INT(mailconn_config_error_option(c), MAILCONN_OPT_BCC);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_PASSWORD, "a\nb"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_error_option(c), MAILCONN_OPT_PASSWORD);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_CA_FILE, "/nonexistent"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_error_option(c), MAILCONN_OPT_CA_FILE);
	CHECK_INT(mailconn_config_set_string(c, (mailconn_option)99, "x"),
	          MAILCONN_E_UNKNOWN_OPTION);
	CHECK_INT(mailconn_config_error_option(c), 0);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, "bad host"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_EMAIL, "ann@example.com"),
	          MAILCONN_OK);
	CHECK_INT(mailconn_config_error_option(c), 0);
	CHECK_INT(mailconn_config_error_option(NULL), 0);

	/* The check names each missing option in the order it reports them. */
	char why[128];
	mailconn_option bad = (mailconn_option)-1;
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &bad),
	          MAILCONN_E_MISSING_OPTION);
	CHECK_INT(bad, MAILCONN_OPT_IMAP_HOST);
	mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, "imap.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_SMTP_HOST, "smtp.example.com");
	CHECK_INT(mailconn_config_check_option(c, NULL, 0, &bad),
	          MAILCONN_E_MISSING_OPTION);
	CHECK_INT(bad, MAILCONN_OPT_BCC);
	mailconn_config_set_string(c, MAILCONN_OPT_BCC, "bcc@example.com");
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &bad),
	          MAILCONN_E_MISSING_OPTION);
	CHECK_INT(bad, MAILCONN_OPT_PASSWORD);
	mailconn_config_set_string(c, MAILCONN_OPT_PASSWORD, "pw");
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, NULL), MAILCONN_OK);
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &bad), MAILCONN_OK);
	CHECK_INT(bad, 0);
	CHECK_STR(why, "");
	/* A CA file that exists but holds no certificate fails only when the
	 * session is made, and is named then. */
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_CA_FILE, "/dev/null"),
	          MAILCONN_E_INVALID_CONFIG);
	char path[] = "/tmp/test-config-ca-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, "not a certificate\n", 18) == 18);
	close(fd);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_CA_FILE, path),
	          MAILCONN_OK);
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &bad),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(bad, MAILCONN_OPT_CA_FILE);
	unlink(path);
	CHECK_INT(mailconn_config_check_option(NULL, why, sizeof why, &bad),
	          MAILCONN_E_INVALID_ARGUMENT);
	CHECK_INT(bad, 0);
	mailconn_config_free(c);
}

/* The pin accepts the fingerprint exactly as the fact shows it, or bare
 * and in any case; anything a digit off is refused, not guessed at. */
static void
test_cert_pin(void)
{
	static const char colons[] =
		"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
		"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
	static const char bare[] =
		"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	unsigned char a[32], b[32];
	CHECK_INT(mailconn__parse_sha256(colons, a), 0);
	CHECK_INT(mailconn__parse_sha256(bare, b), 0);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK_INT(a[0], 0xab);
	CHECK_INT(a[31], 0x89);
	CHECK_INT(mailconn__parse_sha256(bare + 1, a), -1);
	CHECK_INT(mailconn__parse_sha256(colons + 1, a), -1);
	char bad[sizeof colons];
	memcpy(bad, colons, sizeof bad);
	bad[2] = '-';
	CHECK_INT(mailconn__parse_sha256(bad, a), -1);
	memcpy(bad, colons, sizeof bad);
	bad[3] = 'G';
	CHECK_INT(mailconn__parse_sha256(bad, a), -1);
	/* Colons in the wrong places, though the count is right. */
	memcpy(bad, colons, sizeof bad);
	bad[1] = ':';
	bad[2] = 'B';
	CHECK_INT(mailconn__parse_sha256(bad, a), -1);

	mailconn_config *c = mailconn_config_new();
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_IMAP_CERT_SHA256,
	                                     colons), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_SMTP_CERT_SHA256,
	                                     bare), MAILCONN_OK);
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_SMTP_CERT_SHA256,
	                                     "sha256:abc"), MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(mailconn_config_error_option(c), MAILCONN_OPT_SMTP_CERT_SHA256);
	CHECK_CONTAINS(mailconn_config_error(c), "smtp_cert_sha256");
	CHECK_INT(mailconn_option_from_name("imap_cert_sha256"),
	          MAILCONN_OPT_IMAP_CERT_SHA256);

	/* A pin on a plaintext connection would protect nothing. */
	mailconn_config_set_string(c, MAILCONN_OPT_EMAIL, "ann@example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, "imap.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_SMTP_HOST, "smtp.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_BCC, "bcc@example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_PASSWORD, "pw");
	char why[128];
	mailconn_option opt;
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &opt), MAILCONN_OK);
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_SECURITY, MAILCONN_SECURITY_PLAIN);
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &opt),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_INT(opt, MAILCONN_OPT_SMTP_CERT_SHA256);
	CHECK_CONTAINS(why, "smtp_cert_sha256");
	mailconn_config_set_string(c, MAILCONN_OPT_SMTP_CERT_SHA256, NULL);
	CHECK_INT(mailconn_config_check_option(c, why, sizeof why, &opt), MAILCONN_OK);
	mailconn_config_free(c);
}

int
main(void)
{
	cfg = mailconn_config_new();
	test_strings();
	test_mechanisms();
	test_address_lists();
	test_hosts();
	test_integers();
	test_defaults();
	test_names();
	test_option_slots();
	test_error_option();
	test_cert_pin();
	mailconn_config_free(cfg);
	return check_finish();
}
