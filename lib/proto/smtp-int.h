/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the SMTP engine, shared by its two halves: smtp-reply.c frames
 * and checks replies, reads EHLO, queues commands with the replies they
 * await, and records failures; smtp.c decides what each reply leads to.
 * Nothing outside those two files includes this; the rest of the library
 * sees proto/smtp.h.
 */
#ifndef MAILCONN_PROTO_SMTP_INT_H
#define MAILCONN_PROTO_SMTP_INT_H

#include <stddef.h>

#include "core/buf.h"
#include "proto/pingpong.h"
#include "proto/sasl.h"
#include "proto/smtp.h"

/* Bound on one decoded SASL exchange message (tokens can be kilobytes). */
#define SASL_BUF_LIMIT 65536
/* Replies we can have outstanding at once: AUTH, MAIL, RCPT and DATA
 * pipelined, while the EHLO reply that set them off is still the head of
 * the queue. */
#define MAX_PENDING 6

/* What an outstanding reply answers. */
enum expect {
	EX_GREETING,
	EX_EHLO,
	EX_STARTTLS,
	EX_AUTH,
	EX_MAIL,
	EX_RCPT,
	EX_DATA,
	EX_END_OF_DATA,
	EX_QUIT
};

enum run_state {
	RS_RUN,
	RS_TLS_WAIT,    /* STARTTLS accepted; the driver does the handshake */
	RS_HELD,        /* logged in; the send waits for mailconn__smtp_release */
	RS_DONE,
	RS_FAILED
};

struct mailconn__smtp {
	struct mailconn__engine_params p;
	mailconn_stage stage;
	enum run_state rs;
	int tls_active;
	int got_input;

	/* Channel binding of the current TLS session, for -PLUS. */
	struct mailconn__channel_binding cb;
	char *cb_type;
	unsigned char *cb_data;

	struct mailconn__pp pp;      /* framing, transcript, failure record */
	struct mailconn__buf reply;  /* lines of the reply being read */
	int reply_code;
	int reply_lines;

	struct mailconn__buf out;    /* bytes for the driver to send */
	size_t out_pos;
	unsigned long long queued;   /* bytes ever queued / handed over */
	unsigned long long sent;

	/* Replies we wait for, each with the byte count that must have been
	 * sent before the server can possibly have seen its command. */
	enum expect pending[MAX_PENDING];
	unsigned long long pending_sent[MAX_PENDING];
	int npending;
	int pipelined;

	/* From the latest EHLO reply (forgotten when TLS starts). */
	struct mailconn__buf caps;
	struct mailconn__buf mechs;
	int has_starttls, has_pipelining, has_smtputf8, has_8bitmime;
	int has_chunking;
	int has_auth;

	enum mailconn__mech mech;
	struct mailconn__sasl *sasl;
	int cert_unverified;         /* accepted only by the user's leave */
	int unbound_retry;           /* SCRAM-SHA-256 after -PLUS was refused */
	int auth_pipelined;          /* MAIL, RCPT, DATA went with AUTH */
	char sasl_note[256];         /* OAuth error JSON, SCRAM e= text */
};

/* ---- smtp-reply.c ----------------------------------------------------- */

/* Record why we stop (the first reason wins). The reply is the one being
 * read, if any; nothing queued goes out afterwards. */
void smtp_fail(struct mailconn__smtp *e, mailconn_error outcome,
               mailconn_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void smtp_fail_nomem(struct mailconn__smtp *e);
/* A refusal of `step` with reply code `code`: the classifier judges it,
 * the code decides when it sees no error. */
void smtp_fail_refusal(struct mailconn__smtp *e, enum mailconn__step step,
                       int code, const char *what);
void smtp_drop_sasl(struct mailconn__smtp *e);
void smtp_report(struct mailconn__smtp *e, mailconn_direction dir,
                 const char *line, size_t len);

/* Queue one command line; `shown` is what the transcript gets instead
 * when the line carries a secret. 0, or -1 after failing. */
int smtp_send_line(struct mailconn__smtp *e, const char *line, size_t len,
                   const char *shown);
/* Queue a formatted command and await its reply `x`. */
int smtp_send_cmd(struct mailconn__smtp *e, enum expect x, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));
void smtp_expect_reply(struct mailconn__smtp *e, enum expect x);
void smtp_pop_expect(struct mailconn__smtp *e);

/* The reply's first line text after "ddd" and its separator. */
void smtp_first_line_text(const struct mailconn__smtp *e, const char **text,
                          size_t *len);
/* Read the EHLO keywords of the reply; -1 when out of memory. */
int smtp_parse_ehlo(struct mailconn__smtp *e);
void smtp_forget_capabilities(struct mailconn__smtp *e);

/* ---- smtp.c ----------------------------------------------------------- */

/* A complete reply with `code` answers e->pending[0]: act on it. */
void smtp_dispatch(struct mailconn__smtp *e, int code);

#endif
