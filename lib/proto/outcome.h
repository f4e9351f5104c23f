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

#endif
