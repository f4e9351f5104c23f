/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the IMAP engine, shared by its two halves: imap-wire.c knows
 * how IMAP looks on the wire (lines and server literals, atoms, response
 * codes, tagged commands, quoted strings and literals we send, failure
 * records), imap.c decides what to send next. Nothing outside those two
 * files includes this; the rest of the library sees proto/imap.h.
 */
#ifndef MAILCONN_PROTO_IMAP_INT_H
#define MAILCONN_PROTO_IMAP_INT_H

#include <stddef.h>

#include "core/buf.h"
#include "proto/imap.h"
#include "proto/pingpong.h"
#include "proto/sasl.h"

/* Commands we build: a LOGIN with two literals or a long OAuth2 token. */
#define IMAP_MAX_OUTPUT (4 * MAILCONN__MAX_LITERAL)
/* One response including its literals; literal bytes are skipped, not kept,
 * so this only bounds how long one response may go on. */
#define IMAP_MAX_RESPONSE (4 * MAILCONN__MAX_LITERAL)
/* RFC 7888: LITERAL- allows non-synchronising literals up to 4096 bytes. */
#define IMAP_LITERAL_MINUS_MAX 4096
#define IMAP_MAX_BINDING 256
/* LOGIN has two arguments, so at most two synchronising literals. */
#define IMAP_MAX_SYNC_LITERALS 2

/* What the transcript shows in place of a secret. */
static const char redacted[] = "[redacted]";

enum imap_state {
	ST_GREETING = 0,
	ST_CAPABILITY,      /* CAPABILITY before login */
	ST_STARTTLS,
	ST_TLS_WAIT,        /* STARTTLS accepted; the driver runs the handshake */
	ST_LOGIN,           /* LOGIN or AUTHENTICATE in flight */
	ST_CAPABILITY_POST, /* CAPABILITY after login */
	ST_EXAMINE,
	ST_DONE,
	ST_FAILED
};

struct mailconn__imap {
	struct mailconn__engine_params p;
	enum imap_state st;
	mailconn_stage stage;
	int greeted;
	int tls_active;
	int secret_sent;             /* from now on, scrub echoes of secrets */

	struct mailconn__pp pp;      /* framing, transcript, failure record */
	size_t feed_rest;            /* bytes of the current feed not in `in` */
	size_t lit_left;             /* server literal bytes still to skip */
	size_t resp_total;           /* bytes of the response being continued */
	int resp_continues;          /* next line continues after a literal */

	struct mailconn__buf out;
	struct mailconn__buf caps;   /* valid atoms, space-separated */
	int caps_known;
	int caps_fresh;              /* a CAPABILITY arrived for this command */
	struct mailconn__buf kept;   /* untagged status lines of this command */
	struct mailconn__buf tmp;

	char tag[16];
	unsigned tag_no;
	int cmd_open;                /* a tagged reply is expected */
	enum mailconn__step step;    /* what the command in flight does */

	/* Login */
	int use_login_cmd;
	enum mailconn__mech mech;
	struct mailconn__sasl *sasl;
	int sasl_done;
	struct mailconn__buf ir;     /* base64 initial response awaiting '+' */
	int ir_pending;
	struct mailconn__buf pend;   /* LOGIN wire bytes, cut at sync literals */
	size_t pend_cut[IMAP_MAX_SYNC_LITERALS]; /* where each '+' is awaited */
	unsigned pend_chunks, pend_next;         /* cuts used, next chunk */
	struct mailconn__buf sasl_in;
	struct mailconn__buf sasl_out;

	char cb_type[32];
	unsigned char cb_data[IMAP_MAX_BINDING];
	size_t cb_len;
	int have_cb;
	int cert_unverified;         /* accepted only by the user's leave */
	int unbound_retry;           /* SCRAM-SHA-256 after -PLUS was refused */
	int pipelined;               /* EXAMINE and LOGOUT went with the login */
};

/* A cursor over one line; lines may hold NUL bytes, so lengths rule. */
struct cur {
	const char *p;
	size_t n;
};

/* ---- imap-wire.c ------------------------------------------------------ */

/* Next space-delimited token; one separating space is consumed. */
int imap_cur_token(struct cur *c, const char **t, size_t *tn);
/* Append what fits: replies and kept lines are cut, never refused. */
void imap_append_some(struct mailconn__buf *b, const void *p, size_t n);
/* The password or token, whichever this login uses. */
const char *imap_secret(const struct mailconn__imap *e);
void imap_report(struct mailconn__imap *e, mailconn_direction dir,
                 const char *s, size_t n);
mailconn_error imap_stage_outcome(const struct mailconn__imap *e);

/* Record the failure (the first one wins) and forget everything that
 * might hold a secret or be acted on later. */
void imap_fail(struct mailconn__imap *e, mailconn_error outcome,
               mailconn_cause cause, const char *reply, size_t reply_len,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void imap_fail_nomem(struct mailconn__imap *e);
/* The kept untagged lines plus `last`, '\n'-joined, into e->tmp. */
void imap_build_reply(struct mailconn__imap *e, const char *last,
                      size_t last_len);
/* Fail on a server refusal, letting the classifier judge it; the fallback
 * holds when it sees no error. */
void imap_fail_refusal(struct mailconn__imap *e, enum mailconn__step step,
                       const char *last, size_t last_len,
                       mailconn_error fb_outcome, mailconn_cause fb_cause,
                       const char *what);
void imap_protocol_error(struct mailconn__imap *e, const char *l, size_t n,
                         const char *what);

/* Open a command: new tag, fresh reply context. */
void imap_begin_command(struct mailconn__imap *e, enum mailconn__step step);
/* Queue "<tag> <args>\r\n" and report it as sent. 0, or -1 after
 * failing. */
int imap_send_command(struct mailconn__imap *e, enum mailconn__step step,
                      const char *args);

/* Replace the known capabilities with the atoms in [p, p+n). */
void imap_set_caps(struct mailconn__imap *e, const char *p, size_t n);
int imap_has_cap(const struct mailconn__imap *e, const char *name);
/* The SASL mechanisms offered as AUTH= atoms, space-separated, in e->tmp. */
const char *imap_auth_offered(struct mailconn__imap *e);
/* If resp-text starts with "[CODE ...]", return CODE and its arguments. */
int imap_resp_code(const char *text, size_t n, const char **code,
                   size_t *code_len, const char **args, size_t *args_len);

int imap_append_quoted(struct mailconn__buf *b, const char *s);
/* Append `s` to the pending LOGIN command as a quoted string or a
 * literal, noting where a synchronising literal must wait for '+'. */
int imap_append_astring(struct mailconn__imap *e, const char *s);
/* Move the next chunk of the LOGIN command to the output. */
int imap_send_next_chunk(struct mailconn__imap *e);

/* A server literal at the end of line `l`: its bytes are skipped. */
void imap_check_literal(struct mailconn__imap *e, const char *l, size_t n);
/* Fail when bytes came after the STARTTLS OK (-1), else 0. */
int imap_injection_check(struct mailconn__imap *e, const char *l, size_t n);

/* ---- imap.c ----------------------------------------------------------- */

/* One complete response line, already reported. */
void imap_process_line(struct mailconn__imap *e, const char *l, size_t n);

#endif
