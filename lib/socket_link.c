/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The production link of a session: a real connection (conn.c). */
#include "link.h"

static void *
socket_open(void *ctx, const struct mailconn__conn_params *p)
{
	(void)ctx;
	return mailconn__conn_new(p);
}

static void
socket_close(void *link)
{
	mailconn__conn_free(link);
}

static enum mailconn__conn_status
socket_step(void *link, int64_t now)
{
	return mailconn__conn_step(link, now);
}

static int64_t
socket_wake_at(const void *link, int64_t now)
{
	return mailconn__conn_wake_at(link, now);
}

static mailconn_stage
socket_stage(const void *link)
{
	return mailconn__conn_stage(link);
}

static int
socket_held(const void *link)
{
	return mailconn__conn_held(link);
}

static void
socket_release(void *link)
{
	mailconn__conn_release(link);
}

static int
socket_connected(const void *link)
{
	return mailconn__conn_connected(link);
}

static const struct mailconn__failure *
socket_failure(const void *link)
{
	return mailconn__conn_failure(link);
}

static mailconn_cause
socket_waiting(const void *link, char *what, size_t size)
{
	return mailconn__conn_waiting(link, what, size);
}

const struct mailconn__link_ops mailconn__socket_link = {
	.open = socket_open,
	.close = socket_close,
	.step = socket_step,
	.wake_at = socket_wake_at,
	.stage = socket_stage,
	.held = socket_held,
	.release = socket_release,
	.connected = socket_connected,
	.failure = socket_failure,
	.waiting = socket_waiting,
};

