/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seams of a session: where it gets the time and how it opens a
 * connection. Production uses the monotonic clock and real sockets
 * (conn.c); unit tests inject a fake clock and an in-memory transport
 * so that overlap, deadlines and reclassification run deterministically.
 */
#ifndef MAILCONN_LINK_H
#define MAILCONN_LINK_H

#include <stdint.h>

#include "conn.h"

/* A connection as the session drives it; `link` is the object `open`
 * returned. The meanings are those of the mailconn__conn_* functions. */
struct mailconn__link_ops {
	void *(*open)(void *ctx, const struct mailconn__conn_params *p);
	void (*close)(void *link);
	enum mailconn__conn_status (*step)(void *link, int64_t now_ms);
	int64_t (*wake_at)(const void *link, int64_t now_ms);
	mailconn_stage (*stage)(const void *link);
	int (*held)(const void *link);
	void (*release)(void *link);
	int (*connected)(const void *link);
	const struct mailconn__failure *(*failure)(const void *link);
	/* May be NULL: then a timeout is CONNECT_TIMEOUT before `connected`
	 * and TIMEOUT after it, with no phase in the detail. */
	mailconn_cause (*waiting)(const void *link, char *what, size_t size);
};

/* Real sockets, DNS and TLS (conn.c). */
extern const struct mailconn__link_ops mailconn__socket_link;

struct mailconn__session_hooks {
	int64_t (*now_ms)(void *ctx);          /* monotonic milliseconds */
	void *clock_ctx;
	const struct mailconn__link_ops *link; /* NULL: real sockets */
	void *link_ctx;                        /* passed to open */
};

/* mailconn_session_new() with injected seams (NULL hooks: production). */
mailconn_error mailconn__session_new_with(const mailconn_config *cfg,
                                          const struct mailconn__session_hooks *h,
                                          mailconn_session **out);

#endif
