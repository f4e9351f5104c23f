/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sans-I/O SMTP submission client engine for stages 3, 4 and 5: greeting,
 * EHLO, STARTTLS, EHLO again, AUTH, MAIL FROM / RCPT TO / DATA (pipelined
 * when offered), the message, QUIT. See engine.h for the driver contract.
 */
#ifndef MAILCONN_PROTO_SMTP_H
#define MAILCONN_PROTO_SMTP_H

#include "proto/engine.h"

struct mailconn__smtp;

struct mailconn__smtp *mailconn__smtp_new(const struct mailconn__engine_params *p);
void mailconn__smtp_free(struct mailconn__smtp *e);

enum mailconn__action mailconn__smtp_next(struct mailconn__smtp *e);
void mailconn__smtp_feed(struct mailconn__smtp *e, const char *data, size_t len);
void mailconn__smtp_eof(struct mailconn__smtp *e);
size_t mailconn__smtp_output(struct mailconn__smtp *e, const char **data);
void mailconn__smtp_output_done(struct mailconn__smtp *e, size_t n);
void mailconn__smtp_tls_started(struct mailconn__smtp *e,
                                const struct mailconn__channel_binding *cb);
/* Before tls_started: the certificate was accepted unverified (the user
 * allowed an untrusted certificate), so the password must not cross in a
 * recoverable form where the server offers better (see sasl.h). */
void mailconn__smtp_tls_unverified(struct mailconn__smtp *e);

/* With params.hold_before_send, the engine stops after a successful AUTH
 * (held == 1; it still reads, so a hang-up is noticed) until released,
 * then sends the test message. */
int mailconn__smtp_held(const struct mailconn__smtp *e);
void mailconn__smtp_release(struct mailconn__smtp *e);

/* Stage now running (3, 4 or 5). */
mailconn_stage mailconn__smtp_stage(const struct mailconn__smtp *e);
const struct mailconn__failure *mailconn__smtp_failure(const struct mailconn__smtp *e);
/* EHLO extension lines after the first, as received, joined by "\n"
 * (e.g. "PIPELINING\nAUTH PLAIN LOGIN"); "" if none yet. */
const char *mailconn__smtp_capabilities(const struct mailconn__smtp *e);
const char *mailconn__smtp_mechanism(const struct mailconn__smtp *e);

#endif
