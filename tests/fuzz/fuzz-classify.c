/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the classifier on any reply in any context. It must stay in
 * its reply's bounds, give a defined, protocol-appropriate verdict and
 * name providers only by static ids. */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "proto/classify.h"

static const char *const mechanisms[8] = {
	NULL, "PLAIN", "LOGIN", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER",
	"xoauth", "CRAM-MD5",
};

/* Index 255 takes the host from the input instead. */
static const char *const hosts[] = {
	NULL, "imap.gmail.com", "smtp.gmail.com", "outlook.office365.com",
	"smtp.office365.com", "imap.mail.yahoo.com", "smtp.mail.me.com",
	"imap.zoho.eu", "imap.qq.com", "smtp.yandex.ru", "imap.163.com",
	"mail.example.org", "notgmail.com", "GMAIL.COM.", "",
};
#define HOST_FROM_INPUT 255

static int
outcome_allowed(mailconn_protocol proto, mailconn_error o)
{
	if (o == MAILCONN_OK || o == MAILCONN_UNAUTHORIZED ||
	    o == MAILCONN_APP_PASSWORD)
		return 1;
	if (proto == MAILCONN_PROTOCOL_SMTP)
		return o == MAILCONN_SMTP_SETTINGS || o == MAILCONN_TEST_SEND;
	return o == MAILCONN_IMAP_SETTINGS || o == MAILCONN_IMAP_AUTH ||
	       o == MAILCONN_IMAP_VALIDATION;
}

/* Input: [protocol][step][flags][host] then the reply; flags: bit 0 TLS,
 * bits 1-2 SMTP's verdict on the same credentials, bits 3-5 mechanism.
 * With host 255 the reply starts with a NUL-terminated host name. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	const uint8_t *rest = data + 4;
	size_t rest_len = size - 4;
	char *host = NULL;
	const char *host_arg;

	if (data[3] == HOST_FROM_INPUT) {
		const uint8_t *nul = memchr(rest, '\0', rest_len);
		size_t hn = nul ? (size_t)(nul - rest) : rest_len;
		host = malloc(hn + 1);
		FZ_CHECK(host != NULL, "out of memory in the harness");
		memcpy(host, rest, hn);
		host[hn] = '\0';
		rest += nul ? hn + 1 : hn;
		rest_len -= nul ? hn + 1 : hn;
		host_arg = host;
	} else {
		host_arg = hosts[data[3] % (sizeof(hosts) / sizeof(hosts[0]))];
	}
	/* Exactly the reply's bytes, no terminator: a read past reply_len is
	 * a heap overflow AddressSanitizer reports. */
	char *reply = malloc(rest_len ? rest_len : 1);
	FZ_CHECK(reply != NULL, "out of memory in the harness");
	if (rest_len)
		memcpy(reply, rest, rest_len);

	struct mailconn__classify_input in;
	memset(&in, 0, sizeof(in));
	in.protocol = (mailconn_protocol)(data[0] % 4);
	in.step = (enum mailconn__step)(data[1] % (MAILCONN__STEP_COUNT_ + 2));
	in.reply = reply;
	in.reply_len = rest_len;
	in.host = host_arg;
	in.tls_active = data[2] & 1;
	in.other_protocol_auth_ok = ((data[2] >> 1) & 3) % 3 - 1;
	in.mechanism = mechanisms[(data[2] >> 3) & 7];
	mailconn_protocol proto = in.protocol == MAILCONN_PROTOCOL_SMTP
	                          ? MAILCONN_PROTOCOL_SMTP
	                          : MAILCONN_PROTOCOL_IMAP;

	struct mailconn__classification a, b;
	memset(&a, 0x5a, sizeof(a));
	mailconn__classify(&in, &a);
	mailconn__classify(&in, &b);
	FZ_CHECK(a.outcome == b.outcome && a.cause == b.cause &&
	         a.provider == b.provider, "classification is not repeatable");

	FZ_CHECK(outcome_allowed(proto, a.outcome),
	         "outcome impossible for the protocol");
	FZ_CHECK(fz_cause_valid(a.cause), "cause undefined");
	FZ_CHECK((a.outcome == MAILCONN_OK) == (a.cause == MAILCONN_CAUSE_NONE),
	         "cause and outcome disagree about success");
	if (in.step == MAILCONN__STEP_LOGOUT)
		FZ_CHECK(a.outcome == MAILCONN_OK,
		         "a LOGOUT reply changed a verdict");
	if (proto == MAILCONN_PROTOCOL_IMAP && in.other_protocol_auth_ok == 1)
		FZ_CHECK(a.outcome != MAILCONN_UNAUTHORIZED,
		         "IMAP says wrong password though SMTP took it");
	const char *from_host = mailconn__provider_from_host(host_arg);
	if (from_host)
		FZ_CHECK(a.provider == from_host,
		         "provider differs from the host's provider");
	fz_check_provider(from_host);
	fz_check_provider(a.provider);

	const char *hint = mailconn__hint(a.outcome, a.cause, a.provider);
	FZ_CHECK(hint != NULL, "hint is NULL");
	FZ_CHECK((a.outcome == MAILCONN_OK) == (*hint == '\0'),
	         "hint missing for a failure, or present for success");
	/* Any numbers at all, as a careless caller might pass. */
	int o_any = (int)data[1] - 8, c_any = (int)data[2] - 8;
	FZ_CHECK(mailconn__hint((mailconn_error)o_any, (mailconn_cause)c_any,
	                        a.provider) != NULL, "hint is NULL");

	free(reply);
	free(host);
	/* The verdict must not point into what was just freed. */
	fz_check_provider(a.provider);
	if (a.provider)
		FZ_CHECK(*mailconn__provider_display_name(a.provider) != '\0',
		         "provider without a display name");
	return 0;
}
