/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration resolved once, when a session is made: defaults
 * applied, AUTO security and default ports decided, host names in their
 * A-label form, identities chosen per protocol, secrets copied. The
 * session and its connections read only this, never the config.
 */
#ifndef MAILCONN_PLAN_H
#define MAILCONN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "mailconn.h"

struct mailconn_config;
struct mailconn__trust;
struct mailconn__language;

/* What one protocol's connection needs. Strings are owned by the plan. */
struct mailconn__server_plan {
	mailconn_protocol protocol;
	mailconn_stage first_stage;  /* IMAP_CONNECT or SMTP_CONNECT */
	char ascii_host[256];        /* A-label form, no trailing dot */
	int port;
	mailconn_security security;  /* never AUTO */
	char *address;               /* caller-resolved numeric address, or NULL */
	char *username;
	char *password;              /* secret; NULL when a token is used */
	char *oauth2_token;          /* secret; NULL when a password is used */
	int pinned;                  /* accept only the certificate in pin_sha256 */
	unsigned char pin_sha256[32];
};

struct mailconn__plan {
	struct mailconn__server_plan imap, smtp;
	char *from;                  /* the address: login default and sender */
	char *bcc;
	char *subject, *body;        /* NULL: the message's defaults */
	char *client_name;           /* EHLO argument */
	char *mechanisms;            /* MAILCONN_OPT_MECHANISMS, or NULL */
	int allow_untrusted;
	int overlap;
	int64_t stage_timeout_ms;
	int64_t deadline_ms;
	struct mailconn__trust *trust;   /* a reference of the plan's own */
	const struct mailconn__language *language;   /* static, never NULL */
};

/*
 * Resolve `cfg` into `plan` (zeroed by the caller). Thread-safe for one
 * config shared by many threads: the config is only read (its shared
 * trust is built under its own lock).
 * @return MAILCONN_OK; MAILCONN_E_MISSING_OPTION or MAILCONN_E_INVALID_CONFIG
 * with the reason in `why` and the option it names in `bad` (0 when no
 * single option is at fault); MAILCONN_E_NOMEM. On failure the plan is
 * already cleared.
 */
mailconn_error mailconn__plan_build(const struct mailconn_config *cfg,
                                    struct mailconn__plan *plan,
                                    char *why, size_t why_size,
                                    mailconn_option *bad);

/* Wipe the secrets and free what the plan holds. */
void mailconn__plan_clear(struct mailconn__plan *plan);

/* The plan of one protocol. */
const struct mailconn__server_plan *
mailconn__plan_server(const struct mailconn__plan *plan, mailconn_protocol p);

#endif
