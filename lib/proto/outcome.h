/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place that decides which verification outcome a failure gets
 * when nothing more specific (the classifier reading a server reply, a
 * certificate verdict) has decided it: the stage it happened in sets it.
 */
#ifndef MAILCONN_PROTO_OUTCOME_H
#define MAILCONN_PROTO_OUTCOME_H

#include "mailconn.h"

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

#endif
