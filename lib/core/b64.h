/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Base64 (RFC 4648, standard alphabet, with padding) over bounded buffers.
 * A core helper: the SASL code encodes with it and the scrubber derives
 * the encoded forms of a secret from it. */
#ifndef MAILCONN_CORE_B64_H
#define MAILCONN_CORE_B64_H

#include <stddef.h>

#include "core/buf.h"

/* Append the encoding of `in` to `out`. 0, or a buf error code. */
int mailconn__b64_encode(const unsigned char *in, size_t len,
                         struct mailconn__buf *out);
/* Append the decoding of `in` to `out`; whitespace is not allowed.
 * 0 on success, -1 out of memory, -2 limit, -3 malformed input. */
int mailconn__b64_decode(const char *in, size_t len, struct mailconn__buf *out);

#endif
