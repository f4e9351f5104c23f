/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SASL client mechanisms on decoded bytes: SCRAM-SHA-256(-PLUS) per RFC 5802
 * and RFC 7677 with the crypto table the caller hands in, PLAIN, LOGIN,
 * XOAUTH2 and OAUTHBEARER.
 */
#include "proto/sasl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/b64.h"

#define SCRAM_HASH_LEN MAILCONN__SHA256_LEN
/* Iterations beyond this would let a server burn our CPU for seconds. */
#define SCRAM_MAX_ITERATIONS 1000000u
/* Bound on every buffer the exchange keeps (names, nonces, messages). */
#define SASL_MAX_MESSAGE 16384
#define SASL_MAX_NONCE 256

enum sasl_state {
	ST_INIT = 0,
	ST_STARTED,        /* initial response produced */
	ST_SCRAM_FINAL,    /* client-final sent, awaiting server-final */
	ST_LOGIN_PASSWORD, /* LOGIN: username sent, password next */
	ST_FINISHED,       /* nothing more to send */
	ST_ERROR
};

struct mailconn__sasl {
	enum mailconn__mech mech;
	enum sasl_state state;
	mailconn_cause cause;
	int verified;
	char *authcid;
	char *secret;
	char *host;
	int port;
	char *cb_type;               /* NULL: no channel binding available */
	unsigned char *cb_data;
	size_t cb_len;
	const struct mailconn__crypto *crypto;
	char *nonce;                 /* client nonce */
	struct mailconn__buf first_bare;
	unsigned char server_signature[SCRAM_HASH_LEN];
};

static const char *const mech_names[] = {
	[MAILCONN__MECH_NONE] = "",
	[MAILCONN__MECH_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
	[MAILCONN__MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[MAILCONN__MECH_PLAIN] = "PLAIN",
	[MAILCONN__MECH_LOGIN] = "LOGIN",
	[MAILCONN__MECH_XOAUTH2] = "XOAUTH2",
	[MAILCONN__MECH_OAUTHBEARER] = "OAUTHBEARER",
};

const char *
mailconn__mech_name(enum mailconn__mech m)
{
	if ((unsigned)m >= sizeof(mech_names) / sizeof(mech_names[0]))
		return "";
	return mech_names[m];
}

enum mailconn__mech
mailconn__mech_from_name(const char *p, size_t n)
{
	for (size_t m = 1; m < sizeof(mech_names) / sizeof(mech_names[0]); m++)
		if (mailconn__ascii_ieq(p, n, mech_names[m]))
			return (enum mailconn__mech)m;
	return MAILCONN__MECH_NONE;
}

int
mailconn__mech_usable(const char *p, size_t n)
{
	return mailconn__mech_from_name(p, n) != MAILCONN__MECH_NONE;
}

/* 1 when `name` appears as a whole space-separated token of `offered`. */
static int
offered_has(const char *offered, const char *name)
{
	const char *p = offered;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (mailconn__ascii_ieq(start, (size_t)(p - start), name))
			return 1;
	}
	return 0;
}

enum mailconn__mech
mailconn__sasl_choose(const char *offered, int have_password, int have_token,
                      int have_binding)
{
	struct mailconn__mech_policy pol = {
		.have_password = have_password, .have_token = have_token,
		.have_binding = have_binding, .exposed = 1,
	};
	return mailconn__sasl_pick(offered, &pol);
}

/* Calls `fn` with each item of a comma-separated list, spaces around
 * items trimmed; stops early when `fn` returns nonzero and returns that. */
static int
each_listed(const char *list, int (*fn)(void *arg, const char *p, size_t n),
            void *arg)
{
	const char *p = list;
	for (;;) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && end[-1] == ' ')
			end--;
		int rc = fn(arg, start, (size_t)(end - start));
		if (rc || !*p)
			return rc;
		p++;
	}
}

struct list_check {
	unsigned seen;
	int count;
};

static int
check_item(void *arg, const char *p, size_t n)
{
	struct list_check *lc = arg;
	enum mailconn__mech m = mailconn__mech_from_name(p, n);
	if (m == MAILCONN__MECH_NONE || (lc->seen & (1u << m)))
		return -1;
	lc->seen |= 1u << m;
	lc->count++;
	return 0;
}

int
mailconn__mech_list_valid(const char *list)
{
	struct list_check lc = { 0, 0 };
	if (!list)
		return 0;
	return each_listed(list, check_item, &lc) == 0 && lc.count > 0;
}

struct list_find {
	enum mailconn__mech want;
};

static int
find_item(void *arg, const char *p, size_t n)
{
	struct list_find *lf = arg;
	return mailconn__mech_from_name(p, n) == lf->want;
}

int
mailconn__mech_allowed(const char *order, enum mailconn__mech m)
{
	struct list_find lf = { m };
	if (!order)
		return 1;
	return each_listed(order, find_item, &lf) == 1;
}

enum mailconn__mech
mailconn__mech_unbound(enum mailconn__mech m)
{
	return m == MAILCONN__MECH_SCRAM_SHA_256_PLUS ? MAILCONN__MECH_SCRAM_SHA_256
	                                              : MAILCONN__MECH_NONE;
}

static int
is_token_mech(enum mailconn__mech m)
{
	return m == MAILCONN__MECH_XOAUTH2 || m == MAILCONN__MECH_OAUTHBEARER;
}

/* 1 when `m` can be used at all under `pol` and is offered. */
static int
fits(enum mailconn__mech m, const char *offered,
     const struct mailconn__mech_policy *pol)
{
	if (m == MAILCONN__MECH_SCRAM_SHA_256_PLUS && !pol->have_binding)
		return 0;
	if (is_token_mech(m) ? !pol->have_token : !pol->have_password)
		return 0;
	return offered_has(offered, mech_names[m]);
}

struct list_pick {
	const char *offered;
	const struct mailconn__mech_policy *pol;
	enum mailconn__mech found;
};

static int
pick_item(void *arg, const char *p, size_t n)
{
	struct list_pick *lp = arg;
	enum mailconn__mech m = mailconn__mech_from_name(p, n);
	if (m == MAILCONN__MECH_NONE || !fits(m, lp->offered, lp->pol))
		return 0;
	lp->found = m;
	return 1;
}

enum mailconn__mech
mailconn__sasl_pick(const char *offered, const struct mailconn__mech_policy *pol)
{
	static const enum mailconn__mech token_order[] = {
		MAILCONN__MECH_OAUTHBEARER, MAILCONN__MECH_XOAUTH2,
	};
	static const enum mailconn__mech exposed_order[] = {
		MAILCONN__MECH_SCRAM_SHA_256_PLUS, MAILCONN__MECH_SCRAM_SHA_256,
		MAILCONN__MECH_PLAIN, MAILCONN__MECH_LOGIN,
	};
	static const enum mailconn__mech verified_order[] = {
		MAILCONN__MECH_PLAIN, MAILCONN__MECH_LOGIN,
		MAILCONN__MECH_SCRAM_SHA_256_PLUS, MAILCONN__MECH_SCRAM_SHA_256,
	};
	if (!offered || !pol)
		return MAILCONN__MECH_NONE;
	if (pol->order) {
		struct list_pick lp = { offered, pol, MAILCONN__MECH_NONE };
		each_listed(pol->order, pick_item, &lp);
		return lp.found;
	}
	/* A token, when there is one, is what the caller means us to use. */
	if (pol->have_token) {
		for (size_t i = 0; i < 2; i++)
			if (fits(token_order[i], offered, pol))
				return token_order[i];
	}
	const enum mailconn__mech *order = pol->exposed ? exposed_order
	                                                : verified_order;
	for (size_t i = 0; i < 4; i++)
		if (fits(order[i], offered, pol))
			return order[i];
	return MAILCONN__MECH_NONE;
}

static int
is_scram(enum mailconn__mech m)
{
	return m == MAILCONN__MECH_SCRAM_SHA_256 ||
	       m == MAILCONN__MECH_SCRAM_SHA_256_PLUS;
}

struct mailconn__sasl *
mailconn__sasl_new(enum mailconn__mech m, const char *authcid,
                   const char *secret, const char *host, int port,
                   const struct mailconn__channel_binding *cb,
                   const struct mailconn__crypto *crypto)
{
	struct mailconn__sasl *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->mech = m;
	s->port = port;
	mailconn__buf_init(&s->first_bare, SASL_MAX_MESSAGE);
	s->authcid = mailconn__strdup(authcid ? authcid : "");
	s->secret = mailconn__strdup(secret ? secret : "");
	s->host = mailconn__strdup(host);
	if (!s->authcid || !s->secret || (host && !s->host))
		goto fail;
	if (cb && cb->type && cb->data && cb->len > 0) {
		s->cb_type = mailconn__strdup(cb->type);
		s->cb_data = malloc(cb->len);
		if (!s->cb_type || !s->cb_data)
			goto fail;
		memcpy(s->cb_data, cb->data, cb->len);
		s->cb_len = cb->len;
	}
	s->crypto = crypto;
	if (is_scram(m)) {
		char nonce[MAILCONN__NONCE_MAX];
		if (crypto && crypto->nonce(nonce, sizeof(nonce)) == 0)
			s->nonce = mailconn__strdup(nonce);
		mailconn__wipe(nonce, sizeof(nonce));
	}
	if (is_scram(m) && !s->nonce)
		goto fail;
	return s;
fail:
	mailconn__sasl_free(s);
	return NULL;
}

void
mailconn__sasl_free(struct mailconn__sasl *s)
{
	if (!s)
		return;
	mailconn__free_secret(s->authcid);
	mailconn__free_secret(s->secret);
	free(s->host);
	free(s->cb_type);
	if (s->cb_data) {
		mailconn__wipe(s->cb_data, s->cb_len);
		free(s->cb_data);
	}
	mailconn__free_secret(s->nonce);
	mailconn__buf_free(&s->first_bare);
	mailconn__wipe(s, sizeof(*s));
	free(s);
}

static enum mailconn__sasl_status
sasl_fail(struct mailconn__sasl *s, mailconn_cause cause)
{
	s->state = ST_ERROR;
	s->cause = cause;
	return MAILCONN__SASL_ERROR;
}

/* Map a buffer error (out of memory or over the caller's limit) to ERROR;
 * neither is the server's fault, so the cause stays generic. */
static enum mailconn__sasl_status
sasl_buf_fail(struct mailconn__sasl *s, struct mailconn__buf *out)
{
	mailconn__buf_clear(out);
	return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
}

/* RFC 5802 saslname: ',' and '=' must be escaped as "=2C" and "=3D". */
static int
append_saslname(struct mailconn__buf *out, const char *name)
{
	for (const char *p = name; *p; p++) {
		int rc;
		if (*p == ',')
			rc = mailconn__buf_append(out, "=2C", 3);
		else if (*p == '=')
			rc = mailconn__buf_append(out, "=3D", 3);
		else
			rc = mailconn__buf_append(out, p, 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* GS2 header (RFC 5802 section 7): "p=<type>,," when binding, "y,," when we
 * could bind but the server did not offer -PLUS (lets a server that does
 * support -PLUS detect the downgrade), "n,," when we cannot bind. */
static int
append_gs2_header(const struct mailconn__sasl *s, struct mailconn__buf *out)
{
	if (s->mech == MAILCONN__MECH_SCRAM_SHA_256_PLUS) {
		int rc = mailconn__buf_append_str(out, "p=");
		if (!rc)
			rc = mailconn__buf_append_str(out, s->cb_type);
		if (!rc)
			rc = mailconn__buf_append_str(out, ",,");
		return rc;
	}
	return mailconn__buf_append_str(out, s->cb_type ? "y,," : "n,,");
}

static int
nonce_valid(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c > 0x7e || c == ',')
			return 0;
	}
	return 1;
}

static enum mailconn__sasl_status
scram_start(struct mailconn__sasl *s, struct mailconn__buf *out)
{
	if (s->mech == MAILCONN__MECH_SCRAM_SHA_256_PLUS && !s->cb_type)
		return sasl_fail(s, MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	if (strlen(s->nonce) > SASL_MAX_NONCE ||
	    !nonce_valid(s->nonce, strlen(s->nonce)))
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);

	/* No SASLprep: the user name and password are used as the UTF-8 the
	 * user typed. That equals SASLprep for ASCII and for most UTF-8, and
	 * is what many clients do; a server that maps differently refuses
	 * the proof instead of us guessing. */
	mailconn__buf_clear(&s->first_bare);
	int rc = mailconn__buf_append_str(&s->first_bare, "n=");
	if (!rc)
		rc = append_saslname(&s->first_bare, s->authcid);
	if (!rc)
		rc = mailconn__buf_append_str(&s->first_bare, ",r=");
	if (!rc)
		rc = mailconn__buf_append_str(&s->first_bare, s->nonce);
	if (rc)
		return sasl_buf_fail(s, out);

	rc = append_gs2_header(s, out);
	if (!rc)
		rc = mailconn__buf_append(out, s->first_bare.data,
		                          s->first_bare.len);
	if (rc)
		return sasl_buf_fail(s, out);
	s->state = ST_STARTED;
	return MAILCONN__SASL_CONTINUE;
}

enum mailconn__sasl_status
mailconn__sasl_start(struct mailconn__sasl *s, struct mailconn__buf *out)
{
	int rc = 0;

	if (s->state != ST_INIT)
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	switch (s->mech) {
	case MAILCONN__MECH_SCRAM_SHA_256_PLUS:
	case MAILCONN__MECH_SCRAM_SHA_256:
		return scram_start(s, out);
	case MAILCONN__MECH_PLAIN:
		/* Empty authzid: act as the user we authenticate as. */
		rc = mailconn__buf_append(out, "", 1);
		if (!rc)
			rc = mailconn__buf_append_str(out, s->authcid);
		if (!rc)
			rc = mailconn__buf_append(out, "", 1);
		if (!rc)
			rc = mailconn__buf_append_str(out, s->secret);
		break;
	case MAILCONN__MECH_LOGIN:
		/* No initial response; the username answers the first
		 * challenge. */
		s->state = ST_STARTED;
		return MAILCONN__SASL_CONTINUE;
	case MAILCONN__MECH_XOAUTH2:
		rc = mailconn__buf_append_str(out, "user=");
		if (!rc)
			rc = mailconn__buf_append_str(out, s->authcid);
		if (!rc)
			rc = mailconn__buf_append_str(out,
			                              "\x01" "auth=Bearer ");
		if (!rc)
			rc = mailconn__buf_append_str(out, s->secret);
		if (!rc)
			rc = mailconn__buf_append_str(out, "\x01\x01");
		break;
	case MAILCONN__MECH_OAUTHBEARER:
		/* RFC 7628: host and port are optional; sent when known. */
		rc = mailconn__buf_append_str(out, "n,a=");
		if (!rc)
			rc = append_saslname(out, s->authcid);
		if (!rc)
			rc = mailconn__buf_append_str(out, ",\x01");
		if (!rc && s->host)
			rc = mailconn__buf_printf(out, "host=%s\x01", s->host);
		if (!rc && s->port > 0 && s->port <= 65535)
			rc = mailconn__buf_printf(out, "port=%d\x01", s->port);
		if (!rc)
			rc = mailconn__buf_append_str(out, "auth=Bearer ");
		if (!rc)
			rc = mailconn__buf_append_str(out, s->secret);
		if (!rc)
			rc = mailconn__buf_append_str(out, "\x01\x01");
		break;
	default:
		return sasl_fail(s, MAILCONN_CAUSE_AUTH_NO_MECHANISM);
	}
	if (rc)
		return sasl_buf_fail(s, out);
	s->state = ST_FINISHED;
	return MAILCONN__SASL_DONE;
}

/* One "x=value" attribute of a SCRAM message, split at ','. */
struct attr {
	char name;
	const char *val;
	size_t len;
};

/* Split a SCRAM message into attributes; -1 when it is not a sequence of
 * "letter=value" separated by ','. */
static int
split_attrs(const unsigned char *msg, size_t len, struct attr *attrs,
            size_t max, size_t *count)
{
	size_t n = 0, i = 0;
	if (len == 0)
		return -1;
	while (i <= len) {
		size_t j = i;
		while (j < len && msg[j] != ',')
			j++;
		if (n == max || j - i < 2 || msg[i + 1] != '=')
			return -1;
		unsigned char c = msg[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return -1;
		attrs[n].name = (char)c;
		attrs[n].val = (const char *)msg + i + 2;
		attrs[n].len = j - i - 2;
		n++;
		i = j + 1;
	}
	*count = n;
	return 0;
}

static int
parse_iterations(const char *p, size_t n, unsigned *out)
{
	/* posit-number: no sign, no leading zero; the cap keeps it short. */
	if (n == 0 || n > 7 || p[0] < '1' || p[0] > '9')
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > SCRAM_MAX_ITERATIONS)
		return -1;
	*out = v;
	return 0;
}

/* The client-final message without proof; also the tail of AuthMessage. */
static int
append_final_without_proof(const struct mailconn__sasl *s, const char *nonce,
                           size_t nonce_len, struct mailconn__buf *out)
{
	struct mailconn__buf cbind;
	mailconn__buf_init(&cbind, SASL_MAX_MESSAGE);
	int rc = append_gs2_header(s, &cbind);
	if (!rc && s->mech == MAILCONN__MECH_SCRAM_SHA_256_PLUS)
		rc = mailconn__buf_append(&cbind, s->cb_data, s->cb_len);
	if (!rc)
		rc = mailconn__buf_append_str(out, "c=");
	if (!rc)
		rc = mailconn__b64_encode((const unsigned char *)cbind.data,
		                          cbind.len, out);
	if (!rc)
		rc = mailconn__buf_append_str(out, ",r=");
	if (!rc)
		rc = mailconn__buf_append(out, nonce, nonce_len);
	mailconn__buf_free(&cbind);
	return rc;
}

static enum mailconn__sasl_status
scram_server_first(struct mailconn__sasl *s, const unsigned char *msg,
                   size_t len, struct mailconn__buf *out)
{
	struct attr a[16];
	size_t n;
	unsigned iterations;

	if (memchr(msg, '\0', len) || split_attrs(msg, len, a, 16, &n) ||
	    n < 3)
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	/* "m=" announces a mandatory extension we cannot honour. */
	if (a[0].name == 'm' || a[0].name != 'r' || a[1].name != 's' ||
	    a[2].name != 'i')
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	size_t cn = strlen(s->nonce);
	if (a[0].len <= cn || memcmp(a[0].val, s->nonce, cn) != 0 ||
	    !nonce_valid(a[0].val, a[0].len))
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	if (parse_iterations(a[2].val, a[2].len, &iterations))
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);

	struct mailconn__buf salt, auth_msg, final;
	mailconn__buf_init(&salt, SASL_MAX_MESSAGE);
	mailconn__buf_init(&auth_msg, 3 * SASL_MAX_MESSAGE);
	mailconn__buf_init(&final, SASL_MAX_MESSAGE);
	unsigned char salted[SCRAM_HASH_LEN], client_key[SCRAM_HASH_LEN];
	unsigned char stored_key[SCRAM_HASH_LEN], client_sig[SCRAM_HASH_LEN];
	unsigned char server_key[SCRAM_HASH_LEN], proof[SCRAM_HASH_LEN];
	enum mailconn__sasl_status st = MAILCONN__SASL_ERROR;

	if (mailconn__b64_decode(a[1].val, a[1].len, &salt) || salt.len == 0)
		goto done;

	int rc = append_final_without_proof(s, a[0].val, a[0].len, &final);
	if (!rc)
		rc = mailconn__buf_append(&auth_msg, s->first_bare.data,
		                          s->first_bare.len);
	if (!rc)
		rc = mailconn__buf_append(&auth_msg, ",", 1);
	if (!rc)
		rc = mailconn__buf_append(&auth_msg, msg, len);
	if (!rc)
		rc = mailconn__buf_append(&auth_msg, ",", 1);
	if (!rc)
		rc = mailconn__buf_append(&auth_msg, final.data, final.len);
	if (rc)
		goto done;

	const struct mailconn__crypto *c = s->crypto;
	if (c->pbkdf2_sha256(s->secret, strlen(s->secret), salt.data, salt.len,
	                     iterations, salted, sizeof(salted)) ||
	    c->hmac_sha256(salted, sizeof(salted), "Client Key", 10,
	                   client_key) ||
	    c->sha256(client_key, sizeof(client_key), stored_key) ||
	    c->hmac_sha256(stored_key, sizeof(stored_key), auth_msg.data,
	                   auth_msg.len, client_sig) ||
	    c->hmac_sha256(salted, sizeof(salted), "Server Key", 10,
	                   server_key) ||
	    c->hmac_sha256(server_key, sizeof(server_key), auth_msg.data,
	                   auth_msg.len, s->server_signature))
		goto done;
	for (size_t i = 0; i < SCRAM_HASH_LEN; i++)
		proof[i] = client_key[i] ^ client_sig[i];

	rc = mailconn__buf_append(out, final.data, final.len);
	if (!rc)
		rc = mailconn__buf_append_str(out, ",p=");
	if (!rc)
		rc = mailconn__b64_encode(proof, sizeof(proof), out);
	if (rc) {
		mailconn__buf_clear(out);
		goto done;
	}
	s->state = ST_SCRAM_FINAL;
	st = MAILCONN__SASL_CONTINUE;
done:
	mailconn__wipe(salted, sizeof(salted));
	mailconn__wipe(client_key, sizeof(client_key));
	mailconn__wipe(stored_key, sizeof(stored_key));
	mailconn__wipe(client_sig, sizeof(client_sig));
	mailconn__wipe(server_key, sizeof(server_key));
	mailconn__wipe(proof, sizeof(proof));
	mailconn__buf_free(&salt);
	mailconn__buf_free(&auth_msg);
	mailconn__buf_free(&final);
	if (st == MAILCONN__SASL_ERROR)
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	return st;
}

static enum mailconn__sasl_status
scram_server_final(struct mailconn__sasl *s, const unsigned char *msg,
                   size_t len)
{
	struct attr a[16];
	size_t n;

	if (memchr(msg, '\0', len) || split_attrs(msg, len, a, 16, &n))
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	if (a[0].name == 'e')
		return sasl_fail(s, MAILCONN_CAUSE_AUTH_REJECTED);
	if (a[0].name != 'v')
		return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);

	struct mailconn__buf sig;
	mailconn__buf_init(&sig, 64);
	int ok = mailconn__b64_decode(a[0].val, a[0].len, &sig) == 0 &&
	         sig.len == SCRAM_HASH_LEN &&
	         mailconn__mem_equal_ct(sig.data, s->server_signature,
	                                SCRAM_HASH_LEN);
	mailconn__buf_free(&sig);
	mailconn__wipe(s->server_signature, sizeof(s->server_signature));
	if (!ok)
		return sasl_fail(s, MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	s->verified = 1;
	s->state = ST_FINISHED;
	return MAILCONN__SASL_DONE;
}

enum mailconn__sasl_status
mailconn__sasl_step(struct mailconn__sasl *s, const unsigned char *challenge,
                    size_t len, struct mailconn__buf *out)
{
	if (s->state == ST_ERROR)
		return MAILCONN__SASL_ERROR;
	/* A server without initial-response support asks with an empty
	 * challenge first; LOGIN has no initial response at all. */
	if (s->state == ST_INIT) {
		if (s->mech == MAILCONN__MECH_LOGIN)
			s->state = ST_STARTED;
		else if (len == 0)
			return mailconn__sasl_start(s, out);
		else
			return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
	}

	switch (s->mech) {
	case MAILCONN__MECH_SCRAM_SHA_256_PLUS:
	case MAILCONN__MECH_SCRAM_SHA_256:
		if (s->state == ST_STARTED)
			return scram_server_first(s, challenge, len, out);
		if (s->state == ST_SCRAM_FINAL)
			return scram_server_final(s, challenge, len);
		break;
	case MAILCONN__MECH_LOGIN:
		/* Answer by position: servers word the prompts differently
		 * ("Username:", "User Name", localised...). */
		if (s->state == ST_STARTED) {
			if (mailconn__buf_append_str(out, s->authcid))
				return sasl_buf_fail(s, out);
			s->state = ST_LOGIN_PASSWORD;
			return MAILCONN__SASL_CONTINUE;
		}
		if (s->state == ST_LOGIN_PASSWORD) {
			if (mailconn__buf_append_str(out, s->secret))
				return sasl_buf_fail(s, out);
			s->state = ST_FINISHED;
			return MAILCONN__SASL_DONE;
		}
		break;
	case MAILCONN__MECH_XOAUTH2:
		/* A challenge after the token is Google's JSON error: answer
		 * empty so the server sends its final refusal. */
		if (s->state == ST_FINISHED && s->cause == MAILCONN_CAUSE_NONE) {
			s->cause = MAILCONN_CAUSE_AUTH_REJECTED;
			return MAILCONN__SASL_DONE;
		}
		break;
	case MAILCONN__MECH_OAUTHBEARER:
		/* RFC 7628 section 3.2.3: a lone %x01 completes the failed
		 * exchange. */
		if (s->state == ST_FINISHED && s->cause == MAILCONN_CAUSE_NONE) {
			if (mailconn__buf_append(out, "\x01", 1))
				return sasl_buf_fail(s, out);
			s->cause = MAILCONN_CAUSE_AUTH_REJECTED;
			return MAILCONN__SASL_DONE;
		}
		break;
	default:
		break;
	}
	/* A challenge where the mechanism has nothing left to say. */
	return sasl_fail(s, MAILCONN_CAUSE_PROTOCOL_ERROR);
}

int
mailconn__sasl_server_verified(const struct mailconn__sasl *s)
{
	if (is_scram(s->mech))
		return s->verified;
	/* The other mechanisms do not authenticate the server. */
	return s->state != ST_ERROR;
}

mailconn_cause
mailconn__sasl_error_cause(const struct mailconn__sasl *s)
{
	return s->cause;
}
