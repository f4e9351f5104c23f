/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After a session and its config are freed, the password must be gone
 * from process memory: this test scans every writable mapping except the
 * stack (heap, anonymous maps, library data) for the password bytes, after
 * successful and failing runs against the real servers, and checks that
 * no callback or result string ever carried it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mailconn.h>

#include "../unit/check.h"

/* Long and unlikely, so a hit is never a coincidence; and longer than the
 * bytes malloc reuses for its own bookkeeping in a freed block, so an
 * unwiped copy keeps a findable tail. */
#define SECRET_FORMAT "Wipe-me-%08x-Q7zX!pass-0123456789-tail-end"

static char secret_seen_in_callback;
static char current_secret[80];

/* What the memory scan looks for: the tail of a long secret (a freed
 * block's first bytes are overwritten by malloc), or all of a short one. */
static const char *
scan_needle(void)
{
	size_t n = strlen(current_secret);
	return n > 32 ? current_secret + n - 16 : current_secret;
}

static void
on_transcript(void *userdata, mailconn_stage stage, mailconn_protocol protocol,
              mailconn_direction dir, const char *line)
{
	(void)userdata;
	(void)stage;
	(void)protocol;
	(void)dir;
	if (strstr(line, current_secret))
		secret_seen_in_callback = 1;
}

/* Count occurrences of `needle` in writable memory outside the stack. */
static int
count_in_memory(const char *needle)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	if (!maps)
		return -1;
	size_t nlen = strlen(needle);
	int hits = 0;
	char line[512];
	while (fgets(line, sizeof line, maps)) {
		unsigned long lo, hi;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3)
			continue;
		if (perms[0] != 'r' || perms[1] != 'w' || strstr(line, "[stack") ||
		    strstr(line, "[vvar") || strstr(line, "[vsyscall"))
			continue;
		const char *p = (const char *)lo, *end = (const char *)hi;
		while (p + nlen <= end) {
			const char *hit = memchr(p, needle[0], (size_t)(end - p) - nlen + 1);
			if (!hit)
				break;
			if (memcmp(hit, needle, nlen) == 0)
				hits++;
			p = hit + 1;
		}
	}
	fclose(maps);
	return hits;
}

static void
run(const char *label, int use_right_password, int imap_port, int smtp_port,
    int smtp_security)
{
	/* The password lives only in this buffer (wiped below) and in the
	 * library's own copies. */
	char password[80];
	if (use_right_password)
		snprintf(password, sizeof password, "%s", getenv("MAILCONN_TEST_PASSWORD"));
	else
		snprintf(password, sizeof password, SECRET_FORMAT, (unsigned)rand());
	snprintf(current_secret, sizeof current_secret, "%s", password);

	mailconn_config *cfg = mailconn_config_new();
	mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL, getenv("MAILCONN_TEST_USER"));
	mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD, password);
	mailconn_config_set_string(cfg, MAILCONN_OPT_BCC, getenv("MAILCONN_TEST_BCC"));
	mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, getenv("MAILCONN_TEST_HOSTNAME"));
	mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_HOST, getenv("MAILCONN_TEST_HOSTNAME"));
	mailconn_config_set_string(cfg, MAILCONN_OPT_CA_FILE, getenv("MAILCONN_TEST_CA_FILE"));
	mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, imap_port);
	mailconn_config_set_int(cfg, MAILCONN_OPT_SMTP_PORT, smtp_port);
	mailconn_config_set_int(cfg, MAILCONN_OPT_SMTP_SECURITY, smtp_security);
	mailconn_config_set_transcript(cfg, on_transcript, NULL);
	memset(password, 0, sizeof password);

	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	mailconn_error e = mailconn_session_run(s);
	printf("%s: %s %s\n", label, mailconn_error_name(e), mailconn_session_detail(s));
	CHECK_INT(e, use_right_password ? MAILCONN_OK : MAILCONN_UNAUTHORIZED);
	CHECK(strstr(mailconn_session_server_reply(s), current_secret) == NULL);
	CHECK(strstr(mailconn_session_detail(s), current_secret) == NULL);
	CHECK(strstr(mailconn_session_hint(s), current_secret) == NULL);
	/* Still held by the config and session right now: the scan works. */
	CHECK(count_in_memory(scan_needle()) > 0);
	mailconn_session_free(s);
	mailconn_config_free(cfg);

	/* current_secret itself is one known copy; everything else is a leak. */
	int hits = count_in_memory(scan_needle());
	memset(current_secret, 0, sizeof current_secret);
	if (hits != 1)
		printf("  %d copies of the password left in memory\n", hits - 1);
	CHECK_INT(hits, 1);
	CHECK_INT(secret_seen_in_callback, 0);
}

int
main(void)
{
	/* The scan reads memory the sanitisers and valgrind would flag (freed
	 * blocks, other libraries' data): it only means something in a plain
	 * build. 77 tells meson it was skipped. */
#if defined(__SANITIZE_ADDRESS__)
	return 77;
#endif
	if (getenv("MAILCONN_TEST_VALGRIND"))
		return 77;
	const char *need[] = { "MAILCONN_TEST_USER", "MAILCONN_TEST_PASSWORD",
	                       "MAILCONN_TEST_BCC", "MAILCONN_TEST_HOSTNAME",
	                       "MAILCONN_TEST_CA_FILE", "MAILCONN_TEST_IMAP_TLS_PORT",
	                       "MAILCONN_TEST_SMTP_TLS_PORT",
	                       "MAILCONN_TEST_SMTP_STARTTLS_PORT" };
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!getenv(need[i])) {
			fprintf(stderr, "%s not set: run through mailservers.py\n", need[i]);
			return 1;
		}
	srand(12345);
	int imap = atoi(getenv("MAILCONN_TEST_IMAP_TLS_PORT"));
	int smtp_tls = atoi(getenv("MAILCONN_TEST_SMTP_TLS_PORT"));
	int smtp_starttls = atoi(getenv("MAILCONN_TEST_SMTP_STARTTLS_PORT"));
	run("right password, SMTP TLS", 1, imap, smtp_tls, MAILCONN_SECURITY_TLS);
	run("right password, SMTP STARTTLS", 1, imap, smtp_starttls,
	    MAILCONN_SECURITY_STARTTLS);
	run("wrong password", 0, imap, smtp_tls, MAILCONN_SECURITY_TLS);
	return check_finish();
}
