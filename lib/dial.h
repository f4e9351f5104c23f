/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reaching a server over TCP: resolve its name (unless the caller gave an
 * address) and connect with Happy Eyeballs (RFC 8305), alternating address
 * families and starting another attempt while earlier ones still wait.
 * Every fd in play is registered in the caller's epoll set, so the caller
 * only ever waits on that one fd.
 */
#ifndef MAILCONN_DIAL_H
#define MAILCONN_DIAL_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

struct mailconn__dial;

enum mailconn__dial_status {
	MAILCONN__DIAL_PENDING = 0,
	MAILCONN__DIAL_CONNECTED,
	MAILCONN__DIAL_FAILED
};

/* Format a note for the transcript and hand it to `on_info` (nothing
 * when NULL). */
void mailconn__note(mailconn__info_fn on_info, void *userdata,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reach `host` (A-label form, named in messages) at `address` (numeric,
 * or NULL to resolve `host`) on `port`. NULL when out of memory or fds
 * (errno set). `on_info` may be NULL. */
struct mailconn__dial *mailconn__dial_start(const char *host,
                                            const char *address, int port,
                                            int epoll_fd,
                                            mailconn__info_fn on_info,
                                            void *info_userdata);
/* Closes every fd it still owns (removing it from the epoll set). NULL
 * allowed. */
void mailconn__dial_free(struct mailconn__dial *d);

/* Advance without blocking. */
enum mailconn__dial_status mailconn__dial_step(struct mailconn__dial *d,
                                               int64_t now_ms);
/* Like mailconn__conn_wake_at, for the dial alone. */
int64_t mailconn__dial_wake_at(const struct mailconn__dial *d, int64_t now_ms);

/* The local "address:port" of connected socket `fd` (IPv6 in brackets),
 * as the address fact is written. 0, or -1 when the system cannot say. */
int mailconn__local_address(int fd, char *out, size_t size);

/* After CONNECTED: the socket, now the caller's to close and still
 * registered for MAILCONN_WAIT_WRITE; its "address:port" goes to
 * `address`. */
int mailconn__dial_socket(struct mailconn__dial *d, char *address,
                          size_t address_size);
/* After FAILED: why, and the words for it. */
mailconn_cause mailconn__dial_failure(const struct mailconn__dial *d,
                                      const char **detail);

/* Register `fd` in `epoll_fd` for MAILCONN_WAIT_* `events`: add it, or
 * change what it waits for when `added`. */
int mailconn__watch(int epoll_fd, int fd, unsigned events, int added);
void mailconn__unwatch(int epoll_fd, int fd);

#endif
