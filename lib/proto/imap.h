/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sans-I/O IMAP client engine for stages 1 and 2: greeting, CAPABILITY,
 * STARTTLS, login (LOGIN or AUTHENTICATE), EXAMINE INBOX, LOGOUT.
 * See engine.h for the driver contract.
 */
#ifndef MAILCONN_PROTO_IMAP_H
#define MAILCONN_PROTO_IMAP_H

#include "proto/engine.h"

struct mailconn__imap;

/* NULL when out of memory. `p` and its strings are borrowed. */
struct mailconn__imap *mailconn__imap_new(const struct mailconn__engine_params *p);
/* Wipes buffers (they may hold the password) and frees. NULL allowed. */
void mailconn__imap_free(struct mailconn__imap *e);

enum mailconn__action mailconn__imap_next(struct mailconn__imap *e);
/* Takes all `len` bytes (buffered internally, bounded: exceeding a limit is
 * a failure, not a partial take). */
void mailconn__imap_feed(struct mailconn__imap *e, const char *data, size_t len);
/* The server closed the connection. */
void mailconn__imap_eof(struct mailconn__imap *e);
/* Bytes waiting to be sent; pointer valid until the next call on `e`. */
size_t mailconn__imap_output(struct mailconn__imap *e, const char **data);
void mailconn__imap_output_done(struct mailconn__imap *e, size_t n);
/* TLS is up: after the STARTTLS handshake, or once before the greeting in
 * implicit mode. `cb` may be NULL. */
void mailconn__imap_tls_started(struct mailconn__imap *e,
                                const struct mailconn__channel_binding *cb);
/* Before tls_started: the certificate was accepted unverified (the user
 * allowed an untrusted certificate), so the password must not cross in a
 * recoverable form where the server offers better (see sasl.h). */
void mailconn__imap_tls_unverified(struct mailconn__imap *e);

/* Stage now running (1 or 2); the driver times and reports stages by it. */
mailconn_stage mailconn__imap_stage(const struct mailconn__imap *e);
const struct mailconn__failure *mailconn__imap_failure(const struct mailconn__imap *e);
/* Last known capabilities, space-separated, "" if none yet. */
const char *mailconn__imap_capabilities(const struct mailconn__imap *e);
/* "LOGIN", "PLAIN", "SCRAM-SHA-256", ...; "" before login. */
const char *mailconn__imap_mechanism(const struct mailconn__imap *e);

#endif
