/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The part of a line-based command/reply engine that does not depend on
 * which protocol it speaks: CRLF line framing under hard limits, the
 * transcript with echoed secrets scrubbed out, the failure record, and
 * asking the classifier about a refusal. imap.c and smtp.c each embed
 * one and keep only their protocol's grammar and sequencing.
 */
#ifndef MAILCONN_PROTO_PINGPONG_H
#define MAILCONN_PROTO_PINGPONG_H

#include <stdarg.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/scrub.h"
#include "proto/classify.h"
#include "proto/engine.h"

struct mailconn__pp {
	mailconn__line_fn on_line;
	void *line_userdata;
	const char *host;               /* borrowed, for provider recognition */

	/* Received bytes not yet handed out: never more than one maximal
	 * line and its CRLF, so a line without an end fails instead of
	 * growing memory. */
	struct mailconn__buf in;
	size_t scanned;                 /* bytes of `in` already searched */
	struct mailconn__buf line;      /* the line handed out, NUL-terminated */

	struct mailconn__scrub secrets; /* the password or token, raw and base64 */
	struct mailconn__buf scrubbed;

	struct mailconn__failure failure;
};

/* Learns the secrets in `p` (borrowing its strings). 0, or -1 when out
 * of memory; mailconn__pp_free is needed either way. */
int mailconn__pp_init(struct mailconn__pp *pp,
                      const struct mailconn__engine_params *p);
/* Wipes everything that may have held a secret. */
void mailconn__pp_free(struct mailconn__pp *pp);

/* ---- framing ---------------------------------------------------------- */

enum mailconn__pp_line {
	MAILCONN__PP_MORE = 0,    /* no complete line yet */
	MAILCONN__PP_LINE,        /* a line is ready */
	MAILCONN__PP_TOO_LONG,    /* `in` is full and holds no line end */
	MAILCONN__PP_BARE_LF,     /* strict framing: LF without CR before it */
	MAILCONN__PP_NOMEM
};

/* Buffer as much of data[0..len) as the line limit leaves room for;
 * returns how much was taken. */
size_t mailconn__pp_take(struct mailconn__pp *pp, const char *data,
                         size_t len);
/* The next CRLF-ended line, without CRLF, NUL-terminated and valid until
 * the next call. Strict framing refuses a bare LF; lenient framing takes
 * it as part of the line (IMAP servers send them inside text). Anything
 * but MAILCONN__PP_LINE leaves `in` as it was. */
enum mailconn__pp_line mailconn__pp_next_line(struct mailconn__pp *pp,
                                              int strict, const char **line,
                                              size_t *len);
/* Forget received bytes not yet framed (TLS starts, or they must never
 * be acted on). */
void mailconn__pp_drop_input(struct mailconn__pp *pp);

/* ---- transcript ------------------------------------------------------- */

/* Report a line as is: the caller has already hidden what is secret. */
void mailconn__pp_report(const struct mailconn__pp *pp, mailconn_direction dir,
                         const char *s, size_t n);
/* Report a received line with echoed secrets replaced. */
void mailconn__pp_report_received(struct mailconn__pp *pp, const char *s,
                                  size_t n);
/* Replace `dst`'s content with s[0..n) minus the secrets; text that would
 * outgrow `dst` is cut, like every kept reply. */
void mailconn__pp_scrub(const struct mailconn__pp *pp, const char *s, size_t n,
                        struct mailconn__buf *dst);

/* ---- failures --------------------------------------------------------- */

/* Fill pp->failure: the detail from `fmt`, the reply scrubbed, NUL bytes
 * shown as '?', cut before a UTF-8 sequence rather than inside one. The
 * provider is left as it is. */
void mailconn__pp_record(struct mailconn__pp *pp, mailconn_stage stage,
                         enum mailconn__step step, mailconn_error outcome,
                         mailconn_cause cause, const char *reply,
                         size_t reply_len, const char *fmt, va_list ap)
	__attribute__((format(printf, 8, 0)));

/* What the classifier makes of a refusal; MAILCONN_OK in `out` when it
 * sees no error, and the engine's own fallback then stands. */
void mailconn__pp_judge(const struct mailconn__pp *pp,
                        mailconn_protocol protocol, enum mailconn__step step,
                        const char *reply, size_t reply_len, int tls_active,
                        const char *mechanism,
                        struct mailconn__classification *out);

/* A -PLUS refusal that could not be followed by an unbound attempt: the
 * channel binding is part of the proof, so the refusal cannot tell a
 * wrong password from a server that does not check the binding. Turns an
 * UNAUTHORIZED verdict in `f` into `outcome`, saying why in the detail. */
void mailconn__pp_plus_unproven(struct mailconn__failure *f,
                                mailconn_error outcome);

#endif
