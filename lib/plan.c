/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resolving a configuration into a session's plan (see plan.h). */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "private.h"
#include "proto/lang.h"
#include "tls.h"

static int
copy_str(char **dst, const char *src)
{
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

static const char *
first_set(const struct mailconn_config *cfg, mailconn_option a,
          mailconn_option b, mailconn_option c)
{
	const char *v = mailconn__config_str(cfg, a);
	if (!v && b)
		v = mailconn__config_str(cfg, b);
	if (!v && c)
		v = mailconn__config_str(cfg, c);
	return v;
}

static mailconn_error
resolve_server(const struct mailconn_config *cfg, mailconn_protocol protocol,
               struct mailconn__server_plan *sp, char *why, size_t why_size,
               mailconn_option *bad)
{
	int imap = protocol == MAILCONN_PROTOCOL_IMAP;
	sp->protocol = protocol;
	sp->first_stage = imap ? MAILCONN_STAGE_IMAP_CONNECT
	                       : MAILCONN_STAGE_SMTP_CONNECT;
	sp->port = mailconn__config_port(cfg, protocol);
	sp->security = mailconn__config_security(cfg, protocol);
	mailconn_option host = imap ? MAILCONN_OPT_IMAP_HOST : MAILCONN_OPT_SMTP_HOST;
	char reason[128];
	if (mailconn__host_to_ascii(mailconn__config_str(cfg, host), sp->ascii_host,
	                            reason) != 0) {
		snprintf(why, why_size, "%s %s", mailconn_option_name(host), reason);
		*bad = host;
		return MAILCONN_E_INVALID_CONFIG;
	}
	/* SMTP may have its own login; otherwise both use the custom
	 * username or, failing that, the address. */
	const char *user = imap
		? first_set(cfg, MAILCONN_OPT_USERNAME, MAILCONN_OPT_EMAIL, 0)
		: first_set(cfg, MAILCONN_OPT_SMTP_USERNAME, MAILCONN_OPT_USERNAME,
		            MAILCONN_OPT_EMAIL);
	const char *token = mailconn__config_str(cfg, MAILCONN_OPT_OAUTH2_TOKEN);
	const char *password = token ? NULL
		: imap ? mailconn__config_str(cfg, MAILCONN_OPT_PASSWORD)
		       : first_set(cfg, MAILCONN_OPT_SMTP_PASSWORD,
		                   MAILCONN_OPT_PASSWORD, 0);
	mailconn_option pin = imap ? MAILCONN_OPT_IMAP_CERT_SHA256
	                           : MAILCONN_OPT_SMTP_CERT_SHA256;
	const char *pin_text = mailconn__config_str(cfg, pin);
	if (pin_text) {
		/* A pin without TLS would silently protect nothing. */
		if (sp->security == MAILCONN_SECURITY_PLAIN) {
			snprintf(why, why_size, "%s needs TLS or STARTTLS, not plain",
			         mailconn_option_name(pin));
			*bad = pin;
			return MAILCONN_E_INVALID_CONFIG;
		}
		sp->pinned = mailconn__parse_sha256(pin_text, sp->pin_sha256) == 0;
	}
	if (copy_str(&sp->address, mailconn__config_str(cfg, imap
	                 ? MAILCONN_OPT_IMAP_ADDRESS : MAILCONN_OPT_SMTP_ADDRESS)) ||
	    copy_str(&sp->username, user) || copy_str(&sp->password, password) ||
	    copy_str(&sp->oauth2_token, token))
		return MAILCONN_E_NOMEM;
	return MAILCONN_OK;
}

mailconn_error
mailconn__plan_build(const struct mailconn_config *cfg,
                     struct mailconn__plan *plan, char *why, size_t why_size,
                     mailconn_option *bad)
{
	static const mailconn_option required[] = {
		MAILCONN_OPT_EMAIL, MAILCONN_OPT_IMAP_HOST, MAILCONN_OPT_SMTP_HOST,
		MAILCONN_OPT_BCC,
	};
	why[0] = '\0';
	*bad = 0;
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		if (!mailconn__config_str(cfg, required[i])) {
			snprintf(why, why_size, "%s is required",
			         mailconn_option_name(required[i]));
			*bad = required[i];
			return MAILCONN_E_MISSING_OPTION;
		}
	}
	if (!mailconn__config_str(cfg, MAILCONN_OPT_PASSWORD) &&
	    !mailconn__config_str(cfg, MAILCONN_OPT_OAUTH2_TOKEN)) {
		snprintf(why, why_size, "password or oauth2_token is required");
		/* Either would do; the password is the field users fill in. */
		*bad = MAILCONN_OPT_PASSWORD;
		return MAILCONN_E_MISSING_OPTION;
	}

	const char *client_name = mailconn__config_str(cfg, MAILCONN_OPT_CLIENT_NAME);
	mailconn_error rc = resolve_server(cfg, MAILCONN_PROTOCOL_IMAP, &plan->imap,
	                                   why, why_size, bad);
	if (rc == MAILCONN_OK)
		rc = resolve_server(cfg, MAILCONN_PROTOCOL_SMTP, &plan->smtp, why,
		                    why_size, bad);
	if (rc == MAILCONN_OK &&
	    (copy_str(&plan->from, mailconn__config_str(cfg, MAILCONN_OPT_EMAIL)) ||
	     copy_str(&plan->bcc, mailconn__config_str(cfg, MAILCONN_OPT_BCC)) ||
	     copy_str(&plan->subject, mailconn__config_str(cfg, MAILCONN_OPT_SUBJECT)) ||
	     copy_str(&plan->body, mailconn__config_str(cfg, MAILCONN_OPT_BODY)) ||
	     copy_str(&plan->client_name, client_name ? client_name : "localhost") ||
	     copy_str(&plan->mechanisms, mailconn__config_str(cfg, MAILCONN_OPT_MECHANISMS))))
		rc = MAILCONN_E_NOMEM;
	if (rc != MAILCONN_OK) {
		mailconn__plan_clear(plan);
		return rc;
	}
	plan->allow_untrusted =
		(int)mailconn__config_int(cfg, MAILCONN_OPT_ALLOW_UNTRUSTED_CERT);
	plan->overlap = (int)mailconn__config_int(cfg, MAILCONN_OPT_OVERLAP);
	plan->stage_timeout_ms =
		mailconn__config_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS);
	plan->deadline_ms = mailconn__config_int(cfg, MAILCONN_OPT_DEADLINE_MS);
	/* Decided once, here: a session keeps its language even if the
	 * environment changes while it runs. */
	const char *tag = mailconn__config_str(cfg, MAILCONN_OPT_LANGUAGE);
	plan->language = tag ? mailconn__language_match(tag)
	                     : mailconn__language_from_env();
	if (!plan->language)
		plan->language = &mailconn__lang_en;
	mailconn_option bad_trust = 0;
	plan->trust = mailconn__config_trust(cfg, why, why_size, &bad_trust);
	if (!plan->trust) {
		*bad = bad_trust;
		mailconn__plan_clear(plan);
		return MAILCONN_E_INVALID_CONFIG;
	}
	return MAILCONN_OK;
}

static void
clear_server(struct mailconn__server_plan *sp)
{
	free(sp->address);
	free(sp->username);
	mailconn__free_secret(sp->password);
	mailconn__free_secret(sp->oauth2_token);
	memset(sp, 0, sizeof *sp);
}

void
mailconn__plan_clear(struct mailconn__plan *plan)
{
	clear_server(&plan->imap);
	clear_server(&plan->smtp);
	free(plan->from);
	free(plan->bcc);
	free(plan->subject);
	free(plan->body);
	free(plan->client_name);
	free(plan->mechanisms);
	mailconn__trust_unref(plan->trust);
	memset(plan, 0, sizeof *plan);
}

const struct mailconn__server_plan *
mailconn__plan_server(const struct mailconn__plan *plan, mailconn_protocol p)
{
	return p == MAILCONN_PROTOCOL_IMAP ? &plan->imap : &plan->smtp;
}
