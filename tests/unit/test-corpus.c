/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every row of the shared corpus of real server replies, run through the
 * classifier with the provider's real host name: the outcome must match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/classify.h"

#define MAX_FILE (4u << 20)
#define N_COLS 8

/* Rows where we hold a different answer than the corpus, and why. The test
 * expects our answer for these, so the classifier is still held to it. */
static const struct {
	const char *id;
	const char *ours;
	const char *why;
} disagreements[] = {
	{ "R087", "UNAUTHORIZED",
	  "Proton Bridge runs on 127.0.0.1, which every local server and "
	  "proxy shares, so the host does not identify it; the reply text "
	  "'no such user' literally says the user name is unknown. "
	  "Recognising Bridge from that generic phrase would tell users of "
	  "any other server to create an app password for a mistyped user "
	  "name. UNAUTHORIZED, whose advice covers 'check the username and "
	  "whether a special password is needed', is the honest reading." },
};

/* The configured host for a provider row: its real host name. Order
 * matters: "IONOS (..., same platform as GMX/web.de)" is IONOS. */
static const struct {
	const char *label;           /* substring of provider_or_software */
	const char *imap;
	const char *smtp;
} hosts[] = {
	{ "Proton Bridge", "127.0.0.1", "127.0.0.1" },
	{ "smtp.protonmail.ch", "127.0.0.1", "smtp.protonmail.ch" },
	{ "IONOS", "imap.ionos.com", "smtp.ionos.com" },
	{ "Gmail", "imap.gmail.com", "smtp.gmail.com" },
	/* Hosted Microsoft only: on-premises Exchange is its owner's host. */
	{ "Outlook.com", "outlook.office365.com", "smtp.office365.com" },
	{ "Office 365", "outlook.office365.com", "smtp.office365.com" },
	{ "Yahoo", "imap.mail.yahoo.com", "smtp.mail.yahoo.com" },
	{ "iCloud", "imap.mail.me.com", "smtp.mail.me.com" },
	{ "Fastmail", "imap.fastmail.com", "smtp.fastmail.com" },
	{ "Zoho", "imap.zoho.com", "smtp.zoho.com" },
	{ "Yandex", "imap.yandex.com", "smtp.yandex.com" },
	{ "GMX", "imap.gmx.net", "mail.gmx.net" },
	{ "QQ Mail", "imap.qq.com", "smtp.qq.com" },
	{ "NetEase", "imap.163.com", "smtp.163.com" },
};

static const char *const outcome_names[] = {
	"OK", "IMAP_SETTINGS", "IMAP_AUTH", "IMAP_VALIDATION", "SMTP_SETTINGS",
	"TEST_SEND", "UNAUTHORIZED", "APP_PASSWORD", "UNTRUSTED_CERT",
};

static const char *
outcome_name(mailconn_error e)
{
	if ((unsigned)e < sizeof outcome_names / sizeof outcome_names[0])
		return outcome_names[e];
	return "?";
}

static const char *
host_for(const char *provider, mailconn_protocol proto)
{
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
		if (strstr(provider, hosts[i].label))
			return proto == MAILCONN_PROTOCOL_IMAP ? hosts[i].imap
			                                       : hosts[i].smtp;
	return "mail.example.net";
}

#define N_DISAGREEMENTS (sizeof disagreements / sizeof disagreements[0])
static int seen[N_DISAGREEMENTS];

static const char *
disagreement(const char *id)
{
	for (size_t i = 0; i < N_DISAGREEMENTS; i++)
		if (strcmp(disagreements[i].id, id) == 0) {
			seen[i] = 1;
			return disagreements[i].ours;
		}
	return NULL;
}

/* "\n" (backslash, n) in wire_text marks a line break; decode in place. */
static size_t
unescape(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] == 'n') {
			s[o++] = '\n';
			i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = malloc(MAX_FILE + 1);
	size_t n = data ? fread(data, 1, MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!data || n > MAX_FILE) {
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

static int
run_row(char *line, int *rows)
{
	char *col[N_COLS];
	int ncol = 0;
	char *p = line;
	while (ncol < N_COLS) {
		col[ncol++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (ncol < N_COLS) {
		printf("FAIL malformed row (%d columns): %.40s\n", ncol, line);
		return 0;
	}
	const char *id = col[0], *protocol = col[1], *stage = col[2];
	const char *provider = col[3], *expected = col[5];
	char *wire = col[4];

	mailconn_protocol proto = MAILCONN_PROTOCOL_NONE;
	if (strcmp(protocol, "imap") == 0)
		proto = MAILCONN_PROTOCOL_IMAP;
	else if (strcmp(protocol, "smtp") == 0)
		proto = MAILCONN_PROTOCOL_SMTP;
	enum mailconn__step step = mailconn__step_from_name(stage);
	if (proto == MAILCONN_PROTOCOL_NONE || step == MAILCONN__STEP_NONE) {
		printf("FAIL %s unknown protocol %s or stage %s\n", id,
		       protocol, stage);
		return 0;
	}
	size_t wire_len = unescape(wire);

	struct mailconn__classify_input in = {
		.protocol = proto,
		.step = step,
		.reply = wire,
		.reply_len = wire_len,
		.host = host_for(provider, proto),
		.tls_active = 1,
		.mechanism = NULL,
		.other_protocol_auth_ok = -1,
	};
	struct mailconn__classification out;
	mailconn__classify(&in, &out);
	const char *got = outcome_name(out.outcome);
	const char *ours = disagreement(id);
	const char *want = ours ? ours : expected;
	int ok = strcmp(got, want) == 0;
	(*rows)++;
	if (ours)
		printf("%s %s corpus=%s ours=%s got=%s (argued disagreement)\n",
		       ok ? "PASS" : "FAIL", id, expected, ours, got);
	else
		printf("%s %s expected=%s got=%s\n", ok ? "PASS" : "FAIL", id,
		       expected, got);
	return ok;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("MAILCONN_CORPUS");
	if ((!path || !*path) && argc > 1)
		path = argv[1];
	if (!path || !*path) {
		fprintf(stderr, "set MAILCONN_CORPUS or pass its path\n");
		return 1;
	}
	size_t len = 0;
	char *data = read_file(path, &len);
	CHECK(data != NULL);
	if (!data) {
		fprintf(stderr, "cannot read corpus %s\n", path);
		return check_finish();
	}

	int rows = 0, passed = 0, lineno = 0;
	char *save = data;
	while (save && *save) {
		char *line = save;
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			save = nl + 1;
		} else {
			save = NULL;
		}
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (lineno++ == 0 || line[0] == '\0')
			continue; /* the header, blank lines */
		int ok = run_row(line, &rows);
		passed += ok;
		CHECK(ok);
	}
	printf("corpus: %d of %d rows as expected (%zu argued disagreements)\n",
	       passed, rows, N_DISAGREEMENTS);
	CHECK(rows > 0);
	/* Each argued row must still be in the corpus. */
	for (size_t i = 0; i < N_DISAGREEMENTS; i++)
		CHECK(seen[i]);
	free(data);
	return check_finish();
}
