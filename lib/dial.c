/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resolve and Happy Eyeballs connect (see dial.h). */
#include "dial.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"

/* RFC 8305 suggests 250 ms between connection attempts. */
#define ATTEMPT_DELAY_MS 250
#define MAX_ATTEMPTS 8
#define MAX_ADDRESSES 16

struct attempt {
	int fd;
	int addr_index;
};

struct mailconn__dial {
	const char *host;
	int port;
	int epoll_fd;
	mailconn__info_fn on_info;
	void *info_userdata;
	enum mailconn__dial_status status;

	struct mailconn__resolver *resolver;
	int resolver_fd;                /* registered in epoll while >= 0 */
	struct addrinfo *addrinfo;
	struct addrinfo *addrs[MAX_ADDRESSES];
	int n_addrs, next_addr;
	struct attempt attempts[MAX_ATTEMPTS];
	int n_attempts;
	int64_t next_attempt_at;
	int last_connect_errno;

	int fd;                         /* connected, until the caller takes it */
	int addr_index;
	mailconn_cause cause;
	char detail[sizeof ((struct mailconn__failure *)0)->detail];
};

int
mailconn__watch(int epoll_fd, int fd, unsigned events, int added)
{
	struct epoll_event ev = { 0 };
	ev.events = ((events & MAILCONN_WAIT_READ) ? EPOLLIN : 0) |
	            ((events & MAILCONN_WAIT_WRITE) ? EPOLLOUT : 0);
	ev.data.fd = fd;
	return epoll_ctl(epoll_fd, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
}

void
mailconn__unwatch(int epoll_fd, int fd)
{
	epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

void
mailconn__note(mailconn__info_fn on_info, void *userdata, const char *fmt, ...)
{
	if (!on_info)
		return;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	on_info(userdata, text);
}

#define info(d, ...) mailconn__note((d)->on_info, (d)->info_userdata, __VA_ARGS__)

static void
fail(struct mailconn__dial *d, mailconn_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fail(struct mailconn__dial *d, mailconn_cause cause, const char *fmt, ...)
{
	va_list ap;
	d->cause = cause;
	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof d->detail, fmt, ap);
	va_end(ap);
	d->status = MAILCONN__DIAL_FAILED;
}

static void
close_attempts(struct mailconn__dial *d, int keep_fd)
{
	for (int i = 0; i < d->n_attempts; i++) {
		int fd = d->attempts[i].fd;
		if (fd >= 0 && fd != keep_fd) {
			mailconn__unwatch(d->epoll_fd, fd);
			close(fd);
		}
	}
	d->n_attempts = 0;
}

static void
format_address(const struct sockaddr *sa, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
		snprintf(out, size, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
		snprintf(out, size, "[%s]:%d", host, port);
	} else {
		snprintf(out, size, "?");
	}
}

int
mailconn__local_address(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	out[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -1;
	format_address((const struct sockaddr *)&ss, out, size);
	return 0;
}

/* ---- resolve ---------------------------------------------------------- */

static void
order_addresses(struct mailconn__dial *d)
{
	/* Happy Eyeballs: alternate address families, starting with the
	 * family the resolver put first. */
	struct addrinfo *first[MAX_ADDRESSES], *other[MAX_ADDRESSES];
	int n_first = 0, n_other = 0;
	int family = d->addrinfo ? d->addrinfo->ai_family : 0;
	for (struct addrinfo *ai = d->addrinfo; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_family == family && n_first < MAX_ADDRESSES)
			first[n_first++] = ai;
		else if (ai->ai_family != family && n_other < MAX_ADDRESSES)
			other[n_other++] = ai;
	}
	d->n_addrs = 0;
	for (int i = 0; d->n_addrs < MAX_ADDRESSES && (i < n_first || i < n_other); i++) {
		if (i < n_first)
			d->addrs[d->n_addrs++] = first[i];
		if (i < n_other && d->n_addrs < MAX_ADDRESSES)
			d->addrs[d->n_addrs++] = other[i];
	}
}

/* 1 once the addresses are known (or the dial failed). */
static int
step_resolve(struct mailconn__dial *d)
{
	struct addrinfo *res = NULL;
	int gai = 0;
	if (!mailconn__resolve_poll(d->resolver, &res, &gai))
		return 0;
	if (d->resolver_fd >= 0)
		mailconn__unwatch(d->epoll_fd, d->resolver_fd);
	d->resolver_fd = -1;
	mailconn__resolve_cancel(d->resolver);
	d->resolver = NULL;

	if (!res) {
		mailconn_cause cause = MAILCONN_CAUSE_DNS_FAILED;
		if (gai == EAI_NONAME
#ifdef EAI_NODATA
		    || gai == EAI_NODATA
#endif
		)
			cause = MAILCONN_CAUSE_DNS_NOT_FOUND;
		else if (gai == EAI_AGAIN)
			cause = MAILCONN_CAUSE_DNS_TEMPORARY;
		fail(d, cause, "cannot resolve %s: %s", d->host, gai_strerror(gai));
		return 1;
	}
	d->addrinfo = res;
	order_addresses(d);
	if (d->n_addrs == 0) {
		fail(d, MAILCONN_CAUSE_DNS_NOT_FOUND, "%s has no IPv4 or IPv6 address",
		     d->host);
		return 1;
	}
	d->next_attempt_at = 0;
	return 1;
}

/* ---- connect ---------------------------------------------------------- */

static void
start_attempt(struct mailconn__dial *d, int64_t now)
{
	while (d->next_addr < d->n_addrs && d->n_attempts < MAX_ATTEMPTS) {
		struct addrinfo *ai = d->addrs[d->next_addr++];
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                IPPROTO_TCP);
		if (fd < 0) {
			d->last_connect_errno = errno;
			continue;
		}
		char where[INET6_ADDRSTRLEN + 8];
		format_address(ai->ai_addr, where, sizeof where);
		info(d, "connecting to %s", where);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
		    errno != EINPROGRESS) {
			d->last_connect_errno = errno;
			info(d, "%s: %s", where, strerror(errno));
			close(fd);
			continue;
		}
		mailconn__watch(d->epoll_fd, fd, MAILCONN_WAIT_WRITE, 0);
		d->attempts[d->n_attempts].fd = fd;
		d->attempts[d->n_attempts].addr_index = d->next_addr - 1;
		d->n_attempts++;
		d->next_attempt_at = now + ATTEMPT_DELAY_MS;
		return;
	}
}

static void
connected(struct mailconn__dial *d, int fd, int addr_index)
{
	close_attempts(d, fd);
	d->fd = fd;
	d->addr_index = addr_index;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	d->status = MAILCONN__DIAL_CONNECTED;
}

static void
step_connect(struct mailconn__dial *d, int64_t now)
{
	if (d->n_attempts == 0 || (now >= d->next_attempt_at &&
	                           d->next_addr < d->n_addrs))
		start_attempt(d, now);

	for (int i = 0; i < d->n_attempts; i++) {
		struct pollfd pfd = { .fd = d->attempts[i].fd, .events = POLLOUT };
		if (poll(&pfd, 1, 0) <= 0)
			continue;
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0) {
			connected(d, pfd.fd, d->attempts[i].addr_index);
			return;
		}
		/* This address failed: drop it and try the next one at once. */
		char where[INET6_ADDRSTRLEN + 8];
		format_address(d->addrs[d->attempts[i].addr_index]->ai_addr, where,
		               sizeof where);
		info(d, "%s: %s", where, strerror(err));
		d->last_connect_errno = err;
		mailconn__unwatch(d->epoll_fd, pfd.fd);
		close(pfd.fd);
		d->attempts[i] = d->attempts[--d->n_attempts];
		i--;
		d->next_attempt_at = now;
	}
	if (d->n_attempts == 0 && d->next_addr < d->n_addrs)
		start_attempt(d, now);
	if (d->n_attempts == 0 && d->next_addr >= d->n_addrs) {
		int err = d->last_connect_errno;
		mailconn_cause cause = MAILCONN_CAUSE_CONNECT_FAILED;
		if (err == ECONNREFUSED)
			cause = MAILCONN_CAUSE_CONNECT_REFUSED;
		else if (err == ENETUNREACH || err == EHOSTUNREACH || err == EADDRNOTAVAIL)
			cause = MAILCONN_CAUSE_CONNECT_UNREACHABLE;
		else if (err == ETIMEDOUT)
			cause = MAILCONN_CAUSE_CONNECT_TIMEOUT;
		fail(d, cause, "cannot connect to %s port %d: %s", d->host, d->port,
		     err ? strerror(err) : "no address could be tried");
	}
}

/* ---- API -------------------------------------------------------------- */

struct mailconn__dial *
mailconn__dial_start(const char *host, const char *address, int port,
                     int epoll_fd, mailconn__info_fn on_info,
                     void *info_userdata)
{
	struct mailconn__dial *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->host = host;
	d->port = port;
	d->epoll_fd = epoll_fd;
	d->on_info = on_info;
	d->info_userdata = info_userdata;
	d->fd = -1;
	d->resolver_fd = -1;
	d->resolver = mailconn__resolve_start(address ? address : host, port);
	if (!d->resolver) {
		free(d);
		return NULL;
	}
	d->resolver_fd = mailconn__resolve_fd(d->resolver);
	if (d->resolver_fd >= 0)
		mailconn__watch(epoll_fd, d->resolver_fd, MAILCONN_WAIT_READ, 0);
	return d;
}

void
mailconn__dial_free(struct mailconn__dial *d)
{
	if (!d)
		return;
	if (d->resolver_fd >= 0)
		mailconn__unwatch(d->epoll_fd, d->resolver_fd);
	mailconn__resolve_cancel(d->resolver);
	mailconn__addresses_free(d->addrinfo);
	close_attempts(d, -1);
	if (d->fd >= 0) {
		mailconn__unwatch(d->epoll_fd, d->fd);
		close(d->fd);
	}
	free(d);
}

enum mailconn__dial_status
mailconn__dial_step(struct mailconn__dial *d, int64_t now)
{
	if (d->status != MAILCONN__DIAL_PENDING)
		return d->status;
	if (d->resolver && !step_resolve(d))
		return d->status;
	if (d->status == MAILCONN__DIAL_PENDING)
		step_connect(d, now);
	return d->status;
}

int64_t
mailconn__dial_wake_at(const struct mailconn__dial *d, int64_t now)
{
	if (d->status != MAILCONN__DIAL_PENDING)
		return -1;
	if (d->resolver)
		return d->resolver_fd < 0 ? now : -1;  /* numeric: no thread */
	if (d->next_addr < d->n_addrs)
		return d->next_attempt_at;
	return -1;
}

int
mailconn__dial_socket(struct mailconn__dial *d, char *address,
                      size_t address_size)
{
	int fd = d->fd;
	if (fd < 0)
		return -1;
	format_address(d->addrs[d->addr_index]->ai_addr, address, address_size);
	d->fd = -1;
	return fd;
}

mailconn_cause
mailconn__dial_failure(const struct mailconn__dial *d, const char **detail)
{
	*detail = d->detail;
	return d->cause;
}
