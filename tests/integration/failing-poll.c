/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD shim: poll() (and ppoll(), and the fortified __poll_chk) fail
 * at once with -1 and the errno named by MAILCONN_FAIL_POLL ("ENOMEM" or
 * "EINVAL"; unset: the real function). It lets a test show what
 * mailconn_session_run() does when its own wait cannot happen. Everything
 * else, including epoll, is left alone.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *,
                        const sigset_t *);

int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);

static int
failure_errno(void)
{
	const char *e = getenv("MAILCONN_FAIL_POLL");
	if (!e || !*e)
		return 0;
	if (strcmp(e, "EINVAL") == 0)
		return EINVAL;
	return ENOMEM;
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int err = failure_errno();
	if (err) {
		errno = err;
		return -1;
	}
	static poll_fn real;
	if (!real)
		real = (poll_fn)dlsym(RTLD_NEXT, "poll");
	return real(fds, nfds, timeout);
}

int
__poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	(void)fdslen;
	return poll(fds, nfds, timeout);
}

int
ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
      const sigset_t *sigmask)
{
	int err = failure_errno();
	if (err) {
		errno = err;
		return -1;
	}
	static ppoll_fn real;
	if (!real)
		real = (ppoll_fn)dlsym(RTLD_NEXT, "ppoll");
	return real(fds, nfds, tmo, sigmask);
}
