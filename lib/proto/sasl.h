/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SASL client mechanisms over byte buffers, shared by IMAP AUTHENTICATE
 * and SMTP AUTH: SCRAM-SHA-256(-PLUS), PLAIN, LOGIN, XOAUTH2, OAUTHBEARER.
 * Works on decoded bytes; base64 framing is the caller's (see b64.h).
 */
#ifndef MAILCONN_PROTO_SASL_H
#define MAILCONN_PROTO_SASL_H

#include <stddef.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "proto/engine.h"

enum mailconn__mech {
	MAILCONN__MECH_NONE = 0,
	MAILCONN__MECH_SCRAM_SHA_256_PLUS,
	MAILCONN__MECH_SCRAM_SHA_256,
	MAILCONN__MECH_PLAIN,
	MAILCONN__MECH_LOGIN,
	MAILCONN__MECH_XOAUTH2,
	MAILCONN__MECH_OAUTHBEARER
};

/* "SCRAM-SHA-256", "PLAIN", ... */
const char *mailconn__mech_name(enum mailconn__mech m);
/* The mechanism named p[0..n) (any case), or MAILCONN__MECH_NONE when we
 * cannot log in with it. */
enum mailconn__mech mailconn__mech_from_name(const char *p, size_t n);
/* 1 when p[0..n) names a mechanism this library can log in with; the
 * classifier asks, to tell "no usable mechanism" from a refusal. */
int mailconn__mech_usable(const char *p, size_t n);

/* Which mechanism to log in with, beyond what the server offers. */
struct mailconn__mech_policy {
	int have_password, have_token, have_binding;
	/* The password could reach an interceptor: the certificate was
	 * accepted without being verified, or the connection is plaintext by
	 * the user's choice. Then SCRAM (which never sends the password in a
	 * recoverable form) goes first; otherwise PLAIN, the one mechanism
	 * that logs in within one round trip. */
	int exposed;
	/* The caller's comma-separated list (MAILCONN_OPT_MECHANISMS), or
	 * NULL: when set, only these, in this order. */
	const char *order;
};

/* The first mechanism of the policy's order that `offered` holds
 * (space-separated names, any case, as in IMAP "AUTH=" atoms with the
 * prefix stripped or an SMTP AUTH line). Without a list: with a token
 * OAUTHBEARER, XOAUTH2; with a password, when exposed,
 * SCRAM-SHA-256-PLUS (only when have_binding), SCRAM-SHA-256, PLAIN,
 * LOGIN, and otherwise PLAIN, LOGIN, SCRAM-SHA-256-PLUS, SCRAM-SHA-256.
 * MAILCONN__MECH_NONE when nothing fits. */
enum mailconn__mech mailconn__sasl_pick(const char *offered,
                                        const struct mailconn__mech_policy *pol);
/* mailconn__sasl_pick for an exposed line without a list. */
enum mailconn__mech mailconn__sasl_choose(const char *offered, int have_password,
                                          int have_token, int have_binding);
/* 1 when the caller's list `order` (NULL: no list) permits `m`. */
int mailconn__mech_allowed(const char *order, enum mailconn__mech m);
/* 1 when `list` is a valid MAILCONN_OPT_MECHANISMS value: 1 to 6 known
 * mechanism names separated by commas (spaces around them allowed),
 * none twice. */
int mailconn__mech_list_valid(const char *list);

/* The mechanism to try once more after a channel-binding mechanism was
 * refused (SCRAM-SHA-256 after SCRAM-SHA-256-PLUS), or NONE. */
enum mailconn__mech mailconn__mech_unbound(enum mailconn__mech m);

struct mailconn__sasl;

/* `authcid` = login name, `secret` = password or token (copied, wiped on
 * free), `host`/`port` for OAUTHBEARER, `cb` for -PLUS (may be NULL),
 * `crypto` for SCRAM's nonce and hashes (borrowed; SCRAM fails to start
 * without it, the other mechanisms need none). NULL when out of memory
 * or when no nonce could be had. */
struct mailconn__sasl *mailconn__sasl_new(enum mailconn__mech m,
                                          const char *authcid,
                                          const char *secret,
                                          const char *host, int port,
                                          const struct mailconn__channel_binding *cb,
                                          const struct mailconn__crypto *crypto);
void mailconn__sasl_free(struct mailconn__sasl *s);

enum mailconn__sasl_status {
	MAILCONN__SASL_CONTINUE = 0, /* send `out`, expect another challenge */
	MAILCONN__SASL_DONE,         /* nothing more to send; await the verdict */
	MAILCONN__SASL_ERROR         /* bad challenge or server signature; see cause */
};

/* Produce the initial response (into `out`, decoded bytes; may be empty
 * for mechanisms with none, e.g. LOGIN). */
enum mailconn__sasl_status mailconn__sasl_start(struct mailconn__sasl *s,
                                                struct mailconn__buf *out);
/* Answer one decoded server challenge. */
enum mailconn__sasl_status mailconn__sasl_step(struct mailconn__sasl *s,
                                               const unsigned char *challenge,
                                               size_t len,
                                               struct mailconn__buf *out);
/* After the server said success: 1 if the mechanism is satisfied (SCRAM:
 * the server signature was received and verified), 0 otherwise. */
int mailconn__sasl_server_verified(const struct mailconn__sasl *s);
/* Cause behind MAILCONN__SASL_ERROR (e.g. MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE). */
mailconn_cause mailconn__sasl_error_cause(const struct mailconn__sasl *s);

#endif
