/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libcurl alternative for the bulk benchmark: N verifications at once
 * in one thread with the multi interface on epoll (curl_multi_socket_action).
 * Each one is an IMAP login + EXAMINE INBOX, then an SMTP send. One JSON line.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench-util.h"

#define MAX_EVENTS 512

struct opts {
	const char *host, *address, *ca_file, *user, *password, *bcc;
	int n, imap_port, smtp_port;
};

struct verification {
	CURL *easy;
	int phase;                   /* 0 IMAP, 1 SMTP */
	size_t sent;                 /* of the message, while uploading */
};

static int epfd;
static double timer_at = -1;     /* when curl wants its timeout action */
static char message[512];
static size_t message_len;
static struct curl_slist *resolve, *rcpt;
static const struct opts *opt;
static int fd_peak;
static double sampling_cpu;
static char first_error[256];

static void
sample_fds(void)
{
	double c0 = cpu_s();
	int n = count_fds();
	if (n > fd_peak)
		fd_peak = n;
	sampling_cpu += cpu_s() - c0;
}

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	struct epoll_event ev = { .data.fd = s };
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	/* socketp tells a new socket from one already registered. */
	if (!socketp) {
		epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
		curl_multi_assign(userp, s, &epfd);
	} else {
		epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
	}
	return 0;
}

static int
on_timer(CURLM *multi, long ms, void *userp)
{
	(void)multi;
	(void)userp;
	timer_at = ms < 0 ? -1 : now_s() + ms / 1000.0;
	return 0;
}

static size_t
discard(char *p, size_t size, size_t n, void *userdata)
{
	(void)p;
	(void)userdata;
	return size * n;
}

static size_t
upload(char *buf, size_t size, size_t n, void *userdata)
{
	struct verification *v = userdata;
	size_t left = message_len - v->sent, room = size * n;
	size_t k = left < room ? left : room;
	memcpy(buf, message + v->sent, k);
	v->sent += k;
	return k;
}

static CURL *
make_easy(struct verification *v)
{
	char url[300];
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	if (v->phase == 0) {
		snprintf(url, sizeof url, "imaps://%s:%d/", opt->host,
		         opt->imap_port);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "EXAMINE INBOX");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	} else {
		snprintf(url, sizeof url, "smtps://%s:%d/localhost", opt->host,
		         opt->smtp_port);
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, opt->user);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, upload);
		curl_easy_setopt(e, CURLOPT_READDATA, v);
		curl_easy_setopt(e, CURLOPT_INFILESIZE, (long)message_len);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_USERNAME, opt->user);
	curl_easy_setopt(e, CURLOPT_PASSWORD, opt->password);
	curl_easy_setopt(e, CURLOPT_CAINFO, opt->ca_file);
	/* Only the test CA, like the library's CA file (no per-connection
	 * parse of /etc/ssl/certs). */
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
	/* Every verification gets its own connections and handshakes. */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 120L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, v);
	return e;
}

/* A transfer ended: an IMAP one is followed by the SMTP one. */
static void
on_done(CURLM *multi, CURLMsg *m, int *done, int *ok)
{
	struct verification *v;
	CURL *e = m->easy_handle;
	CURLcode rc = m->data.result;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&v);
	curl_multi_remove_handle(multi, e);
	curl_easy_cleanup(e);
	v->easy = NULL;
	if (rc != CURLE_OK) {
		if (!first_error[0])
			snprintf(first_error, sizeof first_error, "%s: %s",
			         v->phase ? "smtp" : "imap", curl_easy_strerror(rc));
		(*done)++;
	} else if (v->phase == 0) {
		v->phase = 1;
		v->easy = make_easy(v);
		if (!v->easy || curl_multi_add_handle(multi, v->easy) != CURLM_OK)
			(*done)++;
	} else {
		(*done)++;
		(*ok)++;
	}
}

int
main(int argc, char **argv)
{
	static struct opts o = { .n = 1, .host = "localhost",
	                         .address = "127.0.0.1" };
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
		default:
			fprintf(stderr, "usage: curl-multi --n N --imap-port P "
			        "--smtp-port P --ca-file PEM --user ADDR "
			        "--password-env VAR --bcc ADDR\n");
			return 2;
		}
	}
	if (o.n < 1 || !o.imap_port || !o.smtp_port || !o.ca_file || !o.user ||
	    !o.password || !o.bcc)
		return 2;
	opt = &o;

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char entry[300];
	snprintf(entry, sizeof entry, "%s:%d:%s", o.host, o.imap_port, o.address);
	resolve = curl_slist_append(resolve, entry);
	snprintf(entry, sizeof entry, "%s:%d:%s", o.host, o.smtp_port, o.address);
	resolve = curl_slist_append(resolve, entry);
	rcpt = curl_slist_append(NULL, o.bcc);
	int ml = snprintf(message, sizeof message,
	                  "From: <%s>\r\nTo: <%s>\r\n"
	                  "Subject: libmailconn benchmark test message\r\n"
	                  "Message-ID: <bench@bench.test>\r\nMIME-Version: 1.0\r\n"
	                  "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	                  "This is a test message sent while checking the "
	                  "mailbox settings.\r\nIt can be deleted.\r\n",
	                  o.user, o.bcc);
	if (ml < 0 || (size_t)ml >= sizeof message)
		return 2;
	message_len = (size_t)ml;

	CURLM *multi = curl_multi_init();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, multi);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	struct verification *vs = calloc((size_t)o.n, sizeof *vs);
	if (!vs)
		return 2;

	int fd_base = count_fds();
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "5", 1) != 1)
			fprintf(stderr, "curl-multi: cannot reset VmHWM\n");
		close(fd);
	}
	long rss0 = status_kb("VmRSS");
	double t0 = now_s(), c0 = cpu_s();
	for (int i = 0; i < o.n; i++) {
		vs[i].easy = make_easy(&vs[i]);
		if (!vs[i].easy)
			return 2;
		curl_multi_add_handle(multi, vs[i].easy);
	}
	int running = 0, done = 0, ok = 0;
	struct epoll_event ev[MAX_EVENTS];
	double next_sample = 0;
	while (done < o.n) {
		int wait = 100;
		if (timer_at >= 0) {
			double left = (timer_at - now_s()) * 1000.0;
			wait = left <= 0 ? 0 : left < 100 ? (int)left + 1 : 100;
		}
		int n = epoll_wait(epfd, ev, MAX_EVENTS, wait);
		for (int k = 0; k < n; k++) {
			int mask = 0;
			if (ev[k].events & (EPOLLIN | EPOLLHUP))
				mask |= CURL_CSELECT_IN;
			if (ev[k].events & EPOLLOUT)
				mask |= CURL_CSELECT_OUT;
			if (ev[k].events & EPOLLERR)
				mask |= CURL_CSELECT_ERR;
			curl_multi_socket_action(multi, ev[k].data.fd, mask,
			                         &running);
		}
		if (timer_at >= 0 && now_s() >= timer_at) {
			timer_at = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			                         &running);
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)))
			if (m->msg == CURLMSG_DONE)
				on_done(multi, m, &done, &ok);
		if (now_s() >= next_sample) {
			next_sample = now_s() + 0.1;
			sample_fds();
		}
	}
	double wall = now_s() - t0, cpu = cpu_s() - c0 - sampling_cpu;
	printf("{\"mode\": \"libcurl-multi\", \"n\": %d, \"wall_s\": %.4f, "
	       "\"cpu_s\": %.4f, \"rss_base_kb\": %ld, \"hwm_kb\": %ld, "
	       "\"fd_base\": %d, \"fd_peak\": %d, \"ok\": %d, \"failed\": %d, "
	       "\"first_error\": \"%s\", \"curl\": \"%s\"}\n", o.n, wall, cpu,
	       rss0, status_kb("VmHWM"), fd_base, fd_peak, ok, o.n - ok,
	       first_error, curl_version());
	curl_multi_cleanup(multi);
	curl_slist_free_all(resolve);
	curl_slist_free_all(rcpt);
	free(vs);
	curl_global_cleanup();
	return ok == o.n ? 0 : 1;
}
