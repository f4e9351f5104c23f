/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plays untrusted server bytes into the IMAP or SMTP engine the way a
 * driver would, and aborts on any broken promise of engine.h. */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../unit/fixed-crypto.h"
#include "proto/classify.h"
#include "proto/engine.h"

#define FZ_NONCE "fyko+d2lbbFgONRv9qkxdawL"
#define FZ_CLIENT_NAME "client.example.net"
#define FZ_RCPT "bcc-check@example.net"
/* Dot-stuffing and 8BITMIME both matter, so one line starts with a dot and
 * the body is not ASCII. */
#define FZ_MESSAGE                                                           \
	"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"                          \
	"From: <alice@example.org>\r\n"                                      \
	"To: <" FZ_RCPT ">\r\n"                                              \
	"Subject: libmailconn test\r\n"                                      \
	"Message-ID: <fuzz.1@example.org>\r\n"                               \
	"MIME-Version: 1.0\r\n"                                              \
	"Content-Type: text/plain; charset=UTF-8\r\n"                        \
	"Content-Transfer-Encoding: 8bit\r\n"                                \
	"\r\n"                                                               \
	"Gr\xc3\xbc\xc3\x9f" "e.\r\n"                                        \
	".a line that starts with a dot\r\n"

/* Far above anything a correct engine sends; only a runaway hits these. */
#define MAX_OUTPUT_TOTAL ((size_t)4 << 20)
#define MAX_OUTPUT_CHUNK ((size_t)1 << 20)
#define MAX_PLAINTEXT 4096
#define MAX_ITERATIONS 2000000u

static const struct fz_creds creds_table[FZ_CREDS_COUNT] = {
	/* Plain ASCII: quoted strings, PLAIN, SCRAM. */
	{ "alice@example.org", "Tr0ub4dor&3-h0rse", NULL, "alice@example.org" },
	/* Not quotable (UTF-8, quote, backslash, space): IMAP literals. */
	{ "bob.o'neill", "p\xc3\xa4ss w\"rd\\x{5}", NULL, "bob@example.org" },
	/* OAuth2: XOAUTH2 or OAUTHBEARER only. */
	{ "carol@example.com", NULL, "ya29.a0Fz-OAuth-Token_0123456789",
	  "carol@example.com" },
	/* Non-ASCII address: two IMAP literals, SMTPUTF8. */
	{ "j\xc3\xb6rg@ex\xc3\xa4mple.de", "Gr\xc3\xbcn!Pw#42%", NULL,
	  "j\xc3\xb6rg@ex\xc3\xa4mple.de" },
};

static const unsigned char binding_data[32] = {
	0x3a, 0x91, 0x0c, 0x5e, 0x77, 0x12, 0xfe, 0x08, 0x61, 0xd4, 0x2b,
	0x9f, 0x40, 0x05, 0xc3, 0x6a, 0x1d, 0xe8, 0x73, 0x2c, 0xb0, 0x59,
	0x84, 0x0f, 0xaa, 0x36, 0xcd, 0x17, 0x6e, 0xf2, 0x48, 0x95,
};
static const struct mailconn__channel_binding binding = {
	"tls-exporter", binding_data, sizeof(binding_data)
};

void
fz_fail(const char *file, int line, const char *cond, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n  (%s)\n", file, line,
	        what, cond);
	abort();
}

static int
verbose(void)
{
	static int v = -1;
	if (v < 0)
		v = getenv("FZ_VERBOSE") != NULL;
	return v;
}

const struct fz_creds *
fz_creds(unsigned index)
{
	return &creds_table[index % FZ_CREDS_COUNT];
}

const char *
fz_secret(const struct fz_creds *c)
{
	return c->token ? c->token : c->password;
}

/* ---- Looking for secrets ---------------------------------------------- */

/* A plain loop, not memmem(): libFuzzer would learn the secret from an
 * intercepted call and sprinkle it into inputs. */
static int
contains(const char *hay, size_t n, const char *needle, size_t k)
{
	if (k == 0 || k > n)
		return 0;
	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;
		while (j < k && hay[i + j] == needle[j])
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Our own encoder, so the check does not trust the code under test. */
static size_t
b64(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

struct secret_forms {
	int ready;
	char raw[128];
	char b64[192];
	char plain_ir[512];          /* base64 of "\0user\0secret" */
};
static struct secret_forms forms[FZ_CREDS_COUNT];

static const struct secret_forms *
secret_forms(unsigned creds)
{
	struct secret_forms *f = &forms[creds % FZ_CREDS_COUNT];
	if (f->ready)
		return f;
	const struct fz_creds *c = fz_creds(creds);
	const char *s = fz_secret(c);
	size_t un = strlen(c->username), sn = strlen(s);
	unsigned char ir[256];

	snprintf(f->raw, sizeof(f->raw), "%s", s);
	b64((const unsigned char *)s, sn, f->b64);
	ir[0] = '\0';
	memcpy(ir + 1, c->username, un);
	ir[1 + un] = '\0';
	memcpy(ir + 2 + un, s, sn);
	b64(ir, 2 + un + sn, f->plain_ir);
	f->ready = 1;
	return f;
}

int
fz_has_secret(const char *s, size_t n, unsigned creds)
{
	const struct secret_forms *f = secret_forms(creds);
	return contains(s, n, f->raw, strlen(f->raw)) ||
	       contains(s, n, f->b64, strlen(f->b64)) ||
	       contains(s, n, f->plain_ir, strlen(f->plain_ir));
}

static int
b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

/* Does decoding the run at[0..n) from any of its first four positions
 * yield the secret? Padding is skipped: we over-approximate. */
static int
run_decodes_to(const uint8_t *at, size_t n, const char *secret, char *tmp)
{
	size_t sn = strlen(secret);
	for (size_t start = 0; start < 4 && start < n; start++) {
		size_t o = 0;
		unsigned acc = 0, bits = 0;
		for (size_t i = start; i < n; i++) {
			int v = b64_value(at[i]);
			if (v < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				tmp[o++] = (char)((acc >> bits) & 0xff);
			}
		}
		if (contains(tmp, o, secret, sn))
			return 1;
	}
	return 0;
}

/* Engines join server words with ' ' (capabilities, SASL mechanisms), so
 * a secret with spaces can be assembled from separate words. */
static int
words_present(const uint8_t *data, size_t n, const char *secret)
{
	const char *w = secret;
	while (*w) {
		while (*w == ' ')
			w++;
		size_t k = strcspn(w, " ");
		if (k && !contains((const char *)data, n, w, k))
			return 0;
		w += k;
	}
	return 1;
}

int
fz_tainted(const uint8_t *data, size_t n, unsigned creds)
{
	const struct secret_forms *f = secret_forms(creds);
	if (fz_has_secret((const char *)data, n, creds) ||
	    words_present(data, n, f->raw))
		return 1;
	char *tmp = malloc(n + 1);
	FZ_CHECK(tmp != NULL, "out of memory in the harness");
	int found = 0;
	size_t i = 0;
	while (!found && i < n) {
		if (b64_value(data[i]) < 0 && data[i] != '=') {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && (b64_value(data[j]) >= 0 || data[j] == '='))
			j++;
		found = run_decodes_to(data + i, j - i, f->raw, tmp);
		i = j;
	}
	free(tmp);
	return found;
}

/* ---- Static facts ----------------------------------------------------- */

int
fz_cause_valid(mailconn_cause cause)
{
	static const mailconn_cause valid[] = {
		MAILCONN_CAUSE_NONE,
		MAILCONN_CAUSE_DNS_NOT_FOUND, MAILCONN_CAUSE_DNS_TEMPORARY,
		MAILCONN_CAUSE_DNS_FAILED,
		MAILCONN_CAUSE_CONNECT_REFUSED,
		MAILCONN_CAUSE_CONNECT_UNREACHABLE,
		MAILCONN_CAUSE_CONNECT_TIMEOUT, MAILCONN_CAUSE_CONNECT_FAILED,
		MAILCONN_CAUSE_CONNECTION_CLOSED, MAILCONN_CAUSE_NETWORK_ERROR,
		MAILCONN_CAUSE_TIMEOUT,
		MAILCONN_CAUSE_TLS_HANDSHAKE, MAILCONN_CAUSE_TLS_MODE_MISMATCH,
		MAILCONN_CAUSE_TLS_VERSION, MAILCONN_CAUSE_STARTTLS_UNAVAILABLE,
		MAILCONN_CAUSE_STARTTLS_REFUSED,
		MAILCONN_CAUSE_STARTTLS_INJECTION,
		MAILCONN_CAUSE_TLS_HANDSHAKE_TIMEOUT,
		MAILCONN_CAUSE_GREETING_TIMEOUT,
		MAILCONN_CAUSE_CERT_UNTRUSTED, MAILCONN_CAUSE_CERT_EXPIRED,
		MAILCONN_CAUSE_CERT_NOT_YET_VALID, MAILCONN_CAUSE_CERT_HOSTNAME,
		MAILCONN_CAUSE_CERT_INSECURE_ALGORITHM,
		MAILCONN_CAUSE_CERT_MALFORMED, MAILCONN_CAUSE_CERT_PURPOSE,
		MAILCONN_CAUSE_CERT_PIN_MISMATCH,
		MAILCONN_CAUSE_PROTOCOL_ERROR, MAILCONN_CAUSE_WRONG_PROTOCOL,
		MAILCONN_CAUSE_GREETING_REJECTED, MAILCONN_CAUSE_LINE_TOO_LONG,
		MAILCONN_CAUSE_NO_IMAP4REV1, MAILCONN_CAUSE_MAILBOX_UNAVAILABLE,
		MAILCONN_CAUSE_SERVER_BYE, MAILCONN_CAUSE_UNEXPECTED_PREAUTH,
		MAILCONN_CAUSE_EHLO_REJECTED,
		MAILCONN_CAUSE_AUTH_REJECTED, MAILCONN_CAUSE_AUTH_TEMPORARY,
		MAILCONN_CAUSE_AUTH_APP_PASSWORD,
		MAILCONN_CAUSE_AUTH_WEB_LOGIN_REQUIRED,
		MAILCONN_CAUSE_AUTH_NOT_OFFERED,
		MAILCONN_CAUSE_AUTH_NO_MECHANISM,
		MAILCONN_CAUSE_AUTH_PRIVACY_REQUIRED,
		MAILCONN_CAUSE_AUTH_INSECURE,
		MAILCONN_CAUSE_AUTH_ACCOUNT_DISABLED,
		MAILCONN_CAUSE_AUTH_TOO_MANY_CONNECTIONS,
		MAILCONN_CAUSE_AUTH_IP_BLOCKED,
		MAILCONN_CAUSE_AUTH_PROTOCOL_DISABLED,
		MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE,
		MAILCONN_CAUSE_SENDER_REJECTED,
		MAILCONN_CAUSE_RECIPIENT_REJECTED,
		MAILCONN_CAUSE_RELAY_DENIED, MAILCONN_CAUSE_DATA_REJECTED,
		MAILCONN_CAUSE_MESSAGE_REJECTED, MAILCONN_CAUSE_SEND_TEMPORARY,
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (valid[i] == cause)
			return 1;
	return 0;
}

void
fz_check_provider(const char *provider)
{
	if (!provider)
		return;
	size_t n = strlen(provider);
	FZ_CHECK(n > 0 && n < 32, "provider id has an odd length");
	for (size_t i = 0; i < n; i++) {
		char c = provider[i];
		FZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'),
		         "provider id is not a lower-case word");
	}
	/* For an unknown id the display name is the id itself. */
	const char *name = mailconn__provider_display_name(provider);
	FZ_CHECK(name && name != provider && *name,
	         "provider id is not one of the known providers");
}

void
fz_options_from_byte(struct fz_options *o, mailconn_protocol protocol,
                     uint8_t flags)
{
	static const enum mailconn__tls_mode modes[4] = {
		MAILCONN__TLS_IMPLICIT, MAILCONN__TLS_STARTTLS,
		MAILCONN__TLS_NONE, MAILCONN__TLS_STARTTLS,
	};
	int imap = protocol == MAILCONN_PROTOCOL_IMAP;

	memset(o, 0, sizeof(*o));
	o->protocol = protocol;
	o->mode = modes[flags & 3];
	o->creds = (flags >> 2) & 3;
	o->binding = (flags >> 4) & 1;
	o->eager = (flags >> 5) & 1;
	o->send_piece = flags & 0x40 ? 3 : 0;
	/* A provider with app-password rules changes the classification. */
	if (flags & 0x80)
		o->host = imap ? "imap.gmail.com" : "smtp.gmail.com";
}

/* ---- The server's bytes ----------------------------------------------- */

/* 1 when the next item is server bytes, not a close or an abort. */
static int
stream_has_chunk(const struct fz_stream *s)
{
	if (s->n == 0)
		return 0;
	return s->split != FZ_SPLIT_RECORDS ||
	       (s->p[0] != 0 && s->p[0] != FZ_RECORD_ABORT);
}

int
fz_stream_next(struct fz_stream *s, const uint8_t **chunk, size_t *len)
{
	size_t take;

	if (s->n == 0)
		return 0;
	switch (s->split) {
	case FZ_SPLIT_LINES: {
		const uint8_t *lf = memchr(s->p, '\n', s->n);
		take = lf ? (size_t)(lf - s->p) + 1 : s->n;
		break;
	}
	case FZ_SPLIT_FIXED:
		take = s->size ? s->size : s->n;
		break;
	default:
		take = s->p[0];
		s->p++;
		s->n--;
		if (take == FZ_RECORD_ABORT)
			return -1;
		if (take == 0)
			return 0;
		break;
	}
	if (take > s->n)
		take = s->n;
	*chunk = s->p;
	*len = take;
	s->p += take;
	s->n -= take;
	return take > 0;
}

/* ---- The connection --------------------------------------------------- */

struct fz_conn {
	const struct fz_options *o;
	const struct mailconn__engine_ops *ops;
	const struct fz_creds *cr;
	void *e;

	int tls_up;
	int starttls_count;
	int eof_sent;
	int held, released;
	int stopped;                 /* DONE or FAILED seen */
	enum mailconn__action final;
	unsigned iterations;
	int login_sent;              /* LOGIN, AUTHENTICATE or AUTH went out */
	int data_end_sent;           /* "<CRLF>.<CRLF>" went out, or every
	                              * byte of a BDAT ... LAST chunk */
	unsigned long long bdat_left; /* bytes of that chunk still to go */
	mailconn_stage stage;
	size_t out_total;

	/* The client's output, line by line, as far as the checks need. */
	char head[80];
	size_t head_len;
	int head_over;
	char prev;
	char tail[5];
	/* Everything sent in plaintext in STARTTLS mode. */
	char plain[MAX_PLAINTEXT];
	size_t plain_len;
};

static int
ci_word(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word);
	if (n != k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		char a = s[i], b = word[i];
		if (a >= 'a' && a <= 'z')
			a = (char)(a - 'a' + 'A');
		if (a != b)
			return 0;
	}
	return 1;
}

/* The commands a client may send before TLS in STARTTLS mode. */
static int
allowed_before_tls(const struct fz_conn *c, const char *l, size_t n)
{
	if (c->o->protocol == MAILCONN_PROTOCOL_IMAP) {
		const char *sp = memchr(l, ' ', n);
		if (!sp || sp == l)
			return 0;
		size_t rest = n - (size_t)(sp - l) - 1;
		return ci_word(sp + 1, rest, "CAPABILITY") ||
		       ci_word(sp + 1, rest, "STARTTLS") ||
		       ci_word(sp + 1, rest, "LOGOUT") ||
		       ci_word(sp + 1, rest, "NOOP");
	}
	static const char ehlo[] = "EHLO " FZ_CLIENT_NAME;
	static const char helo[] = "HELO " FZ_CLIENT_NAME;
	if ((n == sizeof(ehlo) - 1 && ci_word(l, 4, "EHLO") &&
	     memcmp(l + 4, ehlo + 4, n - 4) == 0) ||
	    (n == sizeof(helo) - 1 && ci_word(l, 4, "HELO") &&
	     memcmp(l + 4, helo + 4, n - 4) == 0))
		return 1;
	return ci_word(l, n, "STARTTLS") || ci_word(l, n, "QUIT") ||
	       ci_word(l, n, "NOOP") || ci_word(l, n, "RSET");
}

static int
is_login_line(const struct fz_conn *c, const char *l, size_t n)
{
	if (c->o->protocol == MAILCONN_PROTOCOL_SMTP)
		return n >= 5 && ci_word(l, 5, "AUTH ");
	const char *sp = memchr(l, ' ', n);
	if (!sp)
		return 0;
	const char *cmd = sp + 1;
	size_t rest = n - (size_t)(cmd - l);
	const char *end = memchr(cmd, ' ', rest);
	size_t cn = end ? (size_t)(end - cmd) : rest;
	return ci_word(cmd, cn, "LOGIN") || ci_word(cmd, cn, "AUTHENTICATE");
}

static void
end_wire_line(struct fz_conn *c)
{
	const char *l = c->head;
	size_t n = c->head_len;
	if (n && l[n - 1] == '\r')
		n--;
	/* The head is enough to recognise a command, however long. */
	int login = is_login_line(c, l, n);
	if (login) {
		c->login_sent = 1;
		FZ_CHECK(c->tls_up || c->o->mode == MAILCONN__TLS_NONE,
		         "login command sent without TLS");
	}
	if (c->o->mode == MAILCONN__TLS_STARTTLS && !c->tls_up)
		FZ_CHECK(!c->head_over && allowed_before_tls(c, l, n),
		         "client sent more than CAPABILITY/EHLO/STARTTLS "
		         "before TLS in STARTTLS mode");
}

/* Watch the bytes the client hands to the network. */
static void
wire(struct fz_conn *c, const char *p, size_t n)
{
	int plaintext = c->o->mode == MAILCONN__TLS_STARTTLS && !c->tls_up;

	c->out_total += n;
	FZ_CHECK(c->out_total <= MAX_OUTPUT_TOTAL, "unbounded client output");
	for (size_t i = 0; i < n; i++) {
		char b = p[i];
		if (c->bdat_left > 0 && --c->bdat_left == 0)
			c->data_end_sent = 1;
		if (plaintext) {
			FZ_CHECK(c->plain_len < sizeof(c->plain),
			         "too much plaintext before TLS");
			c->plain[c->plain_len++] = b;
		}
		memmove(c->tail, c->tail + 1, sizeof(c->tail) - 1);
		c->tail[sizeof(c->tail) - 1] = b;
		if (memcmp(c->tail, "\r\n.\r\n", 5) == 0)
			c->data_end_sent = 1;
		if (b == '\n') {
			FZ_CHECK(c->prev == '\r',
			         "client line ends in a bare LF");
			/* BDAT counts bytes: its chunk follows this line. */
			char line[sizeof(c->head) + 1];
			unsigned long long size;
			char last[5];
			memcpy(line, c->head, c->head_len);
			line[c->head_len] = '\0';
			if (c->bdat_left == 0 && c->head_len > 5 &&
			    strncasecmp(line, "BDAT ", 5) == 0 &&
			    sscanf(line + 5, "%llu %4s", &size, last) == 2 &&
			    strncasecmp(last, "LAST", 4) == 0 && size > 0)
				c->bdat_left = size;
			end_wire_line(c);
			c->head_len = 0;
			c->head_over = 0;
		} else if (c->head_len < sizeof(c->head)) {
			c->head[c->head_len++] = b;
		} else {
			c->head_over = 1;
		}
		c->prev = b;
	}
	if (plaintext)
		FZ_CHECK(!fz_has_secret(c->plain, c->plain_len, c->o->creds),
		         "secret sent in plaintext before TLS (STARTTLS mode)");
}

static void
on_engine_line(void *userdata, mailconn_direction dir, const char *line,
               size_t len)
{
	struct fz_conn *c = userdata;
	const struct fz_options *o = c->o;

	FZ_CHECK(dir == MAILCONN_DIR_RECEIVED || dir == MAILCONN_DIR_SENT ||
	         dir == MAILCONN_DIR_INFO, "transcript direction out of range");
	FZ_CHECK(line != NULL, "transcript line is NULL");
	/* Length-delimited, not NUL-terminated (SMTP passes its buffer
	 * with the CR still behind the line). */
	FZ_CHECK(len <= 2 * MAILCONN__MAX_REPLY, "transcript line too long");
	if (dir == MAILCONN_DIR_SENT) {
		FZ_CHECK(!memchr(line, '\r', len) && !memchr(line, '\n', len),
		         "sent transcript line holds CR or LF");
		FZ_CHECK(!fz_has_secret(line, len, o->creds),
		         "secret in a sent transcript line");
	} else {
		/* Received lines are raw: what the server sent, echoes of
		 * the secret included (session.c scrubs them). */
		if (!o->tainted)
			FZ_CHECK(!fz_has_secret(line, len, o->creds),
			         "secret in a received transcript line");
	}
	if (verbose())
		fprintf(stderr, "  %s %.*s\n",
		        dir == MAILCONN_DIR_SENT ? "C:" :
		        dir == MAILCONN_DIR_RECEIVED ? "S:" : "I:", (int)len,
		        line);
	if (o->on_line)
		o->on_line(o->userdata, dir, line, len);
}

static void
check_running(struct fz_conn *c)
{
	mailconn_stage st = c->ops->stage(c->e);
	if (c->o->protocol == MAILCONN_PROTOCOL_IMAP)
		FZ_CHECK(st == MAILCONN_STAGE_IMAP_CONNECT ||
		         st == MAILCONN_STAGE_IMAP_LOGIN,
		         "IMAP stage out of range");
	else
		FZ_CHECK(st >= MAILCONN_STAGE_SMTP_CONNECT &&
		         st <= MAILCONN_STAGE_TEST_SEND,
		         "SMTP stage out of range");
	FZ_CHECK(st >= c->stage, "stage went backwards");
	c->stage = st;
}

static int
outcome_allowed(mailconn_protocol proto, mailconn_error o)
{
	if (proto == MAILCONN_PROTOCOL_IMAP)
		return o == MAILCONN_IMAP_SETTINGS || o == MAILCONN_IMAP_AUTH ||
		       o == MAILCONN_IMAP_VALIDATION ||
		       o == MAILCONN_UNAUTHORIZED || o == MAILCONN_APP_PASSWORD;
	return o == MAILCONN_SMTP_SETTINGS || o == MAILCONN_TEST_SEND ||
	       o == MAILCONN_UNAUTHORIZED || o == MAILCONN_APP_PASSWORD;
}

static void
check_end(struct fz_conn *c, enum mailconn__action act)
{
	const struct fz_options *o = c->o;
	const struct mailconn__failure *f = c->ops->failure(c->e);
	const char *caps = c->ops->capabilities(c->e);
	const char *mech = c->ops->mechanism(c->e);
	int imap = o->protocol == MAILCONN_PROTOCOL_IMAP;

	FZ_CHECK(f != NULL && caps != NULL && mech != NULL,
	         "engine returned NULL for a query");
	FZ_CHECK(memchr(f->detail, '\0', sizeof(f->detail)) != NULL,
	         "failure detail is not NUL-terminated");
	FZ_CHECK(memchr(f->reply, '\0', sizeof(f->reply)) != NULL,
	         "failure reply is not NUL-terminated");
	if (act == MAILCONN__ACT_DONE) {
		FZ_CHECK(f->outcome == MAILCONN_OK,
		         "DONE with a failure outcome");
		FZ_CHECK(c->login_sent, "DONE without ever logging in");
		if (o->mode != MAILCONN__TLS_NONE)
			FZ_CHECK(c->tls_up, "DONE without TLS");
		if (imap) {
			FZ_CHECK(c->stage == MAILCONN_STAGE_IMAP_LOGIN,
			         "IMAP DONE before the login stage");
			FZ_CHECK(*mech, "IMAP DONE without a mechanism");
		} else {
			FZ_CHECK(c->stage == MAILCONN_STAGE_TEST_SEND,
			         "SMTP DONE before the sending stage");
			FZ_CHECK(c->data_end_sent,
			         "SMTP DONE without sending the message");
		}
	} else {
		FZ_CHECK(outcome_allowed(o->protocol, f->outcome),
		         "failure outcome not possible for this protocol");
		FZ_CHECK(fz_cause_valid(f->cause), "failure cause undefined");
		FZ_CHECK(f->stage == c->stage,
		         "failure stage is not the current stage");
		FZ_CHECK((unsigned)f->step < MAILCONN__STEP_COUNT_,
		         "failure step out of range");
		if (f->outcome == MAILCONN_UNAUTHORIZED)
			FZ_CHECK(c->login_sent, "UNAUTHORIZED before any "
			         "credentials were sent");
		if (f->outcome == MAILCONN_TEST_SEND)
			FZ_CHECK(c->stage == MAILCONN_STAGE_TEST_SEND,
			         "TEST_SEND outside stage 5");
		if (f->cause == MAILCONN_CAUSE_STARTTLS_INJECTION)
			FZ_CHECK(o->mode == MAILCONN__TLS_STARTTLS,
			         "STARTTLS injection without STARTTLS");
		if (f->cause == MAILCONN_CAUSE_AUTH_INSECURE)
			FZ_CHECK(!c->tls_up, "AUTH_INSECURE over TLS");
		fz_check_provider(f->provider);
	}
	if (!o->tainted) {
		FZ_CHECK(!fz_has_secret(f->detail, strlen(f->detail), o->creds),
		         "secret in the failure detail");
		FZ_CHECK(!fz_has_secret(f->reply, strlen(f->reply), o->creds),
		         "secret in the failure reply");
		FZ_CHECK(!fz_has_secret(caps, strlen(caps), o->creds),
		         "secret in the capabilities");
	}
	/* engine.h: the failure texts never contain a secret, even when
	 * the server echoes it back (some quote the failed command). */
	if (c->login_sent) {
		const char *s = fz_secret(c->cr);
		FZ_CHECK(!contains(f->reply, strlen(f->reply), s, strlen(s)) &&
		         !contains(f->detail, strlen(f->detail), s, strlen(s)),
		         "failure text shows the server's echo of the secret "
		         "after login");
	}
	if (verbose())
		fprintf(stderr, "  => %s outcome=%s cause=%s stage=%d step=%s "
		        "mech=%s\n     detail: %s\n     reply: %s\n",
		        act == MAILCONN__ACT_DONE ? "DONE" : "FAILED",
		        mailconn_error_name(f->outcome),
		        mailconn_cause_name(f->cause), (int)f->stage,
		        mailconn__step_name(f->step), mech, f->detail,
		        f->reply);
}

/* Late bytes and a close after the end change nothing. */
static void
check_sticky(struct fz_conn *c, enum mailconn__action act)
{
	static const char late[] = "A1 OK late\r\n* BYE\r\n250 late\r\n";
	struct mailconn__failure *before = malloc(sizeof(*before));
	FZ_CHECK(before != NULL, "out of memory in the harness");
	memcpy(before, c->ops->failure(c->e), sizeof(*before));
	c->ops->feed(c->e, late, sizeof(late) - 1);
	c->ops->eof(c->e);
	FZ_CHECK(c->ops->next(c->e) == act, "engine left its final state");
	const char *d = NULL;
	FZ_CHECK(c->ops->output(c->e, &d) == 0, "output after the end");
	FZ_CHECK(memcmp(before, c->ops->failure(c->e), sizeof(*before)) == 0,
	         "failure changed after the end");
	free(before);
}

struct fz_conn *
fz_open(const struct fz_options *o)
{
	struct fz_conn *c = calloc(1, sizeof(*c));
	struct mailconn__engine_params p;
	int imap = o->protocol == MAILCONN_PROTOCOL_IMAP;
	int implicit = o->mode == MAILCONN__TLS_IMPLICIT;

	FZ_CHECK(c != NULL, "out of memory in the harness");
	c->o = o;
	c->ops = imap ? &mailconn__imap_engine : &mailconn__smtp_engine;
	c->cr = fz_creds(o->creds);
	c->stage = imap ? MAILCONN_STAGE_IMAP_CONNECT
	                : MAILCONN_STAGE_SMTP_CONNECT;

	memset(&p, 0, sizeof(p));
	p.tls_mode = o->mode;
	p.host = o->host ? o->host
	       : imap ? "imap.example.org" : "smtp.example.org";
	p.port = imap ? (implicit ? 993 : 143) : (implicit ? 465 : 587);
	p.username = c->cr->username;
	p.password = c->cr->password;
	p.oauth2_token = c->cr->token;
	p.on_line = on_engine_line;
	p.line_userdata = c;
	p.client_name = FZ_CLIENT_NAME;
	p.mail_from = c->cr->mail_from;
	p.rcpt_to = FZ_RCPT;
	p.message = FZ_MESSAGE;
	p.hold_before_send = !imap && o->hold;
	p.crypto = fixed_crypto(FZ_NONCE);

	c->e = c->ops->new(&p);
	FZ_CHECK(c->e != NULL, "engine creation failed");
	if (verbose())
		fprintf(stderr, "%s mode=%d creds=%u binding=%d hold=%d\n",
		        imap ? "IMAP" : "SMTP", (int)o->mode, o->creds,
		        o->binding, o->hold);
	if (implicit) {
		c->tls_up = 1;
		c->ops->tls_started(c->e, o->binding ? &binding : NULL);
	}
	return c;
}

void
fz_feed(struct fz_conn *c, const uint8_t *data, size_t len)
{
	if (c->stopped)
		return;
	c->ops->feed(c->e, (const char *)data, len);
}

void
fz_eof(struct fz_conn *c)
{
	if (c->stopped)
		return;
	c->ops->eof(c->e);
	c->eof_sent = 1;
}

void
fz_release(struct fz_conn *c)
{
	FZ_CHECK(c->held && !c->stopped, "release of an engine not held");
	c->held = 0;
	c->released = 1;
	c->ops->release(c->e);
}

/* The engine says it waits for input; is that the hold after AUTH? */
static int
check_held(struct fz_conn *c)
{
	const char *d;
	if (c->o->protocol != MAILCONN_PROTOCOL_SMTP || !c->ops->held(c->e))
		return 0;
	FZ_CHECK(c->o->hold && !c->released, "held without being asked to");
	FZ_CHECK(c->stage == MAILCONN_STAGE_SMTP_LOGIN,
	         "held outside the login stage");
	FZ_CHECK(c->login_sent, "held before logging in");
	FZ_CHECK(c->tls_up || c->o->mode == MAILCONN__TLS_NONE,
	         "held without TLS");
	FZ_CHECK(c->ops->output(c->e, &d) == 0, "held with output waiting");
	c->held = 1;
	return 1;
}

enum fz_state
fz_pump(struct fz_conn *c, struct fz_stream *in)
{
	const struct fz_options *o = c->o;
	int imap = o->protocol == MAILCONN_PROTOCOL_IMAP;

	if (c->stopped)
		return FZ_STOPPED;
	for (;;) {
		FZ_CHECK(++c->iterations < MAX_ITERATIONS,
		         "driver loop does not end");
		enum mailconn__action act = c->ops->next(c->e);
		check_running(c);
		if (act == MAILCONN__ACT_DONE || act == MAILCONN__ACT_FAILED) {
			c->stopped = 1;
			c->final = act;
			check_end(c, act);
			return FZ_STOPPED;
		}
		const char *data = NULL;
		size_t len;
		if (c->ops->failure(c->e)->outcome != MAILCONN_OK) {
			/* Only the "*" that cancels an IMAP SASL exchange may
			 * still go out once the verdict is in. */
			static const char cancel[] = "*\r\n";
			len = c->ops->output(c->e, &data);
			FZ_CHECK(imap && act == MAILCONN__ACT_SEND && len > 0 &&
			         len < sizeof(cancel) &&
			         memcmp(data, cancel + sizeof(cancel) - 1 - len,
			                len) == 0,
			         "engine goes on after recording a failure");
		}
		switch (act) {
		case MAILCONN__ACT_SEND:
			len = c->ops->output(c->e, &data);
			FZ_CHECK(len > 0 && data != NULL,
			         "SEND with nothing to send");
			FZ_CHECK(len <= MAX_OUTPUT_CHUNK, "oversized output");
			if (o->send_piece && len > o->send_piece)
				len = o->send_piece;
			wire(c, data, len);
			c->ops->output_done(c->e, len);
			/* The server does not wait for us to finish. */
			if (in && o->eager && !c->eof_sent &&
			    stream_has_chunk(in)) {
				const uint8_t *chunk;
				if (fz_stream_next(in, &chunk, &len) > 0)
					fz_feed(c, chunk, len);
			}
			break;
		case MAILCONN__ACT_NEED_INPUT:
			if (check_held(c))
				return FZ_HELD;
			FZ_CHECK(!c->eof_sent, "engine wants input after EOF");
			return FZ_WANTS_INPUT;
		case MAILCONN__ACT_START_TLS:
			FZ_CHECK(o->mode == MAILCONN__TLS_STARTTLS,
			         "START_TLS outside STARTTLS mode");
			FZ_CHECK(c->starttls_count == 0,
			         "START_TLS asked twice");
			FZ_CHECK(c->ops->output(c->e, &data) == 0,
			         "START_TLS with output still waiting");
			c->starttls_count++;
			c->tls_up = 1;
			c->ops->tls_started(c->e, o->binding ? &binding : NULL);
			break;
		default:
			FZ_CHECK(0, "action out of range");
		}
	}
}

enum mailconn__action
fz_close(struct fz_conn *c)
{
	enum mailconn__action act = MAILCONN__ACT_NEED_INPUT;
	const char *provider = NULL;

	if (c->stopped) {
		act = c->final;
		if (c->o->on_end)
			c->o->on_end(c->o->userdata, c->ops->failure(c->e),
			             c->ops->capabilities(c->e));
		check_sticky(c, act);
		provider = c->ops->failure(c->e)->provider;
	} else if (verbose()) {
		fprintf(stderr, "  => closed by the client\n");
	}
	/* Freed at any point: AddressSanitizer reports what leaks. */
	c->ops->free(c->e);
	free(c);
	/* Read again: a pointer into the freed engine would now fault. */
	fz_check_provider(provider);
	return act;
}

enum mailconn__action
fz_run(const struct fz_options *o, struct fz_stream *in)
{
	struct fz_conn *c = fz_open(o);

	for (;;) {
		enum fz_state st = fz_pump(c, in);
		if (st == FZ_STOPPED)
			break;
		if (st == FZ_HELD && !(o->eager && in->n)) {
			fz_release(c);
			continue;
		}
		/* Held and eager: what the server sends meanwhile. */
		const uint8_t *chunk;
		size_t len;
		int r = fz_stream_next(in, &chunk, &len);
		if (r > 0)
			fz_feed(c, chunk, len);
		else if (r == 0)
			fz_eof(c);
		else
			break;
	}
	return fz_close(c);
}

void
fz_one_engine(mailconn_protocol protocol, const uint8_t *data, size_t size)
{
	struct fz_options o;

	if (size < 2)
		return;
	fz_options_from_byte(&o, protocol, data[0]);
	struct fz_stream in = {
		data + 2, size - 2,
		data[1] == 0 ? FZ_SPLIT_LINES : FZ_SPLIT_FIXED,
		data[1] == 255 ? 0 : data[1],
	};
	o.tainted = fz_tainted(in.p, in.n, o.creds);
	fz_run(&o, &in);
}
