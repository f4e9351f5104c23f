/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal declarations shared by the public-API files and the driver. */
#ifndef MAILCONN_PRIVATE_H
#define MAILCONN_PRIVATE_H

#include <stdint.h>

#include "mailconn.h"

/* Option storage: the index of a string option is its id (1..STR_COUNT-1),
 * of an integer option its id minus 100. */
#define MAILCONN__STR_COUNT 17
#define MAILCONN__INT_COUNT 8

struct mailconn__trust;

struct mailconn_config {
	char *str[MAILCONN__STR_COUNT];
	int64_t num[MAILCONN__INT_COUNT];
	unsigned num_set;             /* bit i: num[i] set explicitly */
	mailconn_progress_fn progress;
	void *progress_userdata;
	mailconn_transcript_fn transcript;
	void *transcript_userdata;
	char error[256];              /* why the last setter failed */
	/* Credentials built for the first session, shared by later ones
	 * until a trust option changes. */
	struct mailconn__trust *trust;
};

/* Copy every setting of `src` into `dst` (fresh, zeroed). 0 or -1 (ENOMEM;
 * dst is then wiped and freed by the caller with mailconn__config_clear). */
int mailconn__config_copy(struct mailconn_config *dst,
                          const struct mailconn_config *src);
/* Wipe and free what a config holds, but not the struct itself. */
void mailconn__config_clear(struct mailconn_config *cfg);

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

/* Host name rules shared by the config check and the TLS name check:
 * the A-label (ASCII) form of `host` into `out` (size >= 256), without a
 * trailing dot. 0, or -1 when `host` is not a valid name or IP literal
 * (reason in `why`, size >= 128). */
int mailconn__host_to_ascii(const char *host, char *out, char *why);

/* Monotonic milliseconds. */
int64_t mailconn__now_ms(void);

#endif
