/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A loopback listener that is never accepted, shared by the integration
 * tests: the kernel completes the TCP handshake, so a client connects
 * and then waits for a greeting that never comes. */
#ifndef MAILCONN_TEST_SILENT_SERVER_H
#define MAILCONN_TEST_SILENT_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* The listening fd, its port in *port; exits the test when impossible.
 * The backlog holds every connection the busiest test opens at once. */
static inline int
silent_server(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sin;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 512) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		perror("silent server");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

#endif
