/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TLS channel binding (RFC 5929, RFC 9266) as plain bytes: the TLS layer
 * fills it in and SCRAM-*-PLUS consumes it, so it belongs to neither.
 */
#ifndef MAILCONN_CORE_CBIND_H
#define MAILCONN_CORE_CBIND_H

#include <stddef.h>

struct mailconn__channel_binding {
	const char *type;            /* "tls-exporter" or "tls-unique"; NULL: none */
	const unsigned char *data;
	size_t len;
};

#endif
