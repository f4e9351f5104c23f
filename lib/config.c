/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration handle: an option table, setters that validate at
 * once (so a typo is a caller error before any connection, never a
 * verification outcome), and effective values with defaults.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <idn2.h>
#include <pthread.h>

#include "core/buf.h"
#include "private.h"
#include "proto/lang.h"
#include "proto/sasl.h"
#include "resolve.h"
#include "tls.h"

enum value_kind {
	KIND_TEXT,      /* free text without CR/LF */
	KIND_SECRET,    /* like text, wiped on free */
	KIND_EMAIL,
	KIND_HOST,
	KIND_IP,        /* numeric IPv4 or IPv6 */
	KIND_FILE,
	KIND_DIR,
	KIND_MULTILINE, /* body: newlines allowed */
	KIND_LANGUAGE,  /* a language tag or locale name */
	KIND_SHA256,    /* a certificate fingerprint */
	KIND_MECHLIST,  /* comma-separated SASL mechanism names */
	KIND_PORT,
	KIND_SECURITY,
	KIND_FLAG,
	KIND_MILLIS
};

struct option_def {
	const char *name;
	int id;
	enum value_kind kind;
	int is_string;
	int slot;               /* index into str[] or num[] */
	size_t max_len;         /* strings only */
	int64_t default_value;  /* integers only */
};

/* Every id must sit in its type's range of the public enum. */
#define CHECK_STRING_ID(id, name, kind, max, def) \
	_Static_assert(MAILCONN_OPT_##id >= 1 && MAILCONN_OPT_##id < 100, \
	               #id " is a string option: its id must be 1-99");
#define CHECK_INT_ID(id, name, kind, max, def) \
	_Static_assert(MAILCONN_OPT_##id >= 100 && MAILCONN_OPT_##id < 200, \
	               #id " is an integer option: its id must be 100-199");
MAILCONN__STRING_OPTIONS(CHECK_STRING_ID)
MAILCONN__INT_OPTIONS(CHECK_INT_ID)
#undef CHECK_STRING_ID
#undef CHECK_INT_ID
/* num_set has one bit per integer slot. */
_Static_assert(MAILCONN__INT_COUNT <= 8 * sizeof(unsigned),
               "too many integer options for num_set");

static const struct option_def option_defs[] = {
#define STRING_DEF(id, name, kind, max, def) \
	{ #name, MAILCONN_OPT_##id, KIND_##kind, 1, MAILCONN__SLOT_##id, max, def },
#define INT_DEF(id, name, kind, max, def) \
	{ #name, MAILCONN_OPT_##id, KIND_##kind, 0, MAILCONN__SLOT_##id, max, def },
	MAILCONN__STRING_OPTIONS(STRING_DEF)
	MAILCONN__INT_OPTIONS(INT_DEF)
#undef STRING_DEF
#undef INT_DEF
};

#define N_OPTIONS (sizeof option_defs / sizeof option_defs[0])
_Static_assert(N_OPTIONS == MAILCONN__STR_COUNT + MAILCONN__INT_COUNT,
               "every option has exactly one slot");

static const struct option_def *
find_option(int id)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (option_defs[i].id == id)
			return &option_defs[i];
	return NULL;
}

MAILCONN_API int
mailconn_option_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strcasecmp(option_defs[i].name, name) == 0)
			return option_defs[i].id;
	return -1;
}

MAILCONN_API const char *
mailconn_option_name(mailconn_option option)
{
	const struct option_def *d = find_option((int)option);
	return d ? d->name : NULL;
}

struct mailconn__trust_cache {
	pthread_mutex_t lock;
	struct mailconn__trust *trust;
};

MAILCONN_API mailconn_config *
mailconn_config_new(void)
{
	struct mailconn_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return NULL;
	cfg->trust_cache = calloc(1, sizeof *cfg->trust_cache);
	if (!cfg->trust_cache ||
	    pthread_mutex_init(&cfg->trust_cache->lock, NULL) != 0) {
		free(cfg->trust_cache);
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* A trust option changed: later sessions build new credentials. The
 * setters are not called concurrently with anything on the same config
 * (one thread at a time per handle), but sessions keep their own
 * references, so dropping ours is always safe. */
static void
forget_trust(struct mailconn_config *cfg)
{
	struct mailconn__trust_cache *tc = cfg->trust_cache;
	pthread_mutex_lock(&tc->lock);
	mailconn__trust_unref(tc->trust);
	tc->trust = NULL;
	pthread_mutex_unlock(&tc->lock);
}

struct mailconn__trust *
mailconn__config_trust(const struct mailconn_config *cfg, char *why,
                       size_t why_size, mailconn_option *bad)
{
	struct mailconn__trust_cache *tc = cfg->trust_cache;
	int which = 0;
	pthread_mutex_lock(&tc->lock);
	if (!tc->trust)
		tc->trust = mailconn__trust_new(
			mailconn__config_str(cfg, MAILCONN_OPT_CA_FILE),
			mailconn__config_str(cfg, MAILCONN_OPT_CA_PATH), why, why_size,
			&which);
	*bad = which == 1 ? MAILCONN_OPT_CA_FILE
	     : which == 2 ? MAILCONN_OPT_CA_PATH : (mailconn_option)0;
	struct mailconn__trust *t = tc->trust ? mailconn__trust_ref(tc->trust) : NULL;
	pthread_mutex_unlock(&tc->lock);
	return t;
}

MAILCONN_API void
mailconn_config_free(mailconn_config *cfg)
{
	if (!cfg)
		return;
	forget_trust(cfg);
	pthread_mutex_destroy(&cfg->trust_cache->lock);
	free(cfg->trust_cache);
	for (int i = 0; i < MAILCONN__STR_COUNT; i++)
		mailconn__free_secret(cfg->str[i]);
	mailconn__wipe(cfg, sizeof *cfg);
	free(cfg);
}

/* `option` is recorded apart from the sentence so that an application
 * can point at the field without parsing English (0: no known option). */
__attribute__((format(printf, 3, 4))) static mailconn_error
config_fail(mailconn_config *cfg, int option, const char *fmt, ...)
{
	cfg->error_option = option;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
	va_end(ap);
	return MAILCONN_E_INVALID_CONFIG;
}

MAILCONN_API const char *
mailconn_config_error(const mailconn_config *cfg)
{
	return cfg ? cfg->error : "no configuration";
}

MAILCONN_API mailconn_option
mailconn_config_error_option(const mailconn_config *cfg)
{
	return cfg ? (mailconn_option)cfg->error_option : (mailconn_option)0;
}

/* An LDH label as DNS host names allow: letters, digits, inner hyphens. */
static int
is_ldh_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

int
mailconn__host_to_ascii(const char *host, char *out, char *why)
{
	char name[256];
	size_t len = strlen(host);
	unsigned char ipbuf[16];

	why[0] = '\0';
	if (len == 0) {
		snprintf(why, 128, "is empty");
		return -1;
	}
	/* IP literals, optionally in brackets for IPv6. */
	if (host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof name) {
		memcpy(name, host + 1, len - 2);
		name[len - 2] = '\0';
		if (inet_pton(AF_INET6, name, ipbuf) == 1) {
			strcpy(out, name);
			return 0;
		}
		snprintf(why, 128, "is not a valid IPv6 literal");
		return -1;
	}
	if (inet_pton(AF_INET, host, ipbuf) == 1 ||
	    inet_pton(AF_INET6, host, ipbuf) == 1) {
		snprintf(out, 256, "%s", host);
		return 0;
	}
	if (host[len - 1] == '.')
		len--;                  /* the root label: "host." is "host" */
	if (len == 0 || len > 253) {
		snprintf(why, 128, "must be 1 to 253 characters long");
		return -1;
	}
	memcpy(name, host, len);
	name[len] = '\0';

	int non_ascii = 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] >= 0x80)
			non_ascii = 1;

	const char *ascii = name;
	char *converted = NULL;
	if (non_ascii || strncasecmp(name, "xn--", 4) == 0 ||
	    strstr(name, ".xn--") || strstr(name, ".XN--")) {
		/* libidn2 passes some invalid input through unchanged and repairs
		 * other input silently, so its result is only a candidate that
		 * must still pass the LDH check below. */
		int rc = idn2_to_ascii_8z(name, &converted,
		                          IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			snprintf(why, 128, "is not a valid internationalised name (%s)",
			         idn2_strerror(rc));
			return -1;
		}
		ascii = converted;
	}
	size_t alen = strlen(ascii);
	int ok = alen > 0 && alen <= 253;
	for (const char *p = ascii; ok && *p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		ok = is_ldh_label(p, n);
		p += n + (dot ? 1 : 0);
		if (dot && !*p)
			ok = 0;         /* an empty label after a dot */
	}
	if (ok) {
		for (size_t i = 0; i <= alen; i++)
			out[i] = (char)tolower((unsigned char)ascii[i]);
	} else {
		snprintf(why, 128, "is not a valid host name (labels of letters, "
		         "digits and hyphens separated by single dots)");
	}
	idn2_free(converted);
	return ok ? 0 : -1;
}

static int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Colons are either all absent or between every pair, so that a
 * fingerprint cut or pasted one digit off is an error rather than a
 * different pin. */
int
mailconn__parse_sha256(const char *text, unsigned char out[32])
{
	size_t len = strlen(text);
	int colons = len == 32 * 3 - 1;
	if (!colons && len != 64)
		return -1;
	const char *p = text;
	for (int i = 0; i < 32; i++) {
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
		p += 2;
		if (colons && i < 31 && *p++ != ':')
			return -1;
	}
	return 0;
}

/* The resolver reads the same list (resolve.h); it is checked here so a
 * typo is a caller error, never a connection failure. An IPv6 address
 * may be bracketed, an IPv4 one may not. */
static int
valid_address_list(const char *list)
{
	char item[INET6_ADDRSTRLEN + 1];
	unsigned char ipbuf[16];
	const char *cursor = list;
	int n = 0, more;
	for (;;) {
		int bracketed = cursor && cursor[0] == '[';
		more = mailconn__address_list_next(&cursor, item, sizeof item);
		if (more != 1)
			break;
		if (++n > MAILCONN__MAX_NUMERIC_ADDRESSES)
			return 0;
		if (inet_pton(AF_INET6, item, ipbuf) != 1 &&
		    (bracketed || inet_pton(AF_INET, item, ipbuf) != 1))
			return 0;
	}
	return more == 0;
}

static int
valid_email(const char *v, char *why)
{
	const char *at = strrchr(v, '@');
	char ascii[256];

	if (!at || at == v) {
		snprintf(why, 128, "must look like name@domain");
		return 0;
	}
	if ((size_t)(at - v) > 64) {
		snprintf(why, 128, "has a local part longer than 64 characters");
		return 0;
	}
	for (const char *p = v; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == '<' || c == '>' || c == '(' || c == ')' ||
		    c == ',' || c == ';' || c == '"' || c == '\\' || c == '@' ||
		    c == 0x7f) {
			snprintf(why, 128, "has a character not allowed in an address");
			return 0;
		}
	}
	if (at[1] == '[') {
		snprintf(why, 128, "uses an address literal, which is not supported");
		return 0;
	}
	if (mailconn__host_to_ascii(at + 1, ascii, why) != 0)
		return 0;
	if (!strchr(ascii, '.')) {
		snprintf(why, 128, "needs a domain with at least one dot");
		return 0;
	}
	return 1;
}

/* The option a setter may set: it exists and takes the setter's type.
 * NULL with *rc (and the config's error) set otherwise. */
static const struct option_def *
settable(mailconn_config *cfg, mailconn_option option, int is_string,
         mailconn_error *rc)
{
	cfg->error[0] = '\0';
	cfg->error_option = 0;
	const struct option_def *d = find_option((int)option);
	if (!d) {
		config_fail(cfg, 0, "unknown option %d", (int)option);
		*rc = MAILCONN_E_UNKNOWN_OPTION;
	} else if (d->is_string != is_string) {
		config_fail(cfg, d->id, "%s takes %s", d->name,
		            d->is_string ? "a string" : "an integer");
		*rc = MAILCONN_E_OPTION_TYPE;
		d = NULL;
	}
	return d;
}

MAILCONN_API mailconn_error
mailconn_config_set_string(mailconn_config *cfg, mailconn_option option,
                           const char *value)
{
	if (!cfg)
		return MAILCONN_E_INVALID_ARGUMENT;
	mailconn_error rc;
	const struct option_def *d = settable(cfg, option, 1, &rc);
	if (!d)
		return rc;

	char **slot = &cfg->str[d->slot];
	if (!value || !value[0]) {
		mailconn__free_secret(*slot);
		*slot = NULL;
		if (d->kind == KIND_FILE || d->kind == KIND_DIR)
			forget_trust(cfg);
		return MAILCONN_OK;
	}
	size_t len = strlen(value);
	if (len > d->max_len)
		return config_fail(cfg, d->id, "%s is longer than %zu bytes", d->name,
		                   d->max_len);
	/* CR and LF would let a value inject protocol commands. */
	if (d->kind != KIND_MULTILINE && strpbrk(value, "\r\n"))
		return config_fail(cfg, d->id, "%s contains a line break", d->name);

	char why[128] = "", ascii[256];
	struct stat st;
	switch (d->kind) {
	case KIND_EMAIL:
		if (!valid_email(value, why))
			return config_fail(cfg, d->id, "%s %s", d->name, why);
		break;
	case KIND_HOST:
		if (mailconn__host_to_ascii(value, ascii, why) != 0)
			return config_fail(cfg, d->id, "%s %s", d->name, why);
		break;
	case KIND_IP:
		if (!valid_address_list(value))
			return config_fail(cfg, d->id, "%s must be a comma-separated list of "
			                   "1 to %d numeric IPv4 or IPv6 addresses",
			                   d->name, MAILCONN__MAX_NUMERIC_ADDRESSES);
		break;
	case KIND_FILE:
		if (stat(value, &st) != 0 || !S_ISREG(st.st_mode) ||
		    access(value, R_OK) != 0)
			return config_fail(cfg, d->id, "%s is not a readable file", d->name);
		break;
	case KIND_DIR:
		if (stat(value, &st) != 0 || !S_ISDIR(st.st_mode))
			return config_fail(cfg, d->id, "%s is not a directory", d->name);
		break;
	case KIND_LANGUAGE:
		/* A language we lack is no error: an application passes its own
		 * UI language, and English is the documented fallback. */
		if (!mailconn__language_tag_valid(value))
			return config_fail(cfg, d->id, "%s must be a language tag such as "
			                   "\"en\" or \"nb\"", d->name);
		break;
	case KIND_SHA256: {
		unsigned char md[32];
		if (mailconn__parse_sha256(value, md) != 0)
			return config_fail(cfg, d->id, "%s must be a SHA-256 fingerprint: "
			                   "64 hex digits, optionally in pairs "
			                   "separated by colons", d->name);
		break;
	}
	case KIND_MECHLIST:
		if (!mailconn__mech_list_valid(value))
			return config_fail(cfg, d->id, "%s must be a comma-separated list of "
			                   "SCRAM-SHA-256-PLUS, SCRAM-SHA-256, PLAIN, "
			                   "LOGIN, XOAUTH2 or OAUTHBEARER, each at most "
			                   "once", d->name);
		break;
	case KIND_TEXT:
	case KIND_SECRET:
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)value[i] < 0x20 && value[i] != '\t')
				return config_fail(cfg, d->id, "%s contains a control "
				                   "character", d->name);
		break;
	default:
		break;
	}
	char *copy = strdup(value);
	if (!copy)
		return MAILCONN_E_NOMEM;
	mailconn__free_secret(*slot);
	*slot = copy;
	if (d->kind == KIND_FILE || d->kind == KIND_DIR)
		forget_trust(cfg);
	return MAILCONN_OK;
}

MAILCONN_API mailconn_error
mailconn_config_set_int(mailconn_config *cfg, mailconn_option option,
                        int64_t value)
{
	if (!cfg)
		return MAILCONN_E_INVALID_ARGUMENT;
	mailconn_error rc;
	const struct option_def *d = settable(cfg, option, 0, &rc);
	if (!d)
		return rc;

	int ok;
	switch (d->kind) {
	case KIND_PORT:
		ok = value >= 1 && value <= 65535;
		break;
	case KIND_SECURITY:
		ok = value >= MAILCONN_SECURITY_AUTO && value <= MAILCONN_SECURITY_PLAIN;
		break;
	case KIND_FLAG:
		ok = value == 0 || value == 1;
		break;
	default:
		ok = value >= 1 && value <= 86400000;
		break;
	}
	if (!ok)
		return config_fail(cfg, d->id, "%s: %lld is out of range", d->name,
		                   (long long)value);
	cfg->num[d->slot] = value;
	cfg->num_set |= 1u << d->slot;
	return MAILCONN_OK;
}

MAILCONN_API void
mailconn_config_set_progress(mailconn_config *cfg, mailconn_progress_fn fn,
                             void *userdata)
{
	if (cfg) {
		cfg->progress = fn;
		cfg->progress_userdata = userdata;
	}
}

MAILCONN_API void
mailconn_config_set_transcript(mailconn_config *cfg, mailconn_transcript_fn fn,
                               void *userdata)
{
	if (cfg) {
		cfg->transcript = fn;
		cfg->transcript_userdata = userdata;
	}
}

const char *
mailconn__config_str(const struct mailconn_config *cfg, mailconn_option option)
{
	const struct option_def *d = find_option((int)option);
	return d && d->is_string ? cfg->str[d->slot] : NULL;
}

int64_t
mailconn__config_int(const struct mailconn_config *cfg, mailconn_option option)
{
	const struct option_def *d = find_option((int)option);
	if (!d || d->is_string)
		return 0;
	return (cfg->num_set & (1u << d->slot)) ? cfg->num[d->slot]
	                                        : d->default_value;
}

mailconn_security
mailconn__config_security(const struct mailconn_config *cfg,
                          mailconn_protocol proto)
{
	int imap = proto == MAILCONN_PROTOCOL_IMAP;
	mailconn_security sec = (mailconn_security)mailconn__config_int(cfg,
		imap ? MAILCONN_OPT_IMAP_SECURITY : MAILCONN_OPT_SMTP_SECURITY);
	if (sec != MAILCONN_SECURITY_AUTO)
		return sec;
	int64_t port = mailconn__config_int(cfg,
		imap ? MAILCONN_OPT_IMAP_PORT : MAILCONN_OPT_SMTP_PORT);
	/* The well-known plaintext ports upgrade with STARTTLS; everything
	 * else (993, 465 and unknown ports) gets implicit TLS, the safer
	 * guess, since it never exposes a password. */
	if (port == 143 || port == 587 || port == 25)
		return MAILCONN_SECURITY_STARTTLS;
	return MAILCONN_SECURITY_TLS;
}

int
mailconn__config_port(const struct mailconn_config *cfg, mailconn_protocol proto)
{
	int imap = proto == MAILCONN_PROTOCOL_IMAP;
	int64_t port = mailconn__config_int(cfg,
		imap ? MAILCONN_OPT_IMAP_PORT : MAILCONN_OPT_SMTP_PORT);
	if (port)
		return (int)port;
	if (mailconn__config_security(cfg, proto) == MAILCONN_SECURITY_TLS)
		return imap ? 993 : 465;
	return imap ? 143 : 587;
}
