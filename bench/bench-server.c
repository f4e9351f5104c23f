/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A light scripted IMAP + SMTP peer for the bulk benchmark: implicit TLS
 * (GnuTLS) on one epoll loop, a fixed Dovecot/Postfix-like conversation,
 * AUTH PLAIN/LOGIN (any password) and optionally SCRAM-SHA-256.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#define IN_MAX 8192
#define OUT_MAX 4096
#define SCRAM_ITER 4096
#define MAX_EVENTS 256

enum proto { P_IMAP, P_SMTP };
enum cstate { C_HANDSHAKE, C_OPEN };
enum sasl {
	S_NONE, S_PLAIN, S_LOGIN_USER, S_LOGIN_PASS, S_SCRAM_FIRST,
	S_SCRAM_FINAL, S_SCRAM_EMPTY
};

struct conn {
	int fd;
	enum proto proto;
	enum cstate state;
	gnutls_session_t tls;
	unsigned watched;
	int send_pending;           /* last record_send said EAGAIN */
	int close_after_flush;
	int in_data;                /* SMTP DATA */
	enum sasl sasl;
	char tag[48];
	char in[IN_MAX];
	size_t in_len;
	char out[OUT_MAX];
	size_t out_len;
	char scram[768];            /* client-first-bare "," server-first */
	size_t scram_len;
	char nonce[160];            /* client nonce + server nonce */
};

static volatile sig_atomic_t stop;
static int epfd;
static int use_scram;
static gnutls_certificate_credentials_t creds;
static gnutls_priority_t prio;
static unsigned char stored_key[32], server_key[32];
static char salt_b64[64];
static unsigned long n_accepted, n_handshakes, n_logins, n_messages;
static unsigned long n_failed_handshakes, n_bad_auth;

static const char imap_caps_pre[] =
	"IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
	"AUTH=PLAIN AUTH=LOGIN";
static const char imap_caps_post[] =
	"IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT "
	"THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS "
	"LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH SEARCHRES "
	"LIST-STATUS BINARY MOVE LITERAL+";

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench-server: %s: %s\n", what, why);
	exit(1);
}

/* ---- output ----------------------------------------------------------- */

static void
put(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->out + c->out_len, OUT_MAX - c->out_len, fmt, ap);
	va_end(ap);
	/* Replies are fixed and short; one that does not fit ends the
	 * connection rather than being cut. */
	if (n < 0 || (size_t)n >= OUT_MAX - c->out_len) {
		c->close_after_flush = 1;
		return;
	}
	c->out_len += (size_t)n;
}

static void
watch(struct conn *c, unsigned events)
{
	if (events == c->watched)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(epfd, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->watched = events;
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->tls)
		gnutls_deinit(c->tls);
	close(c->fd);
	free(c);
}

/* 0 all sent, 1 waiting for the socket, -1 broken. */
static int
flush(struct conn *c)
{
	while (c->out_len) {
		ssize_t n = gnutls_record_send(c->tls, c->out, c->out_len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			c->send_pending = 1;
			return 1;
		}
		c->send_pending = 0;
		if (n < 0)
			return -1;
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return 0;
}

/* ---- SASL ------------------------------------------------------------- */

static int
b64_decode(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
	gnutls_datum_t in = { (unsigned char *)s, (unsigned)n }, res = { 0 };
	if (n == 0) {
		*len = 0;
		return 0;
	}
	if (gnutls_base64_decode2(&in, &res) < 0)
		return -1;
	int ok = res.size < cap;
	if (ok) {
		memcpy(out, res.data, res.size);
		out[res.size] = '\0';
		*len = res.size;
	}
	gnutls_free(res.data);
	return ok ? 0 : -1;
}

static int
b64_encode(const void *data, size_t n, char *out, size_t cap)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)n }, res = { 0 };
	if (gnutls_base64_encode2(&in, &res) < 0)
		return -1;
	int ok = res.size < cap;
	if (ok) {
		memcpy(out, res.data, res.size);
		out[res.size] = '\0';
	}
	gnutls_free(res.data);
	return ok ? 0 : -1;
}

static void
scram_setup(const char *password)
{
	unsigned char salt[16], salted[32], client_key[32];
	gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof salt);
	gnutls_datum_t key = { (unsigned char *)password,
	                       (unsigned)strlen(password) };
	gnutls_datum_t s = { salt, sizeof salt };
	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, SCRAM_ITER, salted,
	                  sizeof salted) < 0)
		die("pbkdf2", "failed");
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, 32, "Client Key", 10,
	                 client_key);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, 32, stored_key);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, salted, 32, "Server Key", 10,
	                 server_key);
	if (b64_encode(salt, sizeof salt, salt_b64, sizeof salt_b64) < 0)
		die("base64", "failed");
}

/* client-first: "n,,n=user,r=nonce". Fills the server-first message. */
static int
scram_first(struct conn *c, const char *msg, size_t len, char *reply,
            size_t cap)
{
	const char *bare = memchr(msg, ',', len);
	if (!bare || (size_t)(bare - msg) + 1 >= len)
		return -1;
	bare = memchr(bare + 1, ',', len - (size_t)(bare + 1 - msg));
	if (!bare)
		return -1;
	bare++;
	size_t bare_len = len - (size_t)(bare - msg);
	const char *r = NULL;
	for (const char *p = bare; p < msg + len; p++)
		if ((p == bare || p[-1] == ',') && p + 2 <= msg + len &&
		    p[0] == 'r' && p[1] == '=') {
			r = p + 2;
			break;
		}
	if (!r)
		return -1;
	size_t rlen = strcspn(r, ",");
	if (r + rlen > msg + len)
		rlen = (size_t)(msg + len - r);
	unsigned char rnd[18];
	char snonce[32];
	gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd);
	if (b64_encode(rnd, sizeof rnd, snonce, sizeof snonce) < 0)
		return -1;
	int n = snprintf(c->nonce, sizeof c->nonce, "%.*s%s", (int)rlen, r,
	                 snonce);
	if (n < 0 || (size_t)n >= sizeof c->nonce)
		return -1;
	n = snprintf(reply, cap, "r=%s,s=%s,i=%d", c->nonce, salt_b64,
	             SCRAM_ITER);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	n = snprintf(c->scram, sizeof c->scram, "%.*s,%s", (int)bare_len, bare,
	             reply);
	if (n < 0 || (size_t)n >= sizeof c->scram)
		return -1;
	c->scram_len = (size_t)n;
	return 0;
}

/* client-final: "c=biws,r=nonce,p=proof". Fills "v=signature". */
static int
scram_final(struct conn *c, const char *msg, size_t len, char *reply,
            size_t cap)
{
	const char *p = NULL;
	for (size_t i = 0; i + 3 <= len; i++)
		if (msg[i] == ',' && msg[i + 1] == 'p' && msg[i + 2] == '=')
			p = msg + i;
	if (!p)
		return -1;
	char auth[1024];
	int n = snprintf(auth, sizeof auth, "%.*s,%.*s", (int)c->scram_len,
	                 c->scram, (int)(p - msg), msg);
	if (n < 0 || (size_t)n >= sizeof auth)
		return -1;
	char proof[64];
	size_t proof_len;
	if (b64_decode(p + 3, len - (size_t)(p + 3 - msg), proof, sizeof proof,
	               &proof_len) < 0 || proof_len != 32)
		return -1;
	unsigned char sig[32], key[32], hashed[32], server_sig[32];
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, stored_key, 32, auth, (size_t)n, sig);
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)proof[i] ^ sig[i];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, key, 32, hashed);
	if (memcmp(hashed, stored_key, 32) != 0)
		return -1;
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, server_key, 32, auth, (size_t)n,
	                 server_sig);
	char sig64[64];
	if (b64_encode(server_sig, 32, sig64, sizeof sig64) < 0)
		return -1;
	n = snprintf(reply, cap, "v=%s", sig64);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Continuation prompt with base64 of `text`. */
static void
challenge(struct conn *c, const char *text)
{
	char b64[512];
	if (b64_encode(text, strlen(text), b64, sizeof b64) < 0) {
		c->close_after_flush = 1;
		return;
	}
	put(c, c->proto == P_IMAP ? "+ %s\r\n" : "334 %s\r\n", b64);
}

static void
auth_ok(struct conn *c)
{
	n_logins++;
	c->sasl = S_NONE;
	if (c->proto == P_IMAP)
		put(c, "%s OK [CAPABILITY %s] Logged in\r\n", c->tag, imap_caps_post);
	else
		put(c, "235 2.7.0 Authentication successful\r\n");
}

static void
auth_fail(struct conn *c)
{
	n_bad_auth++;
	c->sasl = S_NONE;
	if (c->proto == P_IMAP)
		put(c, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
		    c->tag);
	else
		put(c, "535 5.7.8 Error: authentication failed\r\n");
}

/* One SASL step with the client's (still base64) data. */
static void
sasl_step(struct conn *c, const char *b64, size_t n)
{
	char msg[1024], reply[512];
	size_t len;
	if (n == 1 && b64[0] == '*') {
		c->sasl = S_NONE;
		if (c->proto == P_IMAP)
			put(c, "%s BAD Authentication aborted\r\n", c->tag);
		else
			put(c, "501 5.7.0 Authentication aborted\r\n");
		return;
	}
	if (b64_decode(b64, n, msg, sizeof msg, &len) < 0) {
		auth_fail(c);
		return;
	}
	switch (c->sasl) {
	case S_PLAIN:
	case S_LOGIN_PASS:
		auth_ok(c);          /* any password will do */
		break;
	case S_LOGIN_USER:
		c->sasl = S_LOGIN_PASS;
		challenge(c, "Password:");
		break;
	case S_SCRAM_FIRST:
		if (scram_first(c, msg, len, reply, sizeof reply) < 0) {
			auth_fail(c);
			return;
		}
		c->sasl = S_SCRAM_FINAL;
		challenge(c, reply);
		break;
	case S_SCRAM_FINAL:
		if (scram_final(c, msg, len, reply, sizeof reply) < 0) {
			auth_fail(c);
			return;
		}
		c->sasl = S_SCRAM_EMPTY;
		challenge(c, reply);
		break;
	case S_SCRAM_EMPTY:
		auth_ok(c);
		break;
	case S_NONE:
		break;
	}
}

/* "AUTHENTICATE MECH [ir]" / "AUTH MECH [ir]": the arguments after the verb. */
static void
sasl_start(struct conn *c, const char *args)
{
	char mech[32];
	size_t mlen = strcspn(args, " ");
	if (mlen == 0 || mlen >= sizeof mech) {
		auth_fail(c);
		return;
	}
	memcpy(mech, args, mlen);
	mech[mlen] = '\0';
	const char *ir = args[mlen] == ' ' ? args + mlen + 1 : NULL;
	if (strcasecmp(mech, "PLAIN") == 0)
		c->sasl = S_PLAIN;
	else if (strcasecmp(mech, "LOGIN") == 0)
		c->sasl = S_LOGIN_USER;
	else if (use_scram && strcasecmp(mech, "SCRAM-SHA-256") == 0)
		c->sasl = S_SCRAM_FIRST;
	else {
		if (c->proto == P_IMAP)
			put(c, "%s NO Unsupported authentication mechanism\r\n",
			    c->tag);
		else
			put(c, "504 5.5.4 Unsupported authentication mechanism\r\n");
		return;
	}
	if (ir) {
		/* "=" is an empty initial response. */
		sasl_step(c, ir, strcmp(ir, "=") == 0 ? 0 : strlen(ir));
	} else if (c->sasl == S_LOGIN_USER) {
		challenge(c, "Username:");
	} else {
		put(c, c->proto == P_IMAP ? "+ \r\n" : "334 \r\n");
	}
}

/* ---- IMAP ------------------------------------------------------------- */

static void
imap_line(struct conn *c, char *line)
{
	if (c->sasl != S_NONE) {
		sasl_step(c, line, strlen(line));
		return;
	}
	char *sp = strchr(line, ' ');
	if (!sp || (size_t)(sp - line) >= sizeof c->tag) {
		put(c, "* BAD Error in IMAP command received by server.\r\n");
		return;
	}
	memcpy(c->tag, line, (size_t)(sp - line));
	c->tag[sp - line] = '\0';
	char *cmd = sp + 1;
	char *args = strchr(cmd, ' ');
	if (args)
		*args++ = '\0';
	else
		args = cmd + strlen(cmd);

	if (strcasecmp(cmd, "CAPABILITY") == 0) {
		put(c, "* CAPABILITY %s%s\r\n"
		    "%s OK Pre-login capabilities listed.\r\n", imap_caps_pre, use_scram ? " AUTH=SCRAM-SHA-256" : "", c->tag);
	} else if (strcasecmp(cmd, "NOOP") == 0) {
		put(c, "%s OK NOOP completed.\r\n", c->tag);
	} else if (strcasecmp(cmd, "LOGIN") == 0) {
		if (strchr(args, '{'))
			put(c, "%s BAD Literals are not supported here.\r\n", c->tag);
		else
			auth_ok(c);
	} else if (strcasecmp(cmd, "AUTHENTICATE") == 0) {
		sasl_start(c, args);
	} else if (strcasecmp(cmd, "EXAMINE") == 0 ||
	           strcasecmp(cmd, "SELECT") == 0) {
		int ro = toupper((unsigned char)cmd[0]) == 'E';
		put(c, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
		    "* OK [PERMANENTFLAGS (%s)] %s\r\n"
		    "* 0 EXISTS\r\n* 0 RECENT\r\n"
		    "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
		    "* OK [UIDNEXT 1] Predicted next UID\r\n"
		    "%s OK [%s] %s completed.\r\n",
		    ro ? "" : "\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*",
		    ro ? "Read-only mailbox." : "Flags permitted.", c->tag,
		    ro ? "READ-ONLY" : "READ-WRITE", ro ? "Examine" : "Select");
	} else if (strcasecmp(cmd, "LOGOUT") == 0) {
		put(c, "* BYE Logging out\r\n%s OK Logout completed.\r\n", c->tag);
		c->close_after_flush = 1;
	} else {
		put(c, "%s BAD Error in IMAP command %s: Unknown command.\r\n",
		    c->tag, cmd);
	}
}

/* ---- SMTP ------------------------------------------------------------- */

static int
verb_is(const char *line, const char *verb)
{
	size_t n = strlen(verb);
	return strncasecmp(line, verb, n) == 0 &&
	       (line[n] == '\0' || line[n] == ' ' || line[n] == ':');
}

static void
smtp_line(struct conn *c, char *line)
{
	if (c->in_data) {
		if (strcmp(line, ".") == 0) {
			c->in_data = 0;
			n_messages++;
			put(c, "250 2.0.0 Ok: queued as BENCH%lu\r\n", n_messages);
		}
		return;
	}
	if (c->sasl != S_NONE) {
		sasl_step(c, line, strlen(line));
		return;
	}
	if (verb_is(line, "EHLO")) {
		put(c, "250-localhost\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
		    "250-AUTH PLAIN LOGIN%s\r\n250-ENHANCEDSTATUSCODES\r\n"
		    "250-8BITMIME\r\n250 SMTPUTF8\r\n",
		    use_scram ? " SCRAM-SHA-256" : "");
	} else if (verb_is(line, "HELO")) {
		put(c, "250 localhost\r\n");
	} else if (verb_is(line, "AUTH")) {
		sasl_start(c, line[4] == ' ' ? line + 5 : "");
	} else if (verb_is(line, "MAIL")) {
		put(c, "250 2.1.0 Ok\r\n");
	} else if (verb_is(line, "RCPT")) {
		put(c, "250 2.1.5 Ok\r\n");
	} else if (verb_is(line, "DATA")) {
		c->in_data = 1;
		put(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
	} else if (verb_is(line, "RSET") || verb_is(line, "NOOP")) {
		put(c, "250 2.0.0 Ok\r\n");
	} else if (verb_is(line, "QUIT")) {
		put(c, "221 2.0.0 Bye\r\n");
		c->close_after_flush = 1;
	} else {
		put(c, "502 5.5.2 Error: command not recognized\r\n");
	}
}

/* ---- connection ------------------------------------------------------- */

static void
process_input(struct conn *c)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		if (!nl)
			break;
		size_t end = (size_t)(nl - c->in);
		size_t len = end - start;
		if (len && c->in[start + len - 1] == '\r')
			len--;
		c->in[start + len] = '\0';
		if (c->proto == P_IMAP)
			imap_line(c, c->in + start);
		else
			smtp_line(c, c->in + start);
		start = end + 1;
		if (c->close_after_flush)
			break;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len == IN_MAX) {
		/* An endless line: inside DATA just forget it, else give up. */
		if (c->in_data)
			c->in_len = 0;
		else
			c->close_after_flush = 1;
	}
}

/* Drive one connection after an event; frees it when finished. */
static void
conn_event(struct conn *c)
{
	if (c->state == C_HANDSHAKE) {
		int rc = gnutls_handshake(c->tls);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			watch(c, gnutls_record_get_direction(c->tls) ? EPOLLOUT
			                                              : EPOLLIN);
			return;
		}
		if (rc < 0) {
			n_failed_handshakes++;
			conn_close(c);
			return;
		}
		n_handshakes++;
		c->state = C_OPEN;
		if (c->proto == P_IMAP)
			put(c, "* OK [CAPABILITY %s%s] bench-server ready.\r\n",
			    imap_caps_pre, use_scram ? " AUTH=SCRAM-SHA-256" : "");
		else
			put(c, "220 localhost ESMTP bench-server\r\n");
	}
	for (;;) {
		int f = flush(c);
		if (f < 0) {
			conn_close(c);
			return;
		}
		if (f > 0) {
			watch(c, EPOLLOUT);
			return;
		}
		if (c->close_after_flush) {
			gnutls_bye(c->tls, GNUTLS_SHUT_WR);
			conn_close(c);
			return;
		}
		ssize_t n = gnutls_record_recv(c->tls, c->in + c->in_len,
		                               IN_MAX - c->in_len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			watch(c, EPOLLIN);
			return;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->in_len += (size_t)n;
		process_input(c);
	}
}

static int
listen_on(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = { .sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)*port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("bind", strerror(errno));
	if (listen(fd, 65535) != 0)
		die("listen", strerror(errno));
	socklen_t len = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
accept_all(int lfd, enum proto proto)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;         /* EAGAIN, or EMFILE: try again later */
		struct conn *c = calloc(1, sizeof *c);
		if (!c || gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0) {
			free(c);
			close(fd);
			continue;
		}
		n_accepted++;
		c->fd = fd;
		c->proto = proto;
		gnutls_priority_set(c->tls, prio);
		gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, creds);
		gnutls_transport_set_int(c->tls, fd);
		gnutls_handshake_set_timeout(c->tls, 0);
		conn_event(c);
	}
}

static double
tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *password = NULL;
	int imap_port = 0, smtp_port = 0;
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "password", required_argument, NULL, 'p' },
		{ "scram", no_argument, NULL, 's' },
		{ "imap-port", required_argument, NULL, 'i' },
		{ "smtp-port", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'p': password = optarg; break;
		case 's': use_scram = 1; break;
		case 'i': imap_port = atoi(optarg); break;
		case 'm': smtp_port = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-server --cert PEM --key PEM "
			        "[--password PW --scram]\n"
			        "    [--imap-port N] [--smtp-port N]\n");
			return 2;
		}
	}
	if (!cert || !key || (use_scram && !password))
		die("usage", "--cert and --key are required "
		    "(and --password with --scram)");

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	gnutls_global_init();
	if (gnutls_certificate_allocate_credentials(&creds) < 0 ||
	    gnutls_certificate_set_x509_key_file(creds, cert, key,
	                                         GNUTLS_X509_FMT_PEM) < 0)
		die(cert, "cannot load certificate and key");
	if (gnutls_priority_init(&prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	                         NULL) < 0)
		die("priority", "invalid");
	if (use_scram)
		scram_setup(password);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	int imap_fd = listen_on(&imap_port), smtp_fd = listen_on(&smtp_port);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &imap_fd };
	epoll_ctl(epfd, EPOLL_CTL_ADD, imap_fd, &ev);
	ev.data.ptr = &smtp_fd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, smtp_fd, &ev);
	printf("imap=%d smtp=%d\n", imap_port, smtp_port);
	fflush(stdout);

	struct epoll_event events[MAX_EVENTS];
	while (!stop) {
		int n = epoll_wait(epfd, events, MAX_EVENTS, 500);
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;
			if (p == &imap_fd)
				accept_all(imap_fd, P_IMAP);
			else if (p == &smtp_fd)
				accept_all(smtp_fd, P_SMTP);
			else
				conn_event(p);
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"cpu_s\": %.3f, \"accepted\": %lu, \"handshakes\": %lu, "
	       "\"failed_handshakes\": %lu, \"logins\": %lu, \"bad_auth\": %lu, "
	       "\"messages\": %lu}\n", tv_s(ru.ru_utime) + tv_s(ru.ru_stime),
	       n_accepted, n_handshakes, n_failed_handshakes, n_logins, n_bad_auth,
	       n_messages);
	fflush(stdout);
	return 0;
}
