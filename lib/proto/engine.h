/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the sans-I/O protocol engines (imap.c, smtp.c) share with the
 * driver. An engine never touches a socket, a clock or TLS: the driver
 * feeds it the server's bytes, sends the bytes it produces, performs the
 * TLS handshake when asked, and reads the typed failure when it stops.
 *
 * Driver loop, for either engine E:
 *   switch (E_next(e)) {
 *   case MAILCONN__ACT_SEND:       len = E_output(e, &p); send; E_output_done(e, sent);
 *   case MAILCONN__ACT_NEED_INPUT: read; E_feed(e, bytes, n)  (or E_eof(e) on EOF)
 *   case MAILCONN__ACT_START_TLS:  handshake; E_tls_started(e, &binding)
 *   case MAILCONN__ACT_DONE:       close the connection
 *   case MAILCONN__ACT_FAILED:     E_failure(e) says why
 *   }
 *
 * The driver reaches either engine through struct mailconn__engine_ops,
 * so it holds no knowledge of which protocol it pumps.
 */
#ifndef MAILCONN_PROTO_ENGINE_H
#define MAILCONN_PROTO_ENGINE_H

#include <stddef.h>

#include "core/cbind.h"
#include "core/crypto.h"
#include "mailconn.h"

/* Hard limits that keep a hostile server from growing our memory. */
#define MAILCONN__MAX_LINE 8192          /* one response line, without CRLF */
#define MAILCONN__MAX_REPLY 16384        /* all lines of one reply kept */
#define MAILCONN__MAX_LITERAL 65536      /* one IMAP literal we accept */
#define MAILCONN__MAX_REPLY_LINES 64     /* lines in one SMTP reply */
/* Of a failing reply we keep what a person can read (and the session
 * shows no more): every in-flight session carries failure records, so
 * they stay small. */
#define MAILCONN__MAX_FAILURE_REPLY 4096

/* The protocol step a reply answers: the classifier's "stage" column. */
enum mailconn__step {
	MAILCONN__STEP_NONE = 0,
	MAILCONN__STEP_GREETING,
	MAILCONN__STEP_CAPABILITY,   /* IMAP CAPABILITY or SMTP EHLO/HELO */
	MAILCONN__STEP_STARTTLS,
	MAILCONN__STEP_LOGIN,        /* IMAP LOGIN */
	MAILCONN__STEP_AUTHENTICATE, /* IMAP AUTHENTICATE or SMTP AUTH */
	MAILCONN__STEP_SELECT,       /* IMAP EXAMINE/SELECT INBOX */
	MAILCONN__STEP_LOGOUT,       /* IMAP LOGOUT or SMTP QUIT */
	MAILCONN__STEP_MAIL_FROM,
	MAILCONN__STEP_RCPT_TO,
	MAILCONN__STEP_DATA,
	MAILCONN__STEP_END_OF_DATA,
	MAILCONN__STEP_COUNT_
};

/* Name as in the corpus "stage" column ("greeting", "mail_from", ...). */
const char *mailconn__step_name(enum mailconn__step step);
/* Inverse of mailconn__step_name; MAILCONN__STEP_NONE when unknown. */
enum mailconn__step mailconn__step_from_name(const char *name);

enum mailconn__action {
	MAILCONN__ACT_NEED_INPUT = 0,
	MAILCONN__ACT_SEND,
	MAILCONN__ACT_START_TLS,
	MAILCONN__ACT_DONE,
	MAILCONN__ACT_FAILED
};

enum mailconn__tls_mode {
	MAILCONN__TLS_IMPLICIT = 0, /* the driver has done TLS before the greeting */
	MAILCONN__TLS_STARTTLS,     /* upgrade required; never log in without it */
	MAILCONN__TLS_NONE          /* plaintext chosen explicitly by the user */
};

/* Why an engine stopped. Text fields are NUL-terminated, raw (the driver
 * sanitises before showing), and never contain a secret. */
struct mailconn__failure {
	mailconn_stage stage;
	enum mailconn__step step;
	mailconn_error outcome;
	mailconn_cause cause;
	char detail[512];            /* our explanation, e.g. "STARTTLS not offered" */
	char reply[MAILCONN__MAX_FAILURE_REPLY]; /* server lines that decided it,
	                                          * '\n'-joined, cut if longer */
	const char *provider;        /* recognised provider id, or NULL */
};

/* The engine reports every line it receives (raw, without CRLF) and every
 * line it sends (with secrets already replaced by "[redacted]"). */
typedef void (*mailconn__line_fn)(void *userdata, mailconn_direction dir,
                                  const char *line, size_t len);

/* Parameters shared by both engines. Strings are borrowed: they must stay
 * valid for the engine's lifetime. */
struct mailconn__engine_params {
	enum mailconn__tls_mode tls_mode;
	const char *host;            /* configured host name (provider recognition) */
	int port;                    /* server port, for OAUTHBEARER; 0 if unknown */
	const char *username;        /* login name (address or custom username) */
	const char *password;        /* NULL when a token is used */
	const char *oauth2_token;    /* NULL when a password is used */
	const char *mechanisms;      /* the caller's mechanism list, or NULL */
	mailconn__line_fn on_line;   /* may be NULL */
	void *line_userdata;
	/* SMTP only */
	const char *client_name;     /* EHLO argument */
	const char *mail_from;       /* envelope sender = the address */
	const char *rcpt_to;         /* the BCC address */
	const char *message;         /* complete RFC 5322 message, CRLF line ends,
	                              * not yet dot-stuffed */
	int hold_before_send;        /* stop after AUTH until released */
	/* Randomness and hashes for SCRAM, set by the driver (borrowed). */
	const struct mailconn__crypto *crypto;
};

/* One engine seen through a table, so the driver (and the fuzz harness)
 * pumps IMAP and SMTP with the same code. Calls mirror the engines' own
 * mailconn__imap_* / mailconn__smtp_* functions; `e` is what `new` gave. */
struct mailconn__engine_ops {
	mailconn_protocol protocol;
	/* NULL when out of memory; `p` and its strings are borrowed. */
	void *(*new)(const struct mailconn__engine_params *p);
	/* Wipes and frees; NULL allowed. */
	void (*free)(void *e);
	enum mailconn__action (*next)(void *e);
	void (*feed)(void *e, const char *data, size_t len);
	void (*eof)(void *e);
	size_t (*output)(void *e, const char **data);
	void (*output_done)(void *e, size_t n);
	void (*tls_started)(void *e,
	                    const struct mailconn__channel_binding *cb);
	/* Called just before tls_started when the certificate failed
	 * verification and was accepted only because the user allowed an
	 * untrusted certificate: someone may be reading the line, which
	 * decides the login mechanism. */
	void (*tls_unverified)(void *e);
	mailconn_stage (*stage)(const void *e);
	const struct mailconn__failure *(*failure)(const void *e);
	const char *(*capabilities)(const void *e);
	const char *(*mechanism)(const void *e);
	/* Only SMTP ever holds (params.hold_before_send); for IMAP `held`
	 * is always 0 and `release` does nothing. */
	int (*held)(const void *e);
	void (*release)(void *e);
};

extern const struct mailconn__engine_ops mailconn__imap_engine;
extern const struct mailconn__engine_ops mailconn__smtp_engine;

/* Defines `mailconn__<name>_engine` over the typed functions
 * mailconn__<name>_new, _free, ... and the given held/release functions.
 * The table cannot point at the typed functions themselves: calling
 * through a pointer of another type is undefined, so each gets a
 * void-pointer adapter, written once here for both engines. */
#define MAILCONN__DEFINE_ENGINE_OPS(name, proto, held_fn, release_fn)          \
	static void *name##_ops_new(const struct mailconn__engine_params *p)   \
	{ return mailconn__##name##_new(p); }                                  \
	static void name##_ops_free(void *e)                                   \
	{ mailconn__##name##_free(e); }                                        \
	static enum mailconn__action name##_ops_next(void *e)                  \
	{ return mailconn__##name##_next(e); }                                 \
	static void name##_ops_feed(void *e, const char *d, size_t n)          \
	{ mailconn__##name##_feed(e, d, n); }                                  \
	static void name##_ops_eof(void *e)                                    \
	{ mailconn__##name##_eof(e); }                                         \
	static size_t name##_ops_output(void *e, const char **d)               \
	{ return mailconn__##name##_output(e, d); }                            \
	static void name##_ops_output_done(void *e, size_t n)                  \
	{ mailconn__##name##_output_done(e, n); }                              \
	static void name##_ops_tls_started(void *e,                            \
	        const struct mailconn__channel_binding *cb)                    \
	{ mailconn__##name##_tls_started(e, cb); }                             \
	static void name##_ops_tls_unverified(void *e)                         \
	{ mailconn__##name##_tls_unverified(e); }                              \
	static mailconn_stage name##_ops_stage(const void *e)                  \
	{ return mailconn__##name##_stage(e); }                                \
	static const struct mailconn__failure *name##_ops_failure(             \
	        const void *e)                                                 \
	{ return mailconn__##name##_failure(e); }                              \
	static const char *name##_ops_capabilities(const void *e)              \
	{ return mailconn__##name##_capabilities(e); }                         \
	static const char *name##_ops_mechanism(const void *e)                 \
	{ return mailconn__##name##_mechanism(e); }                            \
	static int name##_ops_held(const void *e)                              \
	{ return held_fn(e); }                                                 \
	static void name##_ops_release(void *e)                                \
	{ release_fn(e); }                                                     \
	const struct mailconn__engine_ops mailconn__##name##_engine = {        \
		.protocol = proto,                                             \
		.new = name##_ops_new,                                         \
		.free = name##_ops_free,                                       \
		.next = name##_ops_next,                                       \
		.feed = name##_ops_feed,                                       \
		.eof = name##_ops_eof,                                         \
		.output = name##_ops_output,                                   \
		.output_done = name##_ops_output_done,                         \
		.tls_started = name##_ops_tls_started,                         \
		.tls_unverified = name##_ops_tls_unverified,                   \
		.stage = name##_ops_stage,                                     \
		.failure = name##_ops_failure,                                 \
		.capabilities = name##_ops_capabilities,                       \
		.mechanism = name##_ops_mechanism,                             \
		.held = name##_ops_held,                                       \
		.release = name##_ops_release,                                 \
	}

#endif
