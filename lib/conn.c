/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One connection: resolve -> connect -> [TLS] -> engine pump, with
 * STARTTLS handled as an engine action (see conn.h). All I/O here is
 * non-blocking; every loop is bounded so a step never pins the caller.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#include "crypto.h"
#include "proto/sniff.h"
#include "resolve.h"
#include "tls.h"

/* RFC 8305 suggests 250 ms between connection attempts. */
#define ATTEMPT_DELAY_MS 250
#define MAX_ATTEMPTS 8
#define MAX_ADDRESSES 16
/* Engine actions handled per step before yielding to the caller. */
#define MAX_ACTIONS_PER_STEP 64
#define READ_CHUNK 16384

enum conn_state {
	ST_RESOLVE,
	ST_CONNECT,
	ST_HANDSHAKE,
	ST_RUN,
	ST_DONE,
	ST_FAILED
};

struct attempt {
	int fd;
	int addr_index;
};

struct mailconn__conn {
	struct mailconn__conn_params p;
	enum conn_state state;
	int starttls;                   /* the handshake upgrades a plaintext link */
	int yielded;                    /* the work bound was hit: run again */

	struct mailconn__resolver *resolver;
	int resolver_fd;                /* registered in epoll while >= 0 */
	struct addrinfo *addrinfo;
	struct addrinfo *addrs[MAX_ADDRESSES];
	int n_addrs, next_addr;
	struct attempt attempts[MAX_ATTEMPTS];
	int n_attempts;
	int64_t next_attempt_at;
	int last_connect_errno;

	int fd;                         /* the connected socket */
	unsigned watched;               /* epoll events registered for fd */
	struct mailconn__tls *tls;
	int last_tls_error;
	int saw_first_input;

	const struct mailconn__engine_ops *ops;
	void *engine;

	struct mailconn__failure failure;
	char address[INET6_ADDRSTRLEN + 8];
	char tls_version[32], tls_cipher[96], cert_sha256[100], cert_subject[512];
};

/* ---- engine dispatch: the engine table knows the protocol ---------- */

static enum mailconn__action
engine_next(struct mailconn__conn *c)
{
	return c->ops->next(c->engine);
}

static void
engine_feed(struct mailconn__conn *c, const char *data, size_t len)
{
	c->ops->feed(c->engine, data, len);
}

static void
engine_eof(struct mailconn__conn *c)
{
	c->ops->eof(c->engine);
}

static size_t
engine_output(struct mailconn__conn *c, const char **data)
{
	return c->ops->output(c->engine, data);
}

static void
engine_output_done(struct mailconn__conn *c, size_t n)
{
	c->ops->output_done(c->engine, n);
}

static void
engine_tls_started(struct mailconn__conn *c,
                   const struct mailconn__channel_binding *cb)
{
	c->ops->tls_started(c->engine, cb);
}

mailconn_stage
mailconn__conn_stage(const struct mailconn__conn *c)
{
	return c->ops->stage(c->engine);
}

const char *
mailconn__conn_capabilities(const struct mailconn__conn *c)
{
	return c->ops->capabilities(c->engine);
}

const char *
mailconn__conn_mechanism(const struct mailconn__conn *c)
{
	return c->ops->mechanism(c->engine);
}

/* ---- helpers ---------------------------------------------------------- */

static int
is_imap(const struct mailconn__conn *c)
{
	return c->p.protocol == MAILCONN_PROTOCOL_IMAP;
}

static void
info(struct mailconn__conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
info(struct mailconn__conn *c, const char *fmt, ...)
{
	if (!c->p.on_info)
		return;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	c->p.on_info(c->p.info_userdata, text);
}

/* The outcome for a transport-level failure depends on where it happens:
 * before the protocol is running it is a settings problem; once logged in,
 * IMAP calls it validation and SMTP's send stage calls it TEST_SEND. */
static mailconn_error
transport_outcome(struct mailconn__conn *c, mailconn_stage stage)
{
	switch (stage) {
	case MAILCONN_STAGE_IMAP_CONNECT:
		return MAILCONN_IMAP_SETTINGS;
	case MAILCONN_STAGE_IMAP_LOGIN:
		return MAILCONN_IMAP_VALIDATION;
	case MAILCONN_STAGE_TEST_SEND:
		return MAILCONN_TEST_SEND;
	default:
		return is_imap(c) ? MAILCONN_IMAP_SETTINGS : MAILCONN_SMTP_SETTINGS;
	}
}

static void
fail(struct mailconn__conn *c, mailconn_error outcome, mailconn_cause cause,
     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fail(struct mailconn__conn *c, mailconn_error outcome, mailconn_cause cause,
     const char *fmt, ...)
{
	va_list ap;
	memset(&c->failure, 0, sizeof c->failure);
	c->failure.stage = mailconn__conn_stage(c);
	c->failure.outcome = outcome;
	c->failure.cause = cause;
	va_start(ap, fmt);
	vsnprintf(c->failure.detail, sizeof c->failure.detail, fmt, ap);
	va_end(ap);
	c->state = ST_FAILED;
}

static void
unwatch(struct mailconn__conn *c, int fd)
{
	epoll_ctl(c->p.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

static int
watch(struct mailconn__conn *c, int fd, unsigned events, int added)
{
	struct epoll_event ev = { 0 };
	ev.events = ((events & MAILCONN_WAIT_READ) ? EPOLLIN : 0) |
	            ((events & MAILCONN_WAIT_WRITE) ? EPOLLOUT : 0);
	ev.data.fd = fd;
	return epoll_ctl(c->p.epoll_fd, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	                 fd, &ev);
}

/* Register what the connected socket waits for, only when it changes. */
static void
watch_socket(struct mailconn__conn *c, unsigned events)
{
	if (c->watched == events)
		return;
	watch(c, c->fd, events, c->watched != 0);
	c->watched = events;
}

static void
close_attempts(struct mailconn__conn *c, int keep_fd)
{
	for (int i = 0; i < c->n_attempts; i++) {
		int fd = c->attempts[i].fd;
		if (fd >= 0 && fd != keep_fd) {
			unwatch(c, fd);
			close(fd);
		}
	}
	c->n_attempts = 0;
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

/* ---- resolve ---------------------------------------------------------- */

static void
order_addresses(struct mailconn__conn *c)
{
	/* Happy Eyeballs: alternate address families, starting with the
	 * family the resolver put first. */
	struct addrinfo *first[MAX_ADDRESSES], *other[MAX_ADDRESSES];
	int n_first = 0, n_other = 0;
	int family = c->addrinfo ? c->addrinfo->ai_family : 0;
	for (struct addrinfo *ai = c->addrinfo; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_family == family && n_first < MAX_ADDRESSES)
			first[n_first++] = ai;
		else if (ai->ai_family != family && n_other < MAX_ADDRESSES)
			other[n_other++] = ai;
	}
	c->n_addrs = 0;
	for (int i = 0; c->n_addrs < MAX_ADDRESSES && (i < n_first || i < n_other); i++) {
		if (i < n_first)
			c->addrs[c->n_addrs++] = first[i];
		if (i < n_other && c->n_addrs < MAX_ADDRESSES)
			c->addrs[c->n_addrs++] = other[i];
	}
}

static void
step_resolve(struct mailconn__conn *c)
{
	struct addrinfo *res = NULL;
	int gai = 0;
	if (!mailconn__resolve_poll(c->resolver, &res, &gai))
		return;
	if (c->resolver_fd >= 0)
		unwatch(c, c->resolver_fd);
	c->resolver_fd = -1;
	mailconn__resolve_cancel(c->resolver);
	c->resolver = NULL;

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
		fail(c, transport_outcome(c, mailconn__conn_stage(c)), cause,
		     "cannot resolve %s: %s", c->p.ascii_host, gai_strerror(gai));
		return;
	}
	c->addrinfo = res;
	order_addresses(c);
	if (c->n_addrs == 0) {
		fail(c, transport_outcome(c, mailconn__conn_stage(c)),
		     MAILCONN_CAUSE_DNS_NOT_FOUND, "%s has no IPv4 or IPv6 address",
		     c->p.ascii_host);
		return;
	}
	c->state = ST_CONNECT;
	c->next_attempt_at = 0;
}

/* ---- connect ---------------------------------------------------------- */

static void
start_attempt(struct mailconn__conn *c, int64_t now)
{
	while (c->next_addr < c->n_addrs && c->n_attempts < MAX_ATTEMPTS) {
		struct addrinfo *ai = c->addrs[c->next_addr++];
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                IPPROTO_TCP);
		if (fd < 0) {
			c->last_connect_errno = errno;
			continue;
		}
		char where[INET6_ADDRSTRLEN + 8];
		format_address(ai->ai_addr, where, sizeof where);
		info(c, "connecting to %s", where);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
		    errno != EINPROGRESS) {
			c->last_connect_errno = errno;
			info(c, "%s: %s", where, strerror(errno));
			close(fd);
			continue;
		}
		watch(c, fd, MAILCONN_WAIT_WRITE, 0);
		c->attempts[c->n_attempts].fd = fd;
		c->attempts[c->n_attempts].addr_index = c->next_addr - 1;
		c->n_attempts++;
		c->next_attempt_at = now + ATTEMPT_DELAY_MS;
		return;
	}
}

static void connected(struct mailconn__conn *c, int fd, int addr_index);

static void
step_connect(struct mailconn__conn *c, int64_t now)
{
	if (c->n_attempts == 0 || (now >= c->next_attempt_at &&
	                           c->next_addr < c->n_addrs))
		start_attempt(c, now);

	for (int i = 0; i < c->n_attempts; i++) {
		struct pollfd pfd = { .fd = c->attempts[i].fd, .events = POLLOUT };
		if (poll(&pfd, 1, 0) <= 0)
			continue;
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0) {
			connected(c, pfd.fd, c->attempts[i].addr_index);
			return;
		}
		/* This address failed: drop it and try the next one at once. */
		char where[INET6_ADDRSTRLEN + 8];
		format_address(c->addrs[c->attempts[i].addr_index]->ai_addr, where,
		               sizeof where);
		info(c, "%s: %s", where, strerror(err));
		c->last_connect_errno = err;
		unwatch(c, pfd.fd);
		close(pfd.fd);
		c->attempts[i] = c->attempts[--c->n_attempts];
		i--;
		c->next_attempt_at = now;
	}
	if (c->n_attempts == 0 && c->next_addr < c->n_addrs)
		start_attempt(c, now);
	if (c->n_attempts == 0 && c->next_addr >= c->n_addrs) {
		int err = c->last_connect_errno;
		mailconn_cause cause = MAILCONN_CAUSE_CONNECT_FAILED;
		if (err == ECONNREFUSED)
			cause = MAILCONN_CAUSE_CONNECT_REFUSED;
		else if (err == ENETUNREACH || err == EHOSTUNREACH || err == EADDRNOTAVAIL)
			cause = MAILCONN_CAUSE_CONNECT_UNREACHABLE;
		else if (err == ETIMEDOUT)
			cause = MAILCONN_CAUSE_CONNECT_TIMEOUT;
		fail(c, transport_outcome(c, mailconn__conn_stage(c)), cause,
		     "cannot connect to %s port %d: %s", c->p.ascii_host, c->p.port,
		     err ? strerror(err) : "no address could be tried");
	}
}

static int start_tls(struct mailconn__conn *c);

static void
connected(struct mailconn__conn *c, int fd, int addr_index)
{
	close_attempts(c, fd);
	c->fd = fd;
	c->watched = MAILCONN_WAIT_WRITE;      /* as registered by start_attempt */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	format_address(c->addrs[addr_index]->ai_addr, c->address, sizeof c->address);
	info(c, "connected to %s", c->address);
	if (c->p.security == MAILCONN_SECURITY_TLS) {
		if (start_tls(c) == 0)
			c->state = ST_HANDSHAKE;
	} else {
		c->state = ST_RUN;
	}
}

/* ---- TLS -------------------------------------------------------------- */

static int
start_tls(struct mailconn__conn *c)
{
	c->tls = mailconn__tls_new(c->fd, c->p.ascii_host, c->p.trust);
	if (!c->tls) {
		fail(c, transport_outcome(c, mailconn__conn_stage(c)),
		     MAILCONN_CAUSE_TLS_HANDSHAKE, "cannot start a TLS session");
		return -1;
	}
	return 0;
}

/* What a plaintext server on a TLS port sends first tells us which
 * protocol it speaks; naming it is the most useful thing we can say. */
static const char *
plaintext_protocol(const unsigned char *b, size_t n)
{
	enum mailconn__wire wire = mailconn__sniff((const char *)b, n);
	return wire == MAILCONN__WIRE_TLS ? NULL : mailconn__wire_name(wire);
}

/* A fatal alert from the server says why it ended TLS; the ones a user
 * can act on get their own words. 1 when it was handled. */
static int
tls_alert_failure(struct mailconn__conn *c, int rc)
{
	if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    rc != GNUTLS_E_CERTIFICATE_REQUIRED)
		return 0;
	int alert = rc == GNUTLS_E_CERTIFICATE_REQUIRED
	            ? GNUTLS_A_CERTIFICATE_REQUIRED : mailconn__tls_alert(c->tls);
	const char *name = gnutls_alert_get_name((gnutls_alert_description_t)alert);
	mailconn_error outcome = is_imap(c) ? MAILCONN_IMAP_VALIDATION
	                                    : MAILCONN_SMTP_SETTINGS;
	/* handshake_failure also answers a missing client certificate (TLS
	 * 1.2 servers send it); only the request tells the two apart. */
	if (mailconn__tls_client_cert_requested(c->tls) &&
	    (alert == GNUTLS_A_HANDSHAKE_FAILURE || alert == GNUTLS_A_BAD_CERTIFICATE))
		alert = GNUTLS_A_CERTIFICATE_REQUIRED;
	switch (alert) {
	case GNUTLS_A_PROTOCOL_VERSION:
	case GNUTLS_A_INSUFFICIENT_SECURITY:
	case GNUTLS_A_HANDSHAKE_FAILURE:
		fail(c, outcome, MAILCONN_CAUSE_TLS_VERSION,
		     "the server refused TLS 1.2 and 1.3 with secure ciphers "
		     "(alert: %s); it may only speak outdated TLS", name ? name : "?");
		return 1;
	case GNUTLS_A_CERTIFICATE_REQUIRED:
	case GNUTLS_A_BAD_CERTIFICATE:
		fail(c, outcome, MAILCONN_CAUSE_TLS_HANDSHAKE,
		     "the server requires a TLS client certificate (alert: %s), "
		     "which this check does not send", name ? name : "?");
		return 1;
	default:
		fail(c, outcome, MAILCONN_CAUSE_TLS_HANDSHAKE,
		     "the server ended the TLS session with alert: %s",
		     name ? name : "?");
		return 1;
	}
}

static void
handshake_failed(struct mailconn__conn *c, int rc)
{
	size_t n;
	const unsigned char *first = mailconn__tls_first_bytes(c->tls, &n);
	const char *plain = plaintext_protocol(first, n);
	mailconn_stage stage = mailconn__conn_stage(c);
	mailconn_error outcome = transport_outcome(c, stage);
	int tls_port = is_imap(c) ? 993 : 465;

	if (plain && !c->starttls) {
		fail(c, outcome, MAILCONN_CAUSE_TLS_MODE_MISMATCH,
		     "port %d speaks plaintext %s, not TLS: use STARTTLS security "
		     "on this port, or port %d for TLS", c->p.port, plain, tls_port);
		if (strcmp(plain, is_imap(c) ? "IMAP" : "SMTP") != 0)
			c->failure.cause = MAILCONN_CAUSE_WRONG_PROTOCOL;
		return;
	}
	if (tls_alert_failure(c, rc))
		return;
	if (rc == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
	    rc == GNUTLS_E_NO_CIPHER_SUITES || rc == GNUTLS_E_INSUFFICIENT_SECURITY ||
	    rc == GNUTLS_E_NO_PRIORITIES_WERE_SET ||
	    rc == GNUTLS_E_UNKNOWN_CIPHER_SUITE) {
		fail(c, is_imap(c) ? MAILCONN_IMAP_VALIDATION : MAILCONN_SMTP_SETTINGS,
		     MAILCONN_CAUSE_TLS_VERSION,
		     "TLS handshake failed: the server offers no TLS 1.2 or newer "
		     "with a secure cipher (%s)", gnutls_strerror(rc));
		return;
	}
	fail(c, is_imap(c) ? MAILCONN_IMAP_VALIDATION : MAILCONN_SMTP_SETTINGS,
	     MAILCONN_CAUSE_TLS_HANDSHAKE, "TLS handshake with %s failed: %s",
	     c->address, gnutls_strerror(rc));
	if (!c->starttls && n == 0 &&
	    (rc == GNUTLS_E_PREMATURE_TERMINATION || rc == GNUTLS_E_PULL_ERROR))
		c->failure.outcome = outcome;   /* nothing TLS-like answered at all */
}

static void
step_handshake(struct mailconn__conn *c)
{
	int rc = mailconn__tls_handshake(c->tls);
	if (rc == GNUTLS_E_AGAIN) {
		watch_socket(c, mailconn__tls_wait(c->tls));
		return;
	}
	if (rc < 0) {
		handshake_failed(c, rc);
		return;
	}
	mailconn__tls_describe(c->tls, c->tls_version, sizeof c->tls_version,
	                       c->tls_cipher, sizeof c->tls_cipher,
	                       c->cert_sha256, sizeof c->cert_sha256,
	                       c->cert_subject, sizeof c->cert_subject);
	info(c, "TLS established: %s %s", c->tls_version, c->tls_cipher);

	mailconn_cause cause;
	char detail[sizeof c->failure.detail - 64];
	if (mailconn__tls_verify(c->tls, c->p.ascii_host, &cause, detail,
	                         sizeof detail) != 0) {
		if (!c->p.allow_untrusted) {
			fail(c, MAILCONN_UNTRUSTED_CERT, cause, "%s", detail);
			return;
		}
		info(c, "certificate accepted although untrusted: %s", detail);
	}
	struct mailconn__channel_binding cb = { 0 };
	int have_cb = mailconn__tls_channel_binding(c->tls, &cb) == 0;
	engine_tls_started(c, have_cb ? &cb : NULL);
	c->state = ST_RUN;
}

/* ---- the pump --------------------------------------------------------- */

/* >0 bytes, 0 at EOF, -1 when nothing is there yet, -2 on error (text in
 * `err`). */
static ssize_t
transport_read(struct mailconn__conn *c, char *buf, size_t len, const char **err)
{
	ssize_t n;
	if (c->tls) {
		n = mailconn__tls_recv(c->tls, buf, len);
		if (n == GNUTLS_E_AGAIN)
			return -1;
		/* A close without close_notify is still the end of the stream. */
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (n < 0) {
			c->last_tls_error = (int)n;
			*err = gnutls_strerror((int)n);
			return -2;
		}
		return n;
	}
	n = recv(c->fd, buf, len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -1;
		*err = strerror(errno);
		return -2;
	}
	return n;
}

static void
run_engine(struct mailconn__conn *c)
{
	char buf[READ_CHUNK];
	for (int i = 0; i < MAX_ACTIONS_PER_STEP; i++) {
		const char *out, *err = "";
		size_t len;
		ssize_t n;
		switch (engine_next(c)) {
		case MAILCONN__ACT_SEND:
			len = engine_output(c, &out);
			n = c->tls ? mailconn__tls_send(c->tls, out, len)
			           : send(c->fd, out, len, MSG_NOSIGNAL);
			if (c->tls && n == GNUTLS_E_AGAIN) {
				watch_socket(c, mailconn__tls_wait(c->tls));
				return;
			}
			if (!c->tls && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				watch_socket(c, MAILCONN_WAIT_WRITE);
				return;
			}
			if (n < 0) {
				fail(c, transport_outcome(c, mailconn__conn_stage(c)),
				     MAILCONN_CAUSE_NETWORK_ERROR, "sending to %s failed: %s",
				     c->address, c->tls ? gnutls_strerror((int)n)
				                        : strerror(errno));
				return;
			}
			engine_output_done(c, (size_t)n);
			break;
		case MAILCONN__ACT_NEED_INPUT:
			n = transport_read(c, buf, sizeof buf, &err);
			if (n == -1) {
				watch_socket(c, c->tls ? mailconn__tls_wait(c->tls)
				                       : MAILCONN_WAIT_READ);
				return;
			}
			if (n < 0) {
				/* TLS 1.3 servers reject a missing client
				 * certificate after the handshake, on first read. */
				if (c->tls && tls_alert_failure(c, c->last_tls_error))
					return;
				fail(c, transport_outcome(c, mailconn__conn_stage(c)),
				     MAILCONN_CAUSE_NETWORK_ERROR, "reading from %s failed: %s",
				     c->address, err);
				return;
			}
			if (n == 0) {
				engine_eof(c);
				break;
			}
			/* A TLS record on a plaintext link: the port wants TLS. */
			if (!c->tls && !c->saw_first_input && n >= 2 &&
			    (unsigned char)buf[0] == 0x16 && buf[1] == 0x03) {
				fail(c, transport_outcome(c, mailconn__conn_stage(c)),
				     MAILCONN_CAUSE_TLS_MODE_MISMATCH,
				     "port %d expects TLS from the first byte: use TLS "
				     "security on this port", c->p.port);
				return;
			}
			c->saw_first_input = 1;
			engine_feed(c, buf, (size_t)n);
			break;
		case MAILCONN__ACT_START_TLS:
			c->starttls = 1;
			if (start_tls(c) != 0)
				return;
			c->state = ST_HANDSHAKE;
			step_handshake(c);
			if (c->state != ST_RUN)
				return;
			break;
		case MAILCONN__ACT_DONE:
			c->state = ST_DONE;
			return;
		case MAILCONN__ACT_FAILED: {
			c->failure = *c->ops->failure(c->engine);
			c->state = ST_FAILED;
			return;
		}
		}
	}
	c->yielded = 1;
}

/* ---- public (internal) API ------------------------------------------- */

struct mailconn__conn *
mailconn__conn_new(const struct mailconn__conn_params *p)
{
	struct mailconn__conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->p = *p;
	c->fd = -1;
	c->resolver_fd = -1;
	struct mailconn__engine_params ep = p->engine;
	ep.tls_mode = p->security == MAILCONN_SECURITY_TLS ? MAILCONN__TLS_IMPLICIT
	            : p->security == MAILCONN_SECURITY_STARTTLS ? MAILCONN__TLS_STARTTLS
	            : MAILCONN__TLS_NONE;
	ep.crypto = &mailconn__gnutls_crypto;
	c->ops = p->protocol == MAILCONN_PROTOCOL_IMAP ? &mailconn__imap_engine
	                                                : &mailconn__smtp_engine;
	c->engine = c->ops->new(&ep);
	if (!c->engine) {
		free(c);
		return NULL;
	}
	c->resolver = mailconn__resolve_start(p->address ? p->address : p->ascii_host,
	                                      p->port);
	if (!c->resolver) {
		mailconn__conn_free(c);
		return NULL;
	}
	c->resolver_fd = mailconn__resolve_fd(c->resolver);
	if (c->resolver_fd >= 0)
		watch(c, c->resolver_fd, MAILCONN_WAIT_READ, 0);
	c->state = ST_RESOLVE;
	return c;
}

void
mailconn__conn_free(struct mailconn__conn *c)
{
	if (!c)
		return;
	if (c->resolver_fd >= 0)
		unwatch(c, c->resolver_fd);
	mailconn__resolve_cancel(c->resolver);
	if (c->addrinfo)
		freeaddrinfo(c->addrinfo);
	close_attempts(c, -1);
	mailconn__tls_free(c->tls);
	if (c->fd >= 0) {
		unwatch(c, c->fd);
		close(c->fd);
	}
	c->ops->free(c->engine);
	free(c);
}

enum mailconn__conn_status
mailconn__conn_step(struct mailconn__conn *c, int64_t now)
{
	c->yielded = 0;
	if (c->state == ST_RESOLVE)
		step_resolve(c);
	if (c->state == ST_CONNECT)
		step_connect(c, now);
	if (c->state == ST_HANDSHAKE)
		step_handshake(c);
	if (c->state == ST_RUN)
		run_engine(c);
	if (c->state == ST_DONE)
		return MAILCONN__CONN_DONE;
	if (c->state == ST_FAILED)
		return MAILCONN__CONN_FAILED;
	return MAILCONN__CONN_PENDING;
}

int64_t
mailconn__conn_wake_at(const struct mailconn__conn *c, int64_t now)
{
	if (c->yielded)
		return now;
	if (c->state == ST_RESOLVE && c->resolver_fd < 0)
		return now;             /* numeric answer ready without a thread */
	if (c->state == ST_RUN && c->tls && mailconn__tls_pending(c->tls) > 0)
		return now;
	if (c->state == ST_CONNECT && c->next_addr < c->n_addrs)
		return c->next_attempt_at;
	return -1;
}

int
mailconn__conn_held(const struct mailconn__conn *c)
{
	return c->state == ST_RUN && c->ops->held(c->engine);
}

void
mailconn__conn_release(struct mailconn__conn *c)
{
	c->ops->release(c->engine);
}

int
mailconn__conn_connected(const struct mailconn__conn *c)
{
	return c->state == ST_RUN || c->state == ST_DONE ||
	       (c->state == ST_FAILED && c->address[0] && (!c->tls || c->tls_version[0]));
}

const struct mailconn__failure *
mailconn__conn_failure(const struct mailconn__conn *c)
{
	return &c->failure;
}

const char *
mailconn__conn_address(const struct mailconn__conn *c)
{
	return c->address;
}

const char *
mailconn__conn_tls_version(const struct mailconn__conn *c)
{
	return c->tls_version;
}

const char *
mailconn__conn_tls_cipher(const struct mailconn__conn *c)
{
	return c->tls_cipher;
}

const char *
mailconn__conn_cert_sha256(const struct mailconn__conn *c)
{
	return c->cert_sha256;
}

const char *
mailconn__conn_cert_subject(const struct mailconn__conn *c)
{
	return c->cert_subject;
}
