/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The crypto table (core/crypto.h) backed by GnuTLS, for the driver. */
#ifndef MAILCONN_CRYPTO_H
#define MAILCONN_CRYPTO_H

#include "core/crypto.h"

extern const struct mailconn__crypto mailconn__gnutls_crypto;

/* `n` unpredictable bytes (for identifiers such as the Message-ID, not
 * keys). 0, or -1 when the system's generator fails. */
int mailconn__random_bytes(void *out, size_t n);

#endif
