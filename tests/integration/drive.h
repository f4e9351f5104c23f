/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Driving many sessions in one thread with one poll() loop, the way a
 * bulk checker would; shared by the integration tests. */
#ifndef MAILCONN_TEST_DRIVE_H
#define MAILCONN_TEST_DRIVE_H

#include <poll.h>
#include <stdlib.h>

#include <mailconn.h>

/* Step every session until all are done or `max_rounds` poll rounds have
 * passed. Returns how many are still pending. */
static inline int
drive_all(mailconn_session **sessions, int count, int max_rounds)
{
	struct pollfd *pfds = calloc((size_t)count, sizeof *pfds);
	int pending = count;
	for (int round = 0; pfds && pending > 0 && round < max_rounds; round++) {
		int n = 0, timeout = -1;
		pending = 0;
		for (int i = 0; i < count; i++) {
			if (mailconn_session_step(sessions[i]) == MAILCONN_DONE)
				continue;
			pending++;
			pfds[n].fd = mailconn_session_fd(sessions[i]);
			pfds[n++].events = POLLIN;
			int t = mailconn_session_timeout_ms(sessions[i]);
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (pending)
			poll(pfds, (nfds_t)n, timeout);
	}
	free(pfds);
	return pending;
}

#endif
