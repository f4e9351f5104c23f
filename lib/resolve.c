/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Threaded getaddrinfo with a pipe for completion (see resolve.h). */
#include "resolve.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Shared by the caller and the worker; whoever drops the last reference
 * frees it, so cancelling never waits for a slow DNS server. */
struct mailconn__resolver {
	pthread_mutex_t lock;
	int refs;
	int pipe_rd, pipe_wr;
	int done;
	int gai_error;
	struct addrinfo *result;
	char host[256];
	char port[8];
};

/* One address the resolver hands out: the addrinfo, its socket address
 * and nothing else, in one allocation of ours, so that lists from
 * several lookups can be chained and freed without relying on how the
 * C library allocates getaddrinfo()'s results. */
struct owned_address {
	struct addrinfo ai;
	struct sockaddr_storage addr;
};

void
mailconn__addresses_free(struct addrinfo *list)
{
	while (list) {
		struct addrinfo *next = list->ai_next;
		free(list);              /* the addrinfo heads its owned_address */
		list = next;
	}
}

/* Append copies of `src`'s addresses at *tail; 0, or -1 when out of
 * memory (what was appended stays for the caller to free). */
static int
append_copies(const struct addrinfo *src, struct addrinfo ***tail)
{
	for (; src; src = src->ai_next) {
		if (src->ai_addrlen > sizeof(struct sockaddr_storage))
			continue;
		struct owned_address *o = calloc(1, sizeof *o);
		if (!o)
			return -1;
		o->ai.ai_family = src->ai_family;
		o->ai.ai_socktype = src->ai_socktype;
		o->ai.ai_protocol = src->ai_protocol;
		o->ai.ai_addrlen = src->ai_addrlen;
		memcpy(&o->addr, src->ai_addr, src->ai_addrlen);
		o->ai.ai_addr = (struct sockaddr *)&o->addr;
		**tail = &o->ai;
		*tail = &o->ai.ai_next;
	}
	return 0;
}

/* getaddrinfo()'s answer as a list of ours; NULL when empty or out of
 * memory. */
static struct addrinfo *
own_copy(const struct addrinfo *res)
{
	struct addrinfo *head = NULL, **tail = &head;
	if (append_copies(res, &tail) != 0) {
		mailconn__addresses_free(head);
		return NULL;
	}
	return head;
}

static void
resolver_unref(struct mailconn__resolver *r)
{
	pthread_mutex_lock(&r->lock);
	int last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	mailconn__addresses_free(r->result);
	if (r->pipe_rd >= 0)
		close(r->pipe_rd);
	if (r->pipe_wr >= 0)
		close(r->pipe_wr);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void *
resolver_thread(void *arg)
{
	struct mailconn__resolver *r = arg;
	struct addrinfo hints = { 0 }, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_ADDRCONFIG;
	int rc = getaddrinfo(r->host, r->port, &hints, &res);
	struct addrinfo *owned = NULL;
	if (rc == 0) {
		owned = own_copy(res);
		freeaddrinfo(res);
		if (!owned)
			rc = EAI_MEMORY;
	}

	pthread_mutex_lock(&r->lock);
	r->gai_error = rc;
	r->result = owned;
	r->done = 1;
	if (r->pipe_wr >= 0) {
		/* The pipe is non-blocking and holds one byte at most. */
		ssize_t n = write(r->pipe_wr, "x", 1);
		(void)n;
	}
	pthread_mutex_unlock(&r->lock);
	resolver_unref(r);
	return NULL;
}

int
mailconn__address_list_next(const char **cursor, char *out, size_t size)
{
	const char *p = *cursor;
	if (!p)
		return 0;
	size_t n = strcspn(p, ",");
	/* NULL marks "no comma followed", so a trailing comma still yields
	 * one more (empty, refused) item instead of passing unnoticed. */
	*cursor = p[n] == ',' ? p + n + 1 : NULL;
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* A numeric address or list of them needs no thread. Each item is
 * converted on its own and the results are chained in the order given,
 * which the connection's Happy Eyeballs ordering starts from. */
static struct addrinfo *
resolve_numeric(const char *list, const char *port)
{
	struct addrinfo hints = { 0 }, *head = NULL, **tail = &head;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	char item[INET6_ADDRSTRLEN + 1];
	const char *cursor = list;
	int n = 0, more;
	while ((more = mailconn__address_list_next(&cursor, item, sizeof item)) == 1) {
		struct addrinfo *res = NULL;
		if (n == MAILCONN__MAX_NUMERIC_ADDRESSES ||
		    getaddrinfo(item, port, &hints, &res) != 0)
			break;
		int rc = append_copies(res, &tail);
		freeaddrinfo(res);
		if (rc != 0)
			break;
		n++;
	}
	if (more != 0) {
		mailconn__addresses_free(head);
		return NULL;
	}
	return head;
}

struct mailconn__resolver *
mailconn__resolve_start(const char *host, int port)
{
	struct mailconn__resolver *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->pipe_rd = r->pipe_wr = -1;
	r->refs = 1;
	pthread_mutex_init(&r->lock, NULL);
	snprintf(r->host, sizeof r->host, "%s", host);
	snprintf(r->port, sizeof r->port, "%d", port);

	r->result = resolve_numeric(host, r->port);
	if (r->result) {
		r->done = 1;
		return r;
	}

	int fds[2];
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		resolver_unref(r);
		return NULL;
	}
	r->pipe_rd = fds[0];
	r->pipe_wr = fds[1];

	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The worker must not take the host application's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r->refs = 2;
	int rc = pthread_create(&tid, &attr, resolver_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		r->refs = 1;
		resolver_unref(r);
		errno = rc;
		return NULL;
	}
	return r;
}

int
mailconn__resolve_fd(const struct mailconn__resolver *r)
{
	return r->pipe_rd;
}

int
mailconn__resolve_poll(struct mailconn__resolver *r, struct addrinfo **result,
                       int *gai_error)
{
	pthread_mutex_lock(&r->lock);
	int done = r->done;
	if (done) {
		*result = r->result;
		*gai_error = r->gai_error;
		r->result = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	return done;
}

void
mailconn__resolve_cancel(struct mailconn__resolver *r)
{
	if (!r)
		return;
	/* The caller may have handed pipe_rd to its event loop; it is closed
	 * here, once, when the caller lets go. The worker only ever writes. */
	pthread_mutex_lock(&r->lock);
	int rd = r->pipe_rd;
	r->pipe_rd = -1;
	pthread_mutex_unlock(&r->lock);
	if (rd >= 0)
		close(rd);
	resolver_unref(r);
}
