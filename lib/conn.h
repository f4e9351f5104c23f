/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One server connection of a session: resolve, connect (Happy Eyeballs),
 * TLS or STARTTLS, and the byte pump between the socket and a sans-I/O
 * protocol engine. Its sockets are registered in the session's epoll set,
 * so the caller only ever waits on that one fd.
 */
#ifndef MAILCONN_CONN_H
#define MAILCONN_CONN_H

#include <stdint.h>

#include "proto/engine.h"

struct mailconn__conn;
struct mailconn__trust;

/* Notes for the transcript ("connecting to ...", "TLS established"). */
typedef void (*mailconn__info_fn)(void *userdata, const char *text);

/* A fact for the session record, told when the connection learns it:
 * `stage` is the one it belongs to (the connect stage for the address,
 * TLS, certificate and capabilities; the login stage for the mechanism).
 * A fact told again replaces the earlier value. `value` is never empty and
 * is valid only during the call. */
typedef void (*mailconn__fact_fn)(void *userdata, mailconn_stage stage,
                                  mailconn_fact fact, const char *value);

struct mailconn__conn_params {
	mailconn_protocol protocol;
	const char *ascii_host;      /* A-label form, no trailing dot */
	int port;
	const char *address;         /* caller-resolved numeric address, or NULL */
	mailconn_security security;  /* TLS, STARTTLS or PLAIN (never AUTO) */
	const struct mailconn__trust *trust;
	int allow_untrusted;
	/* Accept exactly the certificate with this SHA-256 fingerprint (32
	 * bytes), whatever its chain, dates and names; NULL: verify it. */
	const unsigned char *pin_sha256;
	int epoll_fd;
	mailconn__info_fn on_info;
	void *info_userdata;
	mailconn__fact_fn on_fact;   /* may be NULL */
	void *fact_userdata;
	struct mailconn__engine_params engine; /* strings borrowed */
};

enum mailconn__conn_status {
	MAILCONN__CONN_PENDING = 0,
	MAILCONN__CONN_DONE,
	MAILCONN__CONN_FAILED
};

/* NULL when out of memory or out of fds (errno set). Work starts at the
 * first step. */
struct mailconn__conn *mailconn__conn_new(const struct mailconn__conn_params *p);
/* Closes sockets (removing them from the epoll set), wipes, frees. */
void mailconn__conn_free(struct mailconn__conn *c);

/* Advance without blocking, doing a bounded amount of work. */
enum mailconn__conn_status mailconn__conn_step(struct mailconn__conn *c,
                                               int64_t now_ms);
/* Absolute time (ms) at which the connection wants a step even without
 * fd activity, or -1; `now_ms` when it must run again at once (TLS holds
 * decrypted bytes, or the work bound was hit). */
int64_t mailconn__conn_wake_at(const struct mailconn__conn *c, int64_t now_ms);

/* The stage the protocol is in (1/2 IMAP, 3/4/5 SMTP). */
mailconn_stage mailconn__conn_stage(const struct mailconn__conn *c);
/* SMTP in overlapped mode: 1 while logged in and waiting to send; the
 * session releases it once IMAP has passed. */
int mailconn__conn_held(const struct mailconn__conn *c);
void mailconn__conn_release(struct mailconn__conn *c);
/* 1 once TCP (and TLS, when implicit) is up. */
int mailconn__conn_connected(const struct mailconn__conn *c);
const struct mailconn__failure *mailconn__conn_failure(const struct mailconn__conn *c);
/* What the connection is waiting for, should its time run out now: the
 * cause that names the phase (CONNECT_TIMEOUT, TLS_HANDSHAKE_TIMEOUT,
 * GREETING_TIMEOUT, or TIMEOUT for a command's reply) and, in `what`, a
 * phrase for the detail ("waiting for the reply to LOGIN"). */
mailconn_cause mailconn__conn_waiting(const struct mailconn__conn *c,
                                      char *what, size_t size);

#endif
