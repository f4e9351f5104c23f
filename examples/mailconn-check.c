/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mailconn-check: verify a mailbox's IMAP and SMTP settings from the
 * command line. Its options, JSON fields and exit codes are a contract
 * that scripts rely on: 0 all five stages passed, 1 a verification
 * failure, 2 a usage or configuration error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <idn2.h>
#include <mailconn.h>

#define EXIT_VERIFY_FAILED 1
#define EXIT_USAGE 2
#define MAX_RESOLVE 64

struct options {
	const char *imap_host, *smtp_host;
	long imap_port, smtp_port;
	int imap_security, smtp_security;
	const char *resolve[MAX_RESOLVE];
	int n_resolve;
	int json, verbose;
};

static int fancy;                /* UTF-8 check marks on a terminal */

static void
usage(FILE *out)
{
	fputs("usage: mailconn-check --email ADDR [--username NAME] [--smtp-username NAME]\n"
	      "    --imap-host HOST [--imap-port N] [--imap-security auto|tls|starttls|plain]\n"
	      "    --smtp-host HOST [--smtp-port N] [--smtp-security auto|tls|starttls|plain]\n"
	      "    --bcc ADDR [--subject TEXT] [--ca-file PEM] [--allow-untrusted-cert]\n"
	      "    [--imap-cert-sha256 FINGERPRINT] [--smtp-cert-sha256 FINGERPRINT]\n"
	      "    [--timeout SECONDS] [--password-env VAR | --password-file FILE |\n"
	      "     --oauth2-token-env VAR] [--resolve HOST:PORT:ADDR[,ADDR]...]... [--overlap]\n"
	      "    [--lang en|nb] [--mechanisms LIST] [--json] [--verbose]\n"
	      "--lang chooses the language of the hint and message (default: from\n"
	      "LC_ALL, LC_MESSAGES or LANG; English otherwise).\n"
	      "--imap-cert-sha256 and --smtp-cert-sha256 accept exactly the certificate\n"
	      "with that SHA-256 fingerprint (as a failed check shows it), even if\n"
	      "untrusted, and refuse any other.\n"
	      "--mechanisms fixes the login mechanisms and their order, e.g.\n"
	      "SCRAM-SHA-256-PLUS,SCRAM-SHA-256 (default: PLAIN when the certificate\n"
	      "is verified, SCRAM first when it is not).\n", out);
}

static int
usage_error(const char *option, const char *why)
{
	fprintf(stderr, "mailconn-check: %s: %s\n", option, why);
	usage(stderr);
	return EXIT_USAGE;
}

static int
parse_security(const char *v)
{
	static const char *const names[] = { "auto", "tls", "starttls", "plain" };
	for (int i = 0; i < 4; i++)
		if (strcasecmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* Wipe `size` bytes, not strlen(): a rejected secret may hold a NUL. */
static void
wipe(char *s, size_t size)
{
	volatile char *p = s;
	while (size--)
		*p++ = '\0';
}

/* A secret must reach the server exactly as given. The library refuses
 * CR and LF but cannot see past a NUL, and the old way of taking the
 * first line silently dropped the rest; so every problem is named here
 * (never the secret) and the check stops before any connection. A file
 * or a prompt may end in one newline, which is not part of the secret.
 * Returns NULL when the secret is usable, else why not. */
enum { SECRET_LINE = 1, SECRET_FILE = 2 };

static const char *
secret_problem(char *buf, size_t *len, int how)
{
	if (memchr(buf, '\0', *len))
		return "contains a NUL byte, which a password or token cannot carry";
	if ((how & SECRET_LINE) && *len > 0 && buf[*len - 1] == '\n')
		buf[--*len] = '\0';
	if (memchr(buf, '\r', *len))
		return how & SECRET_FILE
			? "contains a carriage return (CR), which a password cannot "
			  "carry (saved with Windows line endings?)"
			: "contains a carriage return (CR), which a password or token "
			  "cannot carry";
	if (memchr(buf, '\n', *len))
		return how & SECRET_LINE
			? "contains a line break (LF) other than one at the end, "
			  "which a password cannot carry"
			: "contains a line break (LF), which a password or token "
			  "cannot carry";
	if (*len == 0)
		return "is empty";
	return NULL;
}

/* Read a secret from the terminal without echo. NULL with *why set for
 * an unusable secret, NULL alone when there is no terminal or input. */
static char *
read_password_tty(const char **why)
{
	*why = NULL;
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return NULL;
	struct termios old, quiet;
	int have_termios = tcgetattr(fileno(tty), &old) == 0;
	if (have_termios) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	fputs("Password: ", tty);
	fflush(tty);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, tty);
	if (have_termios)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	if (n < 0) {
		free(line);
		return NULL;
	}
	size_t len = (size_t)n;
	*why = secret_problem(line, &len, SECRET_LINE);
	if (*why) {
		wipe(line, cap);
		free(line);
		return NULL;
	}
	return line;
}

/* The whole file is the secret (one trailing newline aside): reading
 * only its first line would log in with something else than the file
 * holds. The bound is far above any password the library accepts. */
#define SECRET_FILE_MAX 65536

static char *
read_password_file(const char *path, const char **why)
{
	*why = NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = malloc(SECRET_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	size_t len = fread(buf, 1, SECRET_FILE_MAX + 1, f);
	int failed = ferror(f);
	fclose(f);
	if (failed)
		*why = "cannot be read";
	else if (len > SECRET_FILE_MAX)
		*why = "is too large to hold a password";
	else
		*why = secret_problem(buf, &len, SECRET_LINE | SECRET_FILE);
	if (*why) {
		wipe(buf, SECRET_FILE_MAX + 1);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static void
wipe_free(char *s)
{
	if (!s)
		return;
	volatile char *p = s;
	while (*p)
		*p++ = '\0';
	free(s);
}

/* Host names as the library compares them: A-labels, lower case, no
 * root dot, so a U-label and its xn-- form name the same server. IP
 * literals (IPv6 possibly in brackets) compare as written. */
static int
host_key(const char *host, char *out, size_t size)
{
	size_t len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len > 1 && host[len - 1] == '.')
		len--;
	if (len == 0 || len >= size)
		return -1;
	char name[256];
	memcpy(name, host, len);
	name[len] = '\0';
	char *ascii = NULL;
	int rc = idn2_to_ascii_8z(name, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	const char *use = rc == IDN2_OK ? ascii : name;
	if (strlen(use) >= size) {
		idn2_free(ascii);
		return -1;
	}
	size_t i;
	for (i = 0; use[i]; i++)
		out[i] = (char)tolower((unsigned char)use[i]);
	out[i] = '\0';
	idn2_free(ascii);
	return 0;
}

/* --resolve HOST:PORT:ADDR[,ADDR]... (curl's form) applies to whichever
 * server it names; the address list goes to the library as it is, which
 * validates it and tries every address. -1: malformed; -2: the library
 * refused the addresses; 1: names neither server; 0: applied. */
static int
apply_resolve(mailconn_config *cfg, const struct options *o, const char *spec)
{
	/* curl's "+" (resolve when first used) means the same here. */
	if (spec[0] == '+')
		spec++;
	const char *c1 = spec[0] == '[' ? strstr(spec, "]:") : strchr(spec, ':');
	if (c1 && spec[0] == '[')
		c1++;
	if (!c1 || c1 == spec)
		return -1;
	char host[256], key[256], other[256];
	if ((size_t)(c1 - spec) >= sizeof host)
		return -1;
	memcpy(host, spec, (size_t)(c1 - spec));
	host[c1 - spec] = '\0';
	char *end;
	long port = strtol(c1 + 1, &end, 10);
	if (end == c1 + 1 || *end != ':' || port < 1 || port > 65535 || !end[1])
		return -1;
	const char *addresses = end + 1;
	if (host_key(host, key, sizeof key) != 0)
		return -1;

	int used = 0;
	long imap_port = o->imap_port ? o->imap_port
	               : (o->imap_security == 2 || o->imap_security == 3) ? 143 : 993;
	long smtp_port = o->smtp_port ? o->smtp_port
	               : (o->smtp_security == 2 || o->smtp_security == 3) ? 587 : 465;
	if (o->imap_host && port == imap_port &&
	    host_key(o->imap_host, other, sizeof other) == 0 && strcmp(key, other) == 0) {
		if (mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_ADDRESS, addresses))
			return -2;
		used = 1;
	}
	if (o->smtp_host && port == smtp_port &&
	    host_key(o->smtp_host, other, sizeof other) == 0 && strcmp(key, other) == 0) {
		if (mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_ADDRESS, addresses))
			return -2;
		used = 1;
	}
	return used ? 0 : 1;
}

/* ---- output ----------------------------------------------------------- */

static void
json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);   /* the library returns valid UTF-8 only */
	}
	fputc('"', out);
}

static void
json_field(FILE *out, const char *name, const char *value, int comma)
{
	fprintf(out, "\"%s\": ", name);
	if (value && value[0])
		json_string(out, value);
	else
		fputs("null", out);
	if (comma)
		fputs(", ", out);
}

static void
json_capabilities(FILE *out, const char *caps, int smtp)
{
	fputs("\"capabilities\": [", out);
	const char *sep = smtp ? "\n" : " ";
	int first = 1;
	char *copy = strdup(caps), *save = NULL;
	for (char *t = copy ? strtok_r(copy, sep, &save) : NULL; t;
	     t = strtok_r(NULL, sep, &save)) {
		fputs(first ? "" : ", ", out);
		json_string(out, t);
		first = 0;
	}
	free(copy);
	fputs("]", out);
}

/* This side's address of the connection that failed, shown with the hint
 * because "the server accepts only certain IP addresses" is advice the
 * user can act on only knowing where the check came from. "" when that
 * connection never got that far, or on success. */
static const char *
failed_local_address(const mailconn_session *s)
{
	mailconn_protocol p = mailconn_session_protocol(s);
	if (mailconn_session_outcome(s) == MAILCONN_OK || p == MAILCONN_PROTOCOL_NONE)
		return "";
	return mailconn_session_fact(s, p == MAILCONN_PROTOCOL_IMAP
	                                ? MAILCONN_STAGE_IMAP_CONNECT
	                                : MAILCONN_STAGE_SMTP_CONNECT,
	                             MAILCONN_FACT_LOCAL_ADDRESS);
}

static void
print_json(const mailconn_session *s)
{
	mailconn_error e = mailconn_session_outcome(s);
	mailconn_stage st = mailconn_session_stage(s);
	printf("{");
	json_field(stdout, "error", e == MAILCONN_OK ? NULL : mailconn_error_name(e), 1);
	printf("\"stage\": %d, ", (int)st);
	json_field(stdout, "stage_name", mailconn_stage_name(st), 1);
	json_field(stdout, "cause", e == MAILCONN_OK ? NULL
	                                            : mailconn_cause_name(mailconn_session_cause(s)), 1);
	json_field(stdout, "server_reply", mailconn_session_server_reply(s), 1);
	json_field(stdout, "detail", mailconn_session_detail(s), 1);
	json_field(stdout, "hint", mailconn_session_hint(s), 1);
	json_field(stdout, "hint_id", mailconn_session_hint_id(s), 1);
	json_field(stdout, "local_address", failed_local_address(s), 1);
	json_field(stdout, "provider", mailconn_session_provider(s), 1);
	json_field(stdout, "message", mailconn_session_message(s), 1);
	json_field(stdout, "language", mailconn_session_language(s), 1);
	printf("\"stages\": [");
	for (int i = 1; i <= 5; i++) {
		mailconn_stage stage = (mailconn_stage)i;
		int passed = mailconn_session_stage_passed(s, stage);
		printf("%s{\"stage\": %d, ", i > 1 ? ", " : "", i);
		json_field(stdout, "name", mailconn_stage_name(stage), 1);
		printf("\"status\": \"%s\", ", passed == 1 ? "passed"
		                              : passed == 0 ? "failed" : "not_run");
		printf("\"ms\": %lld, ", (long long)mailconn_session_stage_ms(s, stage));
		json_field(stdout, "address", mailconn_session_fact(s, stage, MAILCONN_FACT_ADDRESS), 1);
		json_field(stdout, "local_address", mailconn_session_fact(s, stage, MAILCONN_FACT_LOCAL_ADDRESS), 1);
		json_field(stdout, "tls_version", mailconn_session_fact(s, stage, MAILCONN_FACT_TLS_VERSION), 1);
		json_field(stdout, "tls_cipher", mailconn_session_fact(s, stage, MAILCONN_FACT_TLS_CIPHER), 1);
		json_field(stdout, "cert_sha256", mailconn_session_fact(s, stage, MAILCONN_FACT_CERT_SHA256), 1);
		json_field(stdout, "mechanism", mailconn_session_fact(s, stage, MAILCONN_FACT_AUTH_MECHANISM), 1);
		json_field(stdout, "message_id", mailconn_session_fact(s, stage, MAILCONN_FACT_MESSAGE_ID), 1);
		json_capabilities(stdout, mailconn_session_fact(s, stage, MAILCONN_FACT_CAPABILITIES),
		                  i >= 3);
		printf("}");
	}
	printf("]}\n");
}

static void
print_human(const mailconn_session *s)
{
	static const char *const titles[] = {
		"", "Connect to the IMAP server", "Log in to IMAP",
		"Connect to the SMTP server", "Log in to SMTP", "Send a test message",
	};
	for (int i = 1; i <= 5; i++) {
		mailconn_stage stage = (mailconn_stage)i;
		int passed = mailconn_session_stage_passed(s, stage);
		const char *mark = passed == 1 ? (fancy ? "\xe2\x9c\x93" : "[ok]  ")
		                 : passed == 0 ? (fancy ? "\xe2\x9c\x97" : "[FAIL]")
		                               : (fancy ? "\xc2\xb7" : "[--]  ");
		printf(" %s %d. %s", mark, i, titles[i]);
		if (passed >= 0)
			printf(" (%lld ms)", (long long)mailconn_session_stage_ms(s, stage));
		const char *addr = mailconn_session_fact(s, stage, MAILCONN_FACT_ADDRESS);
		const char *tls = mailconn_session_fact(s, stage, MAILCONN_FACT_TLS_VERSION);
		const char *mech = mailconn_session_fact(s, stage, MAILCONN_FACT_AUTH_MECHANISM);
		if (addr[0])
			printf("  %s%s%s", addr, tls[0] ? " " : "", tls);
		if (mech[0])
			printf("  %s", mech);
		printf("\n");
	}
	mailconn_error e = mailconn_session_outcome(s);
	if (e == MAILCONN_OK) {
		printf("\nAll five stages passed: this mailbox works over IMAP and SMTP.\n");
		return;
	}
	printf("\nError:  %s (%s): %s\n", mailconn_error_name(e),
	       mailconn_cause_name(mailconn_session_cause(s)),
	       mailconn_session_message(s));
	printf("Stage:  %d %s\n", (int)mailconn_session_stage(s),
	       mailconn_stage_name(mailconn_session_stage(s)));
	const char *reply = mailconn_session_server_reply(s);
	if (reply[0]) {
		printf("Server said:\n");
		for (const char *p = reply; *p;) {
			size_t n = strcspn(p, "\n");
			printf("  %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	if (mailconn_session_detail(s)[0])
		printf("Detail: %s\n", mailconn_session_detail(s));
	printf("Hint:   %s\n", mailconn_session_hint(s));
	const char *local = failed_local_address(s);
	if (local[0])
		printf("From:   %s (this computer's side of the %s connection; "
		       "behind NAT the server sees your network's public "
		       "address)\n", local,
		       mailconn_session_protocol(s) == MAILCONN_PROTOCOL_IMAP
		       ? "IMAP" : "SMTP");
}

static void
on_transcript(void *userdata, mailconn_stage stage, mailconn_protocol protocol,
              mailconn_direction dir, const char *line)
{
	FILE *out = userdata;
	static const char *const arrows[] = { "S:", "C:", "--" };
	fprintf(out, "  [%d %s] %s %s\n", (int)stage,
	        protocol == MAILCONN_PROTOCOL_IMAP ? "imap" : "smtp",
	        arrows[dir <= MAILCONN_DIR_INFO ? dir : MAILCONN_DIR_INFO], line);
}

/* ---- main ------------------------------------------------------------- */

enum {
	OPT_EMAIL = 256, OPT_USERNAME, OPT_SMTP_USERNAME, OPT_IMAP_HOST,
	OPT_IMAP_PORT, OPT_IMAP_SECURITY, OPT_SMTP_HOST, OPT_SMTP_PORT,
	OPT_SMTP_SECURITY, OPT_BCC, OPT_SUBJECT, OPT_CA_FILE, OPT_ALLOW_UNTRUSTED,
	OPT_TIMEOUT, OPT_PASSWORD_ENV, OPT_PASSWORD_FILE, OPT_TOKEN_ENV,
	OPT_RESOLVE, OPT_OVERLAP, OPT_JSON, OPT_VERBOSE, OPT_HELP, OPT_LANG,
	OPT_IMAP_CERT_SHA256, OPT_SMTP_CERT_SHA256, OPT_MECHANISMS
};

static const struct option long_options[] = {
	{ "email", required_argument, NULL, OPT_EMAIL },
	{ "username", required_argument, NULL, OPT_USERNAME },
	{ "smtp-username", required_argument, NULL, OPT_SMTP_USERNAME },
	{ "imap-host", required_argument, NULL, OPT_IMAP_HOST },
	{ "imap-port", required_argument, NULL, OPT_IMAP_PORT },
	{ "imap-security", required_argument, NULL, OPT_IMAP_SECURITY },
	{ "smtp-host", required_argument, NULL, OPT_SMTP_HOST },
	{ "smtp-port", required_argument, NULL, OPT_SMTP_PORT },
	{ "smtp-security", required_argument, NULL, OPT_SMTP_SECURITY },
	{ "bcc", required_argument, NULL, OPT_BCC },
	{ "subject", required_argument, NULL, OPT_SUBJECT },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "allow-untrusted-cert", no_argument, NULL, OPT_ALLOW_UNTRUSTED },
	{ "imap-cert-sha256", required_argument, NULL, OPT_IMAP_CERT_SHA256 },
	{ "smtp-cert-sha256", required_argument, NULL, OPT_SMTP_CERT_SHA256 },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "password-env", required_argument, NULL, OPT_PASSWORD_ENV },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "oauth2-token-env", required_argument, NULL, OPT_TOKEN_ENV },
	{ "resolve", required_argument, NULL, OPT_RESOLVE },
	{ "overlap", no_argument, NULL, OPT_OVERLAP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "lang", required_argument, NULL, OPT_LANG },
	{ "mechanisms", required_argument, NULL, OPT_MECHANISMS },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Set a config value; on failure report the option as the user typed it. */
static int
set_str(mailconn_config *cfg, mailconn_option id, const char *value,
        const char *flag)
{
	mailconn_error rc = mailconn_config_set_string(cfg, id, value);
	if (rc == MAILCONN_OK)
		return 0;
	return usage_error(flag, mailconn_config_error(cfg));
}

static int
set_int(mailconn_config *cfg, mailconn_option id, int64_t value,
        const char *flag)
{
	mailconn_error rc = mailconn_config_set_int(cfg, id, value);
	if (rc == MAILCONN_OK)
		return 0;
	return usage_error(flag, mailconn_config_error(cfg));
}

/* Inside run(): report a usage error and leave through the cleanup that
 * wipes the secret. */
#define FAIL_USAGE(...)                                                      \
	do {                                                                 \
		rc = usage_error(__VA_ARGS__);                               \
		goto out;                                                    \
	} while (0)

static int
run(int argc, char **argv, mailconn_config *cfg)
{
	struct options o = { 0 };
	char *secret = NULL;
	int secret_is_token = 0;
	int rc = 0;
	const char *secret_source = NULL;
	char problem[160];

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		const char *flag = long_options[0].name;
		for (const struct option *lo = long_options; lo->name; lo++)
			if (lo->val == c)
				flag = lo->name;
		char *end;
		long n;
		switch (c) {
		case OPT_EMAIL:
			rc = set_str(cfg, MAILCONN_OPT_EMAIL, optarg, "--email");
			break;
		case OPT_USERNAME:
			rc = set_str(cfg, MAILCONN_OPT_USERNAME, optarg, "--username");
			break;
		case OPT_SMTP_USERNAME:
			rc = set_str(cfg, MAILCONN_OPT_SMTP_USERNAME, optarg, "--smtp-username");
			break;
		case OPT_IMAP_HOST:
			o.imap_host = optarg;
			rc = set_str(cfg, MAILCONN_OPT_IMAP_HOST, optarg, "--imap-host");
			break;
		case OPT_SMTP_HOST:
			o.smtp_host = optarg;
			rc = set_str(cfg, MAILCONN_OPT_SMTP_HOST, optarg, "--smtp-host");
			break;
		case OPT_IMAP_PORT:
		case OPT_SMTP_PORT:
			n = strtol(optarg, &end, 10);
			if (end == optarg || *end)
				FAIL_USAGE(flag, "must be a number");
			if (c == OPT_IMAP_PORT)
				o.imap_port = n;
			else
				o.smtp_port = n;
			rc = set_int(cfg, c == OPT_IMAP_PORT ? MAILCONN_OPT_IMAP_PORT
			                                     : MAILCONN_OPT_SMTP_PORT, n, flag);
			break;
		case OPT_IMAP_SECURITY:
		case OPT_SMTP_SECURITY:
			n = parse_security(optarg);
			if (n < 0)
				FAIL_USAGE(flag, "must be auto, tls, starttls or plain");
			if (c == OPT_IMAP_SECURITY)
				o.imap_security = (int)n;
			else
				o.smtp_security = (int)n;
			rc = set_int(cfg, c == OPT_IMAP_SECURITY ? MAILCONN_OPT_IMAP_SECURITY
			                                         : MAILCONN_OPT_SMTP_SECURITY, n, flag);
			break;
		case OPT_BCC:
			rc = set_str(cfg, MAILCONN_OPT_BCC, optarg, "--bcc");
			break;
		case OPT_SUBJECT:
			rc = set_str(cfg, MAILCONN_OPT_SUBJECT, optarg, "--subject");
			break;
		case OPT_CA_FILE:
			rc = set_str(cfg, MAILCONN_OPT_CA_FILE, optarg, "--ca-file");
			break;
		case OPT_ALLOW_UNTRUSTED:
			rc = set_int(cfg, MAILCONN_OPT_ALLOW_UNTRUSTED_CERT, 1, flag);
			break;
		case OPT_IMAP_CERT_SHA256:
			rc = set_str(cfg, MAILCONN_OPT_IMAP_CERT_SHA256, optarg,
			             "--imap-cert-sha256");
			break;
		case OPT_SMTP_CERT_SHA256:
			rc = set_str(cfg, MAILCONN_OPT_SMTP_CERT_SHA256, optarg,
			             "--smtp-cert-sha256");
			break;
		case OPT_TIMEOUT:
			n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 86400)
				FAIL_USAGE("--timeout", "must be 1 to 86400 seconds");
			rc = set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, n * 1000, flag);
			if (!rc)
				rc = set_int(cfg, MAILCONN_OPT_DEADLINE_MS, n * 5000, flag);
			break;
		case OPT_PASSWORD_ENV:
		case OPT_PASSWORD_FILE:
		case OPT_TOKEN_ENV:
			if (secret_source)
				FAIL_USAGE(flag, "give only one of --password-env, "
				                   "--password-file and --oauth2-token-env");
			secret_source = flag;
			secret_is_token = c == OPT_TOKEN_ENV;
			if (c == OPT_PASSWORD_FILE) {
				const char *why;
				errno = 0;
				secret = read_password_file(optarg, &why);
				if (!secret && why) {
					snprintf(problem, sizeof problem, "the file %s", why);
					FAIL_USAGE("--password-file", problem);
				}
				if (!secret)
					FAIL_USAGE("--password-file",
					           strerror(errno ? errno : ENOMEM));
			} else {
				const char *v = getenv(optarg);
				if (!v)
					FAIL_USAGE(flag, "the variable is not set");
				size_t len = strlen(v);
				secret = strdup(v);
				if (!secret)
					FAIL_USAGE(flag, strerror(ENOMEM));
				const char *why = secret_problem(secret, &len, 0);
				if (why) {
					snprintf(problem, sizeof problem, "the variable %s", why);
					FAIL_USAGE(c == OPT_TOKEN_ENV ? "--oauth2-token-env"
					                              : "--password-env", problem);
				}
			}
			break;
		case OPT_RESOLVE:
			if (o.n_resolve == MAX_RESOLVE)
				FAIL_USAGE("--resolve", "given too many times");
			o.resolve[o.n_resolve++] = optarg;
			break;
		case OPT_OVERLAP:
			rc = set_int(cfg, MAILCONN_OPT_OVERLAP, 1, flag);
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_LANG:
			rc = set_str(cfg, MAILCONN_OPT_LANGUAGE, optarg, "--lang");
			break;
		case OPT_MECHANISMS:
			rc = set_str(cfg, MAILCONN_OPT_MECHANISMS, optarg,
			             "--mechanisms");
			break;
		case OPT_VERBOSE:
			o.verbose = 1;
			break;
		case OPT_HELP:
			usage(stdout);
			rc = 0;
			goto out;
		default:
			FAIL_USAGE(argv[optind - 1] ? argv[optind - 1] : "?",
			                   "unknown option or missing value");
		}
		if (rc)
			goto out;
	}
	if (optind < argc)
		FAIL_USAGE(argv[optind], "unexpected argument");
	if (!o.imap_host)
		FAIL_USAGE("--imap-host", "is required");
	if (!o.smtp_host)
		FAIL_USAGE("--smtp-host", "is required");
	for (int i = 0; i < o.n_resolve; i++) {
		int r = apply_resolve(cfg, &o, o.resolve[i]);
		if (r == -1)
			FAIL_USAGE("--resolve", "must be HOST:PORT:ADDRESS[,ADDRESS]...");
		if (r == -2)
			FAIL_USAGE("--resolve", mailconn_config_error(cfg));
		/* As with curl, one list of entries can serve several checks:
		 * an entry for another server is not a mistake. */
		if (r == 1 && o.verbose)
			fprintf(stderr, "mailconn-check: --resolve %s: names neither "
			        "the IMAP nor the SMTP host and port; ignored\n",
			        o.resolve[i]);
	}
	if (!secret) {
		const char *why;
		secret = read_password_tty(&why);
		if (!secret && why) {
			snprintf(problem, sizeof problem, "the password typed %s", why);
			FAIL_USAGE("password prompt", problem);
		}
		if (!secret)
			FAIL_USAGE("--password-env", "no password given and no "
			                   "terminal to ask for one");
	}
	rc = set_str(cfg, secret_is_token ? MAILCONN_OPT_OAUTH2_TOKEN
	                                  : MAILCONN_OPT_PASSWORD, secret,
	             secret_source ? secret_source : "password");
	wipe_free(secret);
	secret = NULL;
	if (rc)
		goto out;

	if (o.verbose)
		mailconn_config_set_transcript(cfg, on_transcript,
		                               o.json ? stderr : stdout);
	mailconn_session *s = NULL;
	mailconn_error e = mailconn_session_new(cfg, &s);
	if (e != MAILCONN_OK) {
		char why[256];
		mailconn_config_check(cfg, why, sizeof why);
		fprintf(stderr, "mailconn-check: %s: %s\n", mailconn_error_name(e),
		        why);
		rc = EXIT_USAGE;
		goto out;
	}
	e = mailconn_session_run(s);
	if (o.json)
		print_json(s);
	else
		print_human(s);
	mailconn_session_free(s);
	rc = e == MAILCONN_OK ? 0 : EXIT_VERIFY_FAILED;
out:
	wipe_free(secret);
	return rc;
}

int
main(int argc, char **argv)
{
	fancy = isatty(STDOUT_FILENO);
	mailconn_config *cfg = mailconn_config_new();
	if (!cfg) {
		fprintf(stderr, "mailconn-check: out of memory\n");
		return EXIT_USAGE;
	}
	int rc = run(argc, argv, cfg);
	mailconn_config_free(cfg);
	return rc;
}
