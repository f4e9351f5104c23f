/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal declarations shared by the public-API files and the driver. */
#ifndef MAILCONN_PRIVATE_H
#define MAILCONN_PRIVATE_H

#include <stdint.h>

#include "mailconn.h"
#include "options.h"

struct mailconn__trust;
struct mailconn__trust_cache;

struct mailconn_config {
	char *str[MAILCONN__STR_COUNT];     /* by enum mailconn__string_slot */
	int64_t num[MAILCONN__INT_COUNT];   /* by enum mailconn__int_slot */
	unsigned num_set;             /* bit i: num[i] set explicitly */
	mailconn_progress_fn progress;
	void *progress_userdata;
	mailconn_transcript_fn transcript;
	void *transcript_userdata;
	char error[256];              /* why the last setter failed */
	int error_option;             /* the option it named, or 0 */
	/* Credentials built for the first session and shared by later ones
	 * until a trust option changes. Sessions may be made from one config
	 * in many threads at once, so it is built under its own lock. */
	struct mailconn__trust_cache *trust_cache;
};

/* Effective values, with defaults applied. */
const char *mailconn__config_str(const struct mailconn_config *cfg,
                                 mailconn_option option);
int64_t mailconn__config_int(const struct mailconn_config *cfg,
                             mailconn_option option);
/* Security with AUTO resolved from the port, and the port with its
 * default from the security. */
mailconn_security mailconn__config_security(const struct mailconn_config *cfg,
                                            mailconn_protocol proto);
int mailconn__config_port(const struct mailconn_config *cfg,
                          mailconn_protocol proto);
/* A new reference to the config's shared trust, built on first use
 * (thread-safe); NULL with the reason in `why` and the option at fault
 * (CA_FILE, CA_PATH or 0) in `bad` when it cannot be built. */
struct mailconn__trust *mailconn__config_trust(const struct mailconn_config *cfg,
                                               char *why, size_t why_size,
                                               mailconn_option *bad);

/* Host name rules shared by the config check and the TLS name check:
 * the A-label (ASCII) form of `host` into `out` (size >= 256), without a
 * trailing dot. 0, or -1 when `host` is not a valid name or IP literal
 * (reason in `why`, size >= 128). */
int mailconn__host_to_ascii(const char *host, char *out, char *why);

/* A SHA-256 fingerprint as MAILCONN_FACT_CERT_SHA256 shows it (any case,
 * colons optional) into 32 bytes. 0, or -1 when malformed. */
int mailconn__parse_sha256(const char *text, unsigned char out[32]);

/* Monotonic milliseconds. */
int64_t mailconn__now_ms(void);

#endif
