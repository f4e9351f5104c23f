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

/* Pick the strongest mechanism from `offered` (space-separated names, any
 * case, as in IMAP "AUTH=" atoms with the prefix stripped or an SMTP AUTH
 * line). With a token only XOAUTH2/OAUTHBEARER qualify; with a password
 * SCRAM-SHA-256-PLUS (only when have_binding), SCRAM-SHA-256, PLAIN, LOGIN.
 * MAILCONN__MECH_NONE when nothing fits. */
enum mailconn__mech mailconn__sasl_choose(const char *offered, int have_password,
                                          int have_token, int have_binding);

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
