/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place that decides which verification outcome a failure gets
 * when nothing more specific (the classifier reading a server reply, a
 * certificate verdict) has decided it: the stage it happened in sets it.
 * It also diagnoses TLS trouble (a refused handshake, a port in the
 * other TLS mode) from plain facts the driver hands over, so the words a
 * user reads can be tested without a socket.
 */
#ifndef MAILCONN_PROTO_OUTCOME_H
#define MAILCONN_PROTO_OUTCOME_H

#include <stddef.h>

#include "mailconn.h"
#include "proto/engine.h"

/* The outcome of a failure in `stage` of `protocol` without a finer
 * verdict: before or while connecting it is a settings problem; after
 * the IMAP login it is validation; in stage 5 it is TEST_SEND. A stage of
 * NONE (nothing started yet) counts as the protocol's connect stage. */
mailconn_error mailconn__stage_outcome(mailconn_protocol protocol,
                                       mailconn_stage stage);

/* Why TLS failed, in words that name no TLS library: the driver's TLS
 * layer sorts its error codes and alerts into these. */
enum mailconn__tls_fault_kind {
	MAILCONN__TLS_FAULT_OTHER = 0,
	MAILCONN__TLS_FAULT_CLOSED,        /* the link broke or closed mid-handshake */
	MAILCONN__TLS_FAULT_VERSION,       /* no TLS 1.2+ with a secure cipher in common */
	MAILCONN__TLS_FAULT_ALERT,         /* the server sent a fatal alert */
	MAILCONN__TLS_FAULT_ALERT_VERSION, /* an alert refusing our versions or ciphers */
	MAILCONN__TLS_FAULT_ALERT_CLIENT_CERT /* an alert for the missing client
	                                        * certificate */
};

struct mailconn__tls_fault {
	enum mailconn__tls_fault_kind kind;
	const char *alert;           /* the alert's name for ALERT kinds; may be NULL */
	const char *text;            /* the TLS library's words for the error */
};

/* Where the connection stood when TLS went wrong. */
struct mailconn__link {
	mailconn_protocol protocol;
	mailconn_stage stage;
	int port;
	int starttls;                /* TLS was to upgrade a plaintext link */
	const char *peer;            /* "address:port" connected to */
};

/* A TLS handshake failed with `fault`, the server having sent `first`
 * (`n` bytes, possibly none). Fills stage, outcome, cause and detail of
 * `out` and clears the rest. */
void mailconn__diagnose_handshake(const struct mailconn__link *link,
                                  const struct mailconn__tls_fault *fault,
                                  const char *first, size_t n,
                                  struct mailconn__failure *out);

/* A read on an established TLS session failed with `fault`: 1 with `out`
 * filled when a server alert explains it, else 0 (a plain network error)
 * and `out` untouched. */
int mailconn__diagnose_tls_alert(const struct mailconn__link *link,
                                 const struct mailconn__tls_fault *fault,
                                 struct mailconn__failure *out);

/* The first bytes a server sent on a plaintext link: 1 with `out` filled
 * when they are TLS, so the port wants TLS from the start; else 0. */
int mailconn__diagnose_plaintext(const struct mailconn__link *link,
                                 const char *first, size_t n,
                                 struct mailconn__failure *out);

#endif
