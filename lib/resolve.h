/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Non-blocking name resolution: getaddrinfo() runs in a detached worker
 * thread (so NSS, /etc/hosts and split DNS all work) and signals through a
 * pipe the caller's event loop can watch. Numeric addresses skip the thread.
 */
#ifndef MAILCONN_RESOLVE_H
#define MAILCONN_RESOLVE_H

#include <netdb.h>

struct mailconn__resolver;

/* The most addresses one numeric list may hold (the connection keeps
 * no more than this many candidates either). */
#define MAILCONN__MAX_NUMERIC_ADDRESSES 16

/* Split a comma-separated list of numeric addresses ("192.0.2.1",
 * "2001:db8::1" or "[2001:db8::1]", as curl's --resolve writes them):
 * copies the next item, brackets removed, into `out` and advances
 * *cursor. 1: an item; 0: the end; -1: an empty or oversized item. Each
 * item still needs inet_pton. */
int mailconn__address_list_next(const char **cursor, char *out, size_t size);

/* Start resolving `host` (A-label form, or a numeric address list as
 * above) for TCP `port`. NULL when a pipe or thread cannot be made
 * (errno set). */
struct mailconn__resolver *mailconn__resolve_start(const char *host, int port);
/* The fd that becomes readable when the answer is ready; -1 when the
 * answer was ready at once (numeric host). */
int mailconn__resolve_fd(const struct mailconn__resolver *r);
/* 0 while pending; 1 when done: *result holds the list (owned by the
 * caller: mailconn__addresses_free, never freeaddrinfo) or NULL with
 * *gai_error set. */
int mailconn__resolve_poll(struct mailconn__resolver *r,
                           struct addrinfo **result, int *gai_error);
/* Free a list from mailconn__resolve_poll(); NULL allowed. */
void mailconn__addresses_free(struct addrinfo *list);

/* Drop interest: the worker finishes on its own and frees everything.
 * Safe at any time; the pipe fds are closed here or by the worker. */
void mailconn__resolve_cancel(struct mailconn__resolver *r);

#endif
