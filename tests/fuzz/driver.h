/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the engine harnesses share: fixed identities, a driver that plays
 * the server's bytes into an engine, and the invariants it checks. */
#ifndef MAILCONN_FUZZ_DRIVER_H
#define MAILCONN_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/engine.h"

/* Every harness exports this; replay.c calls it outside libFuzzer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and abort(), so libFuzzer keeps the input. */
#define FZ_CHECK(cond, what)                                                 \
	do {                                                                 \
		if (!(cond))                                                 \
			fz_fail(__FILE__, __LINE__, #cond, (what));          \
	} while (0)

void fz_fail(const char *file, int line, const char *cond, const char *what)
	__attribute__((noreturn));

/* Fixed login identities: a harness picks one by number. */
#define FZ_CREDS_COUNT 4
struct fz_creds {
	const char *username;
	const char *password;        /* NULL when the token is used */
	const char *token;
	const char *mail_from;
};
const struct fz_creds *fz_creds(unsigned index);
/* The secret the engine must protect: the password or the token. */
const char *fz_secret(const struct fz_creds *c);

/* How the server's bytes are cut into feed() calls. */
enum fz_split {
	FZ_SPLIT_LINES = 0,          /* up to and including each LF */
	FZ_SPLIT_FIXED,              /* `size` bytes at a time */
	FZ_SPLIT_RECORDS             /* [u8 n][n bytes]; n == 0 is EOF */
};
/* A record byte that is no length: the client gives up here and frees
 * the engine mid-flight, as a caller or a timeout may. */
#define FZ_RECORD_ABORT 0xff

struct fz_stream {
	const uint8_t *p;
	size_t n;
	enum fz_split split;
	size_t size;
};

/* 1 with the next chunk in chunk and len; 0 when the server closes (an
 * empty record or the end of the data); -1 when the client gives up. */
int fz_stream_next(struct fz_stream *s, const uint8_t **chunk, size_t *len);

struct fz_options {
	mailconn_protocol protocol;  /* IMAP or SMTP */
	enum mailconn__tls_mode mode;
	unsigned creds;              /* index for fz_creds() */
	int binding;                 /* hand a channel binding to tls_started */
	int eager;                   /* feed while output still waits */
	size_t send_piece;           /* bytes per output_done(); 0: all */
	int hold;                    /* SMTP: hold_before_send */
	const char *host;            /* configured host; NULL: a neutral one */
	/* Server data that could itself hold the secret (fz_tainted): then
	 * received text may legitimately show it. */
	int tainted;
	/* Called with every transcript line after the checks, may be NULL. */
	void (*on_line)(void *userdata, mailconn_direction dir,
	                const char *line, size_t len);
	void *userdata;
	/* Called with the failure before the engine is freed, may be NULL. */
	void (*on_end)(void *userdata, const struct mailconn__failure *f,
	               const char *capabilities);
};

/* Options from one input byte: bits 0-1 the TLS mode (implicit, STARTTLS,
 * none, STARTTLS), 2-3 the identity, 4 a channel binding, 5 eager feeding,
 * 6 output taken three bytes at a time, 7 a provider's host name. */
void fz_options_from_byte(struct fz_options *o, mailconn_protocol protocol,
                          uint8_t flags);

/* One connection, driven step by step (fz_run does it all). */
struct fz_conn;
enum fz_state {
	FZ_WANTS_INPUT = 0,
	FZ_HELD,                     /* SMTP logged in, waiting for release */
	FZ_STOPPED                   /* DONE or FAILED */
};
struct fz_conn *fz_open(const struct fz_options *o);
/* Do what the engine asks until it wants input, is held or stops; with
 * eager options, chunks of `in` (may be NULL) arrive while it sends. */
enum fz_state fz_pump(struct fz_conn *c, struct fz_stream *in);
void fz_feed(struct fz_conn *c, const uint8_t *data, size_t len);
void fz_eof(struct fz_conn *c);
void fz_release(struct fz_conn *c);
/* Final checks and free, at any point; the final action, or
 * MAILCONN__ACT_NEED_INPUT for an engine closed while it ran. */
enum mailconn__action fz_close(struct fz_conn *c);

/* Run one connection from greeting to DONE or FAILED (or to an abort
 * record), checking every invariant on the way. */
enum mailconn__action fz_run(const struct fz_options *o, struct fz_stream *in);

/* 1 when `data` could carry the secret of `creds`: raw, or inside any
 * base64 run (a SASL challenge is decoded before it is shown). */
int fz_tainted(const uint8_t *data, size_t n, unsigned creds);

/* The single-engine harnesses: [options byte][split byte] then the
 * server's bytes. Split byte 0 feeds line by line (keeping a STARTTLS
 * reply apart from what follows), 255 everything at once, n n bytes at a
 * time. */
void fz_one_engine(mailconn_protocol protocol, const uint8_t *data,
                   size_t size);

/* 1 when `s` (n bytes) holds a form of the secret that must never be
 * shown: raw, or base64 of the secret or of a PLAIN response. */
int fz_has_secret(const char *s, size_t n, unsigned creds);

/* A provider id must be NULL or a known, static id; call again after the
 * object that produced it is freed (AddressSanitizer then catches a
 * pointer into freed memory). */
void fz_check_provider(const char *provider);

/* 1 when `cause` is a value mailconn.h defines (NONE included). */
int fz_cause_valid(mailconn_cause cause);

#endif
