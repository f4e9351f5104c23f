/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bulk driver: N verifications in flight at once in one thread (public API,
 * one epoll over all session fds), or, for comparison, N pairs of bare
 * GnuTLS handshakes with the same trust and checks. Prints one JSON line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mailconn.h>

#include "bench-util.h"

#define MAX_EVENTS 512
#define SCAN_MS 100              /* timer scan and fd sampling period */

struct opts {
	const char *mode, *host, *address, *ca_file, *user, *password, *bcc;
	int n, imap_port, smtp_port, overlap, security;
};

/* Make VmHWM start again from the current RSS (Linux >= 4.0). */
static void
reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "5", 1) != 1)
			fprintf(stderr, "mailconn-bench: cannot reset VmHWM\n");
		close(fd);
	}
}

/* Sampling /proc/self/fd is the benchmark's cost, not the library's: its
 * CPU time is measured and subtracted. */
static int fd_peak;
static double sampling_cpu;

static void
sample_fds(void)
{
	double c0 = cpu_s();
	int n = count_fds();
	if (n > fd_peak)
		fd_peak = n;
	sampling_cpu += cpu_s() - c0;
}

/* Room for `want` descriptors: the soft limit up to the hard one, and the
 * hard one too when that is not enough (works for root only). */
static void
raise_nofile(rlim_t want, char *note, size_t note_size)
{
	struct rlimit rl;
	note[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t old_hard = rl.rlim_max;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		struct rlimit more = { want, want };
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			snprintf(note, note_size, "raised hard RLIMIT_NOFILE "
			         "%lu -> %lu", (unsigned long)old_hard,
			         (unsigned long)want);
		else
			snprintf(note, note_size, "RLIMIT_NOFILE hard limit %lu < "
			         "%lu needed", (unsigned long)old_hard,
			         (unsigned long)want);
	}
}

static void
print_common(const struct opts *o, double wall, double cpu, long rss0,
             long hwm, int fd_base, const char *note)
{
	printf("\"mode\": \"%s\", \"n\": %d, \"wall_s\": %.4f, \"cpu_s\": %.4f, "
	       "\"rss_base_kb\": %ld, \"hwm_kb\": %ld, \"fd_base\": %d, "
	       "\"fd_peak\": %d, \"note\": \"%s\"", o->mode, o->n, wall, cpu, rss0,
	       hwm, fd_base, fd_peak, note);
}

/* ---- verifications through the public API ----------------------------- */

struct slot {
	mailconn_session *s;
	int fd;                      /* registered in our epoll, or -1 */
	unsigned events;
	double deadline;             /* step by then even without events */
};

static int epfd;

static void
rewatch(struct slot *sl, int index)
{
	int fd = mailconn_session_fd(sl->s);
	unsigned ev = mailconn_session_events(sl->s);
	uint32_t want = ((ev & MAILCONN_WAIT_READ) ? EPOLLIN : 0) |
	                ((ev & MAILCONN_WAIT_WRITE) ? EPOLLOUT : 0);
	if (fd != sl->fd && sl->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, sl->fd, NULL);
		sl->fd = -1;
	}
	if (fd >= 0 && (fd != sl->fd || want != sl->events)) {
		struct epoll_event e = { .events = want,
		                         .data.u32 = (uint32_t)index };
		epoll_ctl(epfd, fd == sl->fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
		sl->fd = fd;
		sl->events = want;
	}
	int t = mailconn_session_timeout_ms(sl->s);
	sl->deadline = t < 0 ? 1e300 : now_s() + t / 1000.0;
}

struct tally {
	int done, ok;
	int outcome[10];
	char imap_mech[32], smtp_mech[32];
};

static void
finish(struct slot *sl, struct tally *t)
{
	if (sl->fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, sl->fd, NULL);
	sl->fd = -1;
	mailconn_error e = mailconn_session_outcome(sl->s);
	t->done++;
	if (e == MAILCONN_OK)
		t->ok++;
	else if (t->outcome[(int)e < 10 ? e : 9]++ == 0)
		fprintf(stderr, "mailconn-bench: %s (%s) at %s: %s %s\n",
		        mailconn_error_name(e),
		        mailconn_cause_name(mailconn_session_cause(sl->s)),
		        mailconn_stage_name(mailconn_session_stage(sl->s)),
		        mailconn_session_detail(sl->s),
		        mailconn_session_server_reply(sl->s));
	if (!t->imap_mech[0])
		snprintf(t->imap_mech, sizeof t->imap_mech, "%s",
		         mailconn_session_fact(sl->s, MAILCONN_STAGE_IMAP_LOGIN,
		                               MAILCONN_FACT_AUTH_MECHANISM));
	if (!t->smtp_mech[0])
		snprintf(t->smtp_mech, sizeof t->smtp_mech, "%s",
		         mailconn_session_fact(sl->s, MAILCONN_STAGE_SMTP_LOGIN,
		                               MAILCONN_FACT_AUTH_MECHANISM));
	mailconn_session_free(sl->s);
	sl->s = NULL;
}

static int
set_s(mailconn_config *cfg, mailconn_option id, const char *v)
{
	if (mailconn_config_set_string(cfg, id, v) != MAILCONN_OK) {
		fprintf(stderr, "mailconn-bench: %s\n", mailconn_config_error(cfg));
		return -1;
	}
	return 0;
}

static int
set_i(mailconn_config *cfg, mailconn_option id, int64_t v)
{
	if (mailconn_config_set_int(cfg, id, v) != MAILCONN_OK) {
		fprintf(stderr, "mailconn-bench: %s\n", mailconn_config_error(cfg));
		return -1;
	}
	return 0;
}

static int
run_verify(const struct opts *o)
{
	char note[128];
	raise_nofile((rlim_t)o->n * (o->overlap ? 3 : 2) + 64, note, sizeof note);
	mailconn_config *cfg = mailconn_config_new();
	if (!cfg ||
	    set_s(cfg, MAILCONN_OPT_EMAIL, o->user) ||
	    set_s(cfg, MAILCONN_OPT_PASSWORD, o->password) ||
	    set_s(cfg, MAILCONN_OPT_IMAP_HOST, o->host) ||
	    set_s(cfg, MAILCONN_OPT_SMTP_HOST, o->host) ||
	    set_s(cfg, MAILCONN_OPT_IMAP_ADDRESS, o->address) ||
	    set_s(cfg, MAILCONN_OPT_SMTP_ADDRESS, o->address) ||
	    set_s(cfg, MAILCONN_OPT_BCC, o->bcc) ||
	    set_s(cfg, MAILCONN_OPT_CA_FILE, o->ca_file) ||
	    set_i(cfg, MAILCONN_OPT_IMAP_PORT, o->imap_port) ||
	    set_i(cfg, MAILCONN_OPT_SMTP_PORT, o->smtp_port) ||
	    set_i(cfg, MAILCONN_OPT_IMAP_SECURITY, o->security) ||
	    set_i(cfg, MAILCONN_OPT_SMTP_SECURITY, o->security) ||
	    set_i(cfg, MAILCONN_OPT_OVERLAP, o->overlap) ||
	    set_i(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, 120000) ||
	    set_i(cfg, MAILCONN_OPT_DEADLINE_MS, 600000))
		return 2;

	/* The first session loads the trust store into the config; that
	 * one-off cost is reported apart from the per-verification figures. */
	double setup0 = cpu_s();
	mailconn_session *warm = NULL;
	if (mailconn_session_new(cfg, &warm) != MAILCONN_OK)
		return 2;
	mailconn_session_free(warm);
	double setup_cpu = cpu_s() - setup0;

	struct slot *slots = calloc((size_t)o->n, sizeof *slots);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!slots || epfd < 0)
		return 2;
	int fd_base = count_fds();
	reset_peak_rss();
	long rss0 = status_kb("VmRSS");
	double t0 = now_s(), c0 = cpu_s();

	struct tally t = { 0 };
	int n = o->n;                /* sessions actually in flight */
	for (int i = 0; i < n; i++) {
		slots[i].fd = -1;
		mailconn_error rc = mailconn_session_new(cfg, &slots[i].s);
		if (rc == MAILCONN_E_SYSTEM && i > 0) {
			/* Out of descriptors: run what fits and say so. */
			size_t len = strlen(note);
			snprintf(note + len, sizeof note - len, "%ssession_new "
			         "failed (E_SYSTEM) after %d sessions",
			         len ? "; " : "", i);
			slots[i].s = NULL;
			n = i;
			break;
		}
		if (rc != MAILCONN_OK) {
			fprintf(stderr, "mailconn-bench: session %d: %s (%s)\n", i,
			        mailconn_error_name(rc), note);
			return 2;
		}
		if (mailconn_session_step(slots[i].s) == MAILCONN_DONE)
			finish(&slots[i], &t);
		else
			rewatch(&slots[i], i);
	}
	sample_fds();

	struct epoll_event ev[MAX_EVENTS];
	double next_scan = now_s() + SCAN_MS / 1000.0;
	int *now_list = malloc((size_t)n * sizeof *now_list);
	if (!now_list)
		return 2;
	while (t.done < n) {
		int n_ev = epoll_wait(epfd, ev, MAX_EVENTS, SCAN_MS);
		int n_now = 0;
		for (int k = 0; k < n_ev; k++) {
			struct slot *sl = &slots[ev[k].data.u32];
			if (!sl->s)
				continue;
			if (mailconn_session_step(sl->s) == MAILCONN_DONE)
				finish(sl, &t);
			else {
				rewatch(sl, (int)ev[k].data.u32);
				if (mailconn_session_timeout_ms(sl->s) == 0)
					now_list[n_now++] = (int)ev[k].data.u32;
			}
		}
		/* Data GnuTLS already decrypted is not announced by the fd. */
		while (n_now > 0) {
			int m = 0;
			for (int k = 0; k < n_now; k++) {
				struct slot *sl = &slots[now_list[k]];
				if (!sl->s)
					continue;
				if (mailconn_session_step(sl->s) == MAILCONN_DONE)
					finish(sl, &t);
				else {
					rewatch(sl, now_list[k]);
					if (mailconn_session_timeout_ms(sl->s) == 0)
						now_list[m++] = now_list[k];
				}
			}
			n_now = m;
		}
		double now = now_s();
		if (now >= next_scan) {
			next_scan = now + SCAN_MS / 1000.0;
			for (int i = 0; i < n; i++) {
				struct slot *sl = &slots[i];
				if (!sl->s || sl->deadline > now)
					continue;
				if (mailconn_session_step(sl->s) == MAILCONN_DONE)
					finish(sl, &t);
				else
					rewatch(sl, i);
			}
			sample_fds();
		}
	}
	double wall = now_s() - t0, cpu = cpu_s() - c0 - sampling_cpu;
	long hwm = status_kb("VmHWM");
	printf("{");
	print_common(o, wall, cpu, rss0, hwm, fd_base, note);
	printf(", \"in_flight\": %d, \"setup_cpu_s\": %.4f, \"ok\": %d, "
	       "\"failed\": %d, \"imap_mech\": \"%s\", \"smtp_mech\": \"%s\", "
	       "\"overlap\": %d}\n", n, setup_cpu, t.ok, n - t.ok, t.imap_mech,
	       t.smtp_mech, o->overlap);
	free(now_list);
	free(slots);
	close(epfd);
	mailconn_config_free(cfg);
	return t.ok == n ? 0 : 1;
}

/* ---- bare TLS handshakes, the floor for CPU --------------------------- */

/* Same as the library's priority string (lib/tls.c). */
static const char tls_priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

struct hs {
	int fd;
	int phase;                   /* 0 IMAP port, 1 SMTP port, 2 done */
	int connected;
	gnutls_session_t tls;
};

static int
hs_connect(struct hs *h, const struct opts *o, int index)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_port = htons((uint16_t)(h->phase == 0 ? o->imap_port : o->smtp_port));
	inet_pton(AF_INET, o->address, &sa.sin_addr);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -1;
	if (connect(h->fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
	    errno != EINPROGRESS)
		return -1;
	h->connected = 0;
	struct epoll_event e = { .events = EPOLLOUT, .data.u32 = (uint32_t)index };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, h->fd, &e);
}

/* Chain, dates, server purpose and host name, as the library checks. */
static int
hs_verify(gnutls_session_t tls, const char *host)
{
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER,
	};
	unsigned status = 0;
	if (gnutls_certificate_verify_peers(tls, &purpose, 1, &status) < 0 ||
	    status != 0)
		return -1;
	unsigned n = 0;
	const gnutls_datum_t *list = gnutls_certificate_get_peers(tls, &n);
	gnutls_x509_crt_t crt;
	if (!list || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	int ok = gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) >= 0 &&
	         gnutls_x509_crt_check_hostname2(crt, host, 0);
	gnutls_x509_crt_deinit(crt);
	return ok ? 0 : -1;
}

/* Advance one pair after an event: -1 still running, 0 failed, 1 both
 * handshakes done and verified. */
static int
hs_event(struct hs *h, int index, const struct opts *o,
         gnutls_certificate_credentials_t creds)
{
	int ok = 0;
	if (!h->connected) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			goto close;
		h->connected = 1;
		gnutls_init(&h->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
		gnutls_priority_set_direct(h->tls, tls_priority, NULL);
		gnutls_credentials_set(h->tls, GNUTLS_CRD_CERTIFICATE, creds);
		gnutls_server_name_set(h->tls, GNUTLS_NAME_DNS, o->host,
		                       strlen(o->host));
		gnutls_transport_set_int(h->tls, h->fd);
		gnutls_handshake_set_timeout(h->tls, 0);
	}
	int rc = gnutls_handshake(h->tls);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		struct epoll_event e = { .data.u32 = (uint32_t)index };
		e.events = gnutls_record_get_direction(h->tls) ? EPOLLOUT : EPOLLIN;
		epoll_ctl(epfd, EPOLL_CTL_MOD, h->fd, &e);
		return -1;
	}
	ok = rc == 0 && hs_verify(h->tls, o->host) == 0;
close:
	if (h->tls)
		gnutls_deinit(h->tls);
	h->tls = NULL;
	epoll_ctl(epfd, EPOLL_CTL_DEL, h->fd, NULL);
	close(h->fd);
	if (ok && h->phase == 0) {
		h->phase = 1;
		if (hs_connect(h, o, index) == 0)
			return -1;
		ok = 0;
	}
	h->phase = 2;
	return ok;
}

static int
run_handshakes(const struct opts *o)
{
	char note[128];
	raise_nofile((rlim_t)o->n + 64, note, sizeof note);
	double setup0 = cpu_s();
	gnutls_certificate_credentials_t creds;
	if (gnutls_certificate_allocate_credentials(&creds) < 0)
		return 2;
	gnutls_certificate_set_x509_system_trust(creds);
	if (gnutls_certificate_set_x509_trust_file(creds, o->ca_file,
	                                           GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "mailconn-bench: cannot load %s\n", o->ca_file);
		return 2;
	}
	double setup_cpu = cpu_s() - setup0;
	struct hs *hs = calloc((size_t)o->n, sizeof *hs);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!hs || epfd < 0)
		return 2;
	int fd_base = count_fds();
	reset_peak_rss();
	long rss0 = status_kb("VmRSS");
	double t0 = now_s(), c0 = cpu_s();
	int done = 0, ok = 0;
	for (int i = 0; i < o->n; i++)
		if (hs_connect(&hs[i], o, i) < 0) {
			fprintf(stderr, "mailconn-bench: connect: %s\n",
			        strerror(errno));
			return 2;
		}
	sample_fds();
	struct epoll_event ev[MAX_EVENTS];
	double next_scan = now_s() + SCAN_MS / 1000.0;
	while (done < o->n) {
		int n = epoll_wait(epfd, ev, MAX_EVENTS, SCAN_MS);
		for (int k = 0; k < n; k++) {
			int r = hs_event(&hs[ev[k].data.u32], (int)ev[k].data.u32, o,
			                 creds);
			if (r >= 0) {
				done++;
				ok += r;
			}
		}
		if (now_s() >= next_scan) {
			next_scan = now_s() + SCAN_MS / 1000.0;
			sample_fds();
		}
	}
	double wall = now_s() - t0, cpu = cpu_s() - c0 - sampling_cpu;
	long hwm = status_kb("VmHWM");
	printf("{");
	print_common(o, wall, cpu, rss0, hwm, fd_base, note);
	printf(", \"setup_cpu_s\": %.4f, \"ok\": %d, \"failed\": %d}\n",
	       setup_cpu, ok, o->n - ok);
	free(hs);
	close(epfd);
	gnutls_certificate_free_credentials(creds);
	return ok == o->n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct opts o = { .n = 1, .host = "localhost", .address = "127.0.0.1",
	                  .security = MAILCONN_SECURITY_TLS };
	static const struct option lo[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "host", required_argument, NULL, 'h' },
		{ "address", required_argument, NULL, 'a' },
		{ "imap-port", required_argument, NULL, 'i' },
		{ "smtp-port", required_argument, NULL, 's' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-env", required_argument, NULL, 'p' },
		{ "bcc", required_argument, NULL, 'b' },
		{ "overlap", no_argument, NULL, 'o' },
		{ "starttls", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o.n = atoi(optarg); break;
		case 'h': o.host = optarg; break;
		case 'a': o.address = optarg; break;
		case 'i': o.imap_port = atoi(optarg); break;
		case 's': o.smtp_port = atoi(optarg); break;
		case 'c': o.ca_file = optarg; break;
		case 'u': o.user = optarg; break;
		case 'p': o.password = getenv(optarg); break;
		case 'b': o.bcc = optarg; break;
		case 'o': o.overlap = 1; break;
		case 'S': o.security = MAILCONN_SECURITY_STARTTLS; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || o.n < 1 || !o.imap_port || !o.smtp_port ||
	    !o.ca_file)
		goto usage;
	o.mode = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(o.mode, "verify") == 0) {
		if (!o.user || !o.password || !o.bcc)
			goto usage;
		return run_verify(&o);
	}
	if (strcmp(o.mode, "handshake") == 0)
		return run_handshakes(&o);
usage:
	fprintf(stderr, "usage: mailconn-bench verify|handshake --n N "
	        "--imap-port P --smtp-port P --ca-file PEM [--host NAME] "
	        "[--address IP]\n    verify: --user ADDR --password-env VAR "
	        "--bcc ADDR [--overlap] [--starttls]\n");
	return 2;
}
