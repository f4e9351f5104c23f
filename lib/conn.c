/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One connection: dial (dial.c) -> [TLS] -> engine pump, with STARTTLS
 * handled as an engine action (see conn.h). All I/O here is non-blocking;
 * every loop is bounded so a step never pins the caller.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto.h"
#include "dial.h"
#include "proto/outcome.h"
#include "tls.h"

/* Engine actions handled per step before yielding to the caller. */
#define MAX_ACTIONS_PER_STEP 64
#define READ_CHUNK 16384
/* Pipelining sends at most six commands at once (SMTP: AUTH, MAIL, RCPT,
 * BDAT or DATA, QUIT); older ones drop off, which only blurs a detail. */
#define MAX_PENDING_COMMANDS 8

enum conn_state {
	ST_DIAL,
	ST_HANDSHAKE,
	ST_RUN,
	ST_DONE,
	ST_FAILED
};

struct mailconn__conn {
	struct mailconn__conn_params p;
	enum conn_state state;
	int starttls;                   /* the handshake upgrades a plaintext link */
	int yielded;                    /* the work bound was hit: run again */

	struct mailconn__dial *dial;    /* until connected */
	int fd;                         /* the connected socket */
	unsigned watched;               /* epoll events registered for fd */
	struct mailconn__tls *tls;
	int saw_first_input;

	const struct mailconn__engine_ops *ops;
	void *engine;

	mailconn_stage facts_stage;     /* the engine's stage at the last look */
	char *caps_told;                /* capabilities last told, or NULL */
	char mech_told[64];

	/* What the connection waits for, should time run out: whether the
	 * server finished a line yet (the greeting) and the last command. */
	int server_lines;
	/* Commands sent and not yet answered, oldest first (several when
	 * pipelined), and the last one noted, for what a timeout waited on. */
	char pending[MAX_PENDING_COMMANDS][16];
	int n_pending;
	char last_command[16];

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

static const char *
engine_capabilities(const struct mailconn__conn *c)
{
	return c->ops->capabilities(c->engine);
}

static const char *
engine_mechanism(const struct mailconn__conn *c)
{
	return c->ops->mechanism(c->engine);
}

/* ---- helpers ---------------------------------------------------------- */

#define info(c, ...) \
	mailconn__note((c)->p.on_info, (c)->p.info_userdata, __VA_ARGS__)

static mailconn_stage
connect_stage(const struct mailconn__conn *c)
{
	return c->p.protocol == MAILCONN_PROTOCOL_IMAP
	       ? MAILCONN_STAGE_IMAP_CONNECT : MAILCONN_STAGE_SMTP_CONNECT;
}

static void
tell(struct mailconn__conn *c, mailconn_stage stage, mailconn_fact fact,
     const char *value)
{
	if (c->p.on_fact && value[0])
		c->p.on_fact(c->p.fact_userdata, stage, fact, value);
}

/* Capabilities describe the server as the connect stage found it, so
 * changes are told until the engine leaves that stage, including those
 * in the bytes that made it leave; a later CAPABILITY (IMAP sends one
 * after login) does not rewrite them. */
static void
tell_engine_facts(struct mailconn__conn *c)
{
	mailconn_stage connect = connect_stage(c);
	const char *caps = engine_capabilities(c);
	if (c->facts_stage <= connect && caps[0] &&
	    (!c->caps_told || strcmp(caps, c->caps_told) != 0)) {
		free(c->caps_told);
		c->caps_told = strdup(caps);
		tell(c, connect, MAILCONN_FACT_CAPABILITIES, caps);
	}
	const char *mech = engine_mechanism(c);
	if (mech[0] && strcmp(mech, c->mech_told) != 0) {
		snprintf(c->mech_told, sizeof c->mech_told, "%s", mech);
		tell(c, (mailconn_stage)(connect + 1), MAILCONN_FACT_AUTH_MECHANISM,
		     mech);
	}
	c->facts_stage = mailconn__conn_stage(c);
}

static mailconn_error
stage_outcome(const struct mailconn__conn *c)
{
	return mailconn__stage_outcome(c->p.protocol, mailconn__conn_stage(c));
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

/* Register what the connected socket waits for, only when it changes. */
static void
watch_socket(struct mailconn__conn *c, unsigned events)
{
	if (c->watched == events)
		return;
	mailconn__watch(c->p.epoll_fd, c->fd, events, c->watched != 0);
	c->watched = events;
}

/* ---- dial ------------------------------------------------------------- */

static int start_tls(struct mailconn__conn *c);

static void
step_dial(struct mailconn__conn *c, int64_t now)
{
	const char *detail;
	switch (mailconn__dial_step(c->dial, now)) {
	case MAILCONN__DIAL_PENDING:
		return;
	case MAILCONN__DIAL_FAILED: {
		mailconn_cause cause = mailconn__dial_failure(c->dial, &detail);
		fail(c, stage_outcome(c), cause, "%s", detail);
		return;
	}
	case MAILCONN__DIAL_CONNECTED:
		break;
	}
	c->fd = mailconn__dial_socket(c->dial, c->address, sizeof c->address);
	c->watched = MAILCONN_WAIT_WRITE;      /* as the dial registered it */
	mailconn__dial_free(c->dial);
	c->dial = NULL;
	char local[INET6_ADDRSTRLEN + 8];
	if (mailconn__local_address(c->fd, local, sizeof local) == 0) {
		info(c, "connected to %s from %s", c->address, local);
		tell(c, connect_stage(c), MAILCONN_FACT_LOCAL_ADDRESS, local);
	} else {
		info(c, "connected to %s", c->address);
	}
	tell(c, connect_stage(c), MAILCONN_FACT_ADDRESS, c->address);
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
		fail(c, stage_outcome(c),
		     MAILCONN_CAUSE_TLS_HANDSHAKE, "cannot start a TLS session");
		return -1;
	}
	return 0;
}

/* What the outcome module needs to know of this connection. */
static struct mailconn__link
link_of(const struct mailconn__conn *c)
{
	struct mailconn__link link = {
		.protocol = c->p.protocol,
		.stage = mailconn__conn_stage(c),
		.port = c->p.port,
		.starttls = c->starttls,
		.peer = c->address,
	};
	return link;
}

/* TLS 1.3 servers reject a missing client certificate after the
 * handshake, on our first read. 1 when that was handled. */
static int
tls_read_failure(struct mailconn__conn *c)
{
	struct mailconn__tls_fault f;
	mailconn__tls_fault(c->tls, &f);
	struct mailconn__link link = link_of(c);
	if (!mailconn__diagnose_tls_alert(&link, &f, &c->failure))
		return 0;
	c->state = ST_FAILED;
	return 1;
}

static void
handshake_failed(struct mailconn__conn *c)
{
	struct mailconn__tls_fault f;
	mailconn__tls_fault(c->tls, &f);
	size_t n;
	const char *first = mailconn__tls_first_bytes(c->tls, &n);
	struct mailconn__link link = link_of(c);
	mailconn__diagnose_handshake(&link, &f, first, n, &c->failure);
	c->state = ST_FAILED;
}

static void
format_sha256(const unsigned char md[32], char out[96])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + i * 3, 4, i < 31 ? "%02X:" : "%02X", md[i]);
}

/* The user accepted one certificate: any other fails, even when it would
 * verify, since a changed certificate is exactly what a pin is for. */
static int
pin_matches(struct mailconn__conn *c)
{
	unsigned char md[32];
	char pinned[96], seen[96];
	format_sha256(c->p.pin_sha256, pinned);
	if (mailconn__tls_cert_sha256(c->tls, md) != 0) {
		fail(c, MAILCONN_UNTRUSTED_CERT, MAILCONN_CAUSE_CERT_PIN_MISMATCH,
		     "the server sent no certificate; the pinned SHA-256 is %s",
		     pinned);
		return 0;
	}
	if (memcmp(md, c->p.pin_sha256, sizeof md) != 0) {
		format_sha256(md, seen);
		fail(c, MAILCONN_UNTRUSTED_CERT, MAILCONN_CAUSE_CERT_PIN_MISMATCH,
		     "certificate SHA-256 is %s, not the pinned %s", seen, pinned);
		return 0;
	}
	return 1;
}

static void
step_handshake(struct mailconn__conn *c)
{
	int rc = mailconn__tls_handshake(c->tls);
	if (rc == MAILCONN__TLS_AGAIN) {
		watch_socket(c, mailconn__tls_wait(c->tls));
		return;
	}
	if (rc != MAILCONN__TLS_DONE) {
		handshake_failed(c);
		return;
	}
	mailconn__tls_describe(c->tls, c->tls_version, sizeof c->tls_version,
	                       c->tls_cipher, sizeof c->tls_cipher,
	                       c->cert_sha256, sizeof c->cert_sha256,
	                       c->cert_subject, sizeof c->cert_subject);
	info(c, "TLS established: %s %s", c->tls_version, c->tls_cipher);
	tell(c, connect_stage(c), MAILCONN_FACT_TLS_VERSION, c->tls_version);
	tell(c, connect_stage(c), MAILCONN_FACT_TLS_CIPHER, c->tls_cipher);
	tell(c, connect_stage(c), MAILCONN_FACT_CERT_SHA256, c->cert_sha256);
	tell(c, connect_stage(c), MAILCONN_FACT_CERT_SUBJECT, c->cert_subject);

	mailconn_cause cause;
	char detail[sizeof c->failure.detail - 64];
	int verified = mailconn__tls_verify(c->tls, c->p.ascii_host, &cause,
	                                    detail, sizeof detail) == 0;
	if (c->p.pin_sha256) {
		if (!pin_matches(c))
			return;
		if (!verified)
			info(c, "certificate accepted by its pinned SHA-256 "
			     "fingerprint although %s", detail);
	} else if (!verified) {
		if (!c->p.allow_untrusted) {
			fail(c, MAILCONN_UNTRUSTED_CERT, cause, "%s", detail);
			return;
		}
		info(c, "certificate accepted although untrusted: %s", detail);
		c->ops->tls_unverified(c->engine);
	}
	struct mailconn__channel_binding cb = { 0 };
	int have_cb = mailconn__tls_channel_binding(c->tls, &cb) == 0;
	engine_tls_started(c, have_cb ? &cb : NULL);
	tell_engine_facts(c);
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
		if (n == MAILCONN__TLS_AGAIN)
			return -1;
		if (n < 0) {
			struct mailconn__tls_fault f;
			mailconn__tls_fault(c->tls, &f);
			*err = f.text;
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

/* The words for a failed send: the TLS layer's, or the socket's. */
static const char *
send_error(const struct mailconn__conn *c)
{
	if (!c->tls)
		return strerror(errno);
	struct mailconn__tls_fault f;
	mailconn__tls_fault(c->tls, &f);
	return f.text;
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
			if (c->tls && n == MAILCONN__TLS_AGAIN) {
				watch_socket(c, mailconn__tls_wait(c->tls));
				return;
			}
			if (!c->tls && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				watch_socket(c, MAILCONN_WAIT_WRITE);
				return;
			}
			if (n < 0) {
				fail(c, stage_outcome(c),
				     MAILCONN_CAUSE_NETWORK_ERROR, "sending to %s failed: %s",
				     c->address, send_error(c));
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
				if (c->tls && tls_read_failure(c))
					return;
				fail(c, stage_outcome(c),
				     MAILCONN_CAUSE_NETWORK_ERROR, "reading from %s failed: %s",
				     c->address, err);
				return;
			}
			if (n == 0) {
				engine_eof(c);
				tell_engine_facts(c);
				break;
			}
			if (!c->tls && !c->saw_first_input) {
				struct mailconn__link link = link_of(c);
				if (mailconn__diagnose_plaintext(&link, buf, (size_t)n,
				                                 &c->failure)) {
					c->state = ST_FAILED;
					return;
				}
			}
			c->saw_first_input = 1;
			engine_feed(c, buf, (size_t)n);
			tell_engine_facts(c);
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

/* ---- what the connection is waiting for ------------------------------ */

/* The command word of a line the client sent, when it is one of the
 * protocol's commands. Only known words are kept: a SASL continuation or
 * a line of the message body is not a command, and must never end up in
 * a detail. */
static void
note_command(struct mailconn__conn *c, const char *line, size_t len)
{
	static const char *const imap[] = {
		"CAPABILITY", "STARTTLS", "LOGIN", "AUTHENTICATE", "ID", "ENABLE",
		"SELECT", "EXAMINE", "STATUS", "LIST", "NOOP", "LOGOUT", NULL,
	};
	static const char *const smtp[] = {
		"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET",
		"NOOP", "QUIT", NULL,
	};
	int is_imap = c->p.protocol == MAILCONN_PROTOCOL_IMAP;
	const char *word = line, *end = line + len;
	if (is_imap) {          /* skip the tag */
		const char *sp = memchr(line, ' ', len);
		if (!sp)
			return;
		word = sp + 1;
	}
	size_t n = 0;
	while (word + n < end && word[n] != ' ')
		n++;
	for (const char *const *k = is_imap ? imap : smtp; *k; k++) {
		if (strlen(*k) == n && strncasecmp(*k, word, n) == 0) {
			snprintf(c->last_command, sizeof c->last_command, "%s", *k);
			if (c->n_pending == MAX_PENDING_COMMANDS) {
				memmove(c->pending[0], c->pending[1],
				        sizeof c->pending - sizeof c->pending[0]);
				c->n_pending--;
			}
			snprintf(c->pending[c->n_pending++], sizeof c->pending[0],
			         "%s", *k);
			return;
		}
	}
}

/* A reply that completes a command: IMAP's tagged status line (not "*"
 * or "+"), SMTP's last line of a reply ("250 ", not "250-"). It answers
 * the oldest command still pending, since servers answer in order. */
static void
note_reply(struct mailconn__conn *c, const char *line, size_t len)
{
	int completes = c->p.protocol == MAILCONN_PROTOCOL_IMAP
		? len > 0 && line[0] != '*' && line[0] != '+'
		: len >= 4 && line[3] == ' ';
	if (!completes || c->n_pending == 0)
		return;
	memmove(c->pending[0], c->pending[1],
	        (size_t)(c->n_pending - 1) * sizeof c->pending[0]);
	c->n_pending--;
}

static void
conn_on_line(void *userdata, mailconn_direction dir, const char *line,
             size_t len)
{
	struct mailconn__conn *c = userdata;
	if (dir == MAILCONN_DIR_RECEIVED) {
		c->server_lines++;
		note_reply(c, line, len);
	} else if (dir == MAILCONN_DIR_SENT)
		note_command(c, line, len);
	if (c->p.engine.on_line)
		c->p.engine.on_line(c->p.engine.line_userdata, dir, line, len);
}

mailconn_cause
mailconn__conn_waiting(const struct mailconn__conn *c, char *what, size_t size)
{
	switch (c->state) {
	case ST_DIAL:
		snprintf(what, size, "while connecting to %s port %d",
		         c->p.ascii_host, c->p.port);
		return MAILCONN_CAUSE_CONNECT_TIMEOUT;
	case ST_HANDSHAKE:
		snprintf(what, size, "during the TLS handshake with %s", c->address);
		return MAILCONN_CAUSE_TLS_HANDSHAKE_TIMEOUT;
	default:
		break;
	}
	if (c->server_lines == 0) {
		snprintf(what, size, "waiting for the server's greeting from %s "
		         "(connected, but %s)", c->address,
		         c->saw_first_input ? "the greeting never ended"
		                            : "the server sent nothing");
		return MAILCONN_CAUSE_GREETING_TIMEOUT;
	}
	/* The oldest unanswered command; with none pending (e.g. the message
	 * body after DATA's 354), the last command sent. */
	const char *command = c->n_pending ? c->pending[0] : c->last_command;
	if (command[0])
		snprintf(what, size, "waiting for the reply to %s", command);
	else
		snprintf(what, size, "waiting for the server");
	return MAILCONN_CAUSE_TIMEOUT;
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
	struct mailconn__engine_params ep = p->engine;
	ep.tls_mode = p->security == MAILCONN_SECURITY_TLS ? MAILCONN__TLS_IMPLICIT
	            : p->security == MAILCONN_SECURITY_STARTTLS ? MAILCONN__TLS_STARTTLS
	            : MAILCONN__TLS_NONE;
	ep.crypto = &mailconn__gnutls_crypto;
	ep.on_line = conn_on_line;
	ep.line_userdata = c;
	c->ops = p->protocol == MAILCONN_PROTOCOL_IMAP ? &mailconn__imap_engine
	                                                : &mailconn__smtp_engine;
	c->engine = c->ops->new(&ep);
	if (!c->engine) {
		free(c);
		return NULL;
	}
	c->dial = mailconn__dial_start(p->ascii_host, p->address, p->port,
	                               p->epoll_fd, p->on_info, p->info_userdata);
	if (!c->dial) {
		mailconn__conn_free(c);
		return NULL;
	}
	c->facts_stage = mailconn__conn_stage(c);
	c->state = ST_DIAL;
	return c;
}

void
mailconn__conn_free(struct mailconn__conn *c)
{
	if (!c)
		return;
	mailconn__dial_free(c->dial);
	mailconn__tls_free(c->tls);
	if (c->fd >= 0) {
		mailconn__unwatch(c->p.epoll_fd, c->fd);
		close(c->fd);
	}
	c->ops->free(c->engine);
	free(c->caps_told);
	free(c);
}

enum mailconn__conn_status
mailconn__conn_step(struct mailconn__conn *c, int64_t now)
{
	c->yielded = 0;
	if (c->state == ST_DIAL)
		step_dial(c, now);
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
	/* The dial is gone a moment before the state moves on, while the
	 * "connected" note goes out: a caller may ask from that callback. */
	if (c->state == ST_DIAL)
		return c->dial ? mailconn__dial_wake_at(c->dial, now) : now;
	if (c->state == ST_RUN && c->tls && mailconn__tls_pending(c->tls) > 0)
		return now;
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
