/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Library-wide entry points: version and the names of codes and stages. */
#include <stddef.h>

#include "private.h"
#include "proto/classify.h"
#include "proto/lang.h"

MAILCONN_API const char *
mailconn_version(void)
{
	return MAILCONN_VERSION_STRING;
}

MAILCONN_API uint32_t
mailconn_version_number(void)
{
	return MAILCONN_VERSION_NUMBER;
}

/* The names only: the messages are texts a user reads, so they live in
 * the language tables (proto/lang.h). */
struct code_text {
	int code;
	const char *name;
};

static const struct code_text error_texts[] = {
	{ MAILCONN_OK, "OK" },
	{ MAILCONN_IMAP_SETTINGS, "IMAP_SETTINGS" },
	{ MAILCONN_IMAP_AUTH, "IMAP_AUTH" },
	{ MAILCONN_IMAP_VALIDATION, "IMAP_VALIDATION" },
	{ MAILCONN_SMTP_SETTINGS, "SMTP_SETTINGS" },
	{ MAILCONN_TEST_SEND, "TEST_SEND" },
	{ MAILCONN_UNAUTHORIZED, "UNAUTHORIZED" },
	{ MAILCONN_APP_PASSWORD, "APP_PASSWORD" },
	{ MAILCONN_UNTRUSTED_CERT, "UNTRUSTED_CERT" },
	{ MAILCONN_E_INVALID_CONFIG, "E_INVALID_CONFIG" },
	{ MAILCONN_E_NOMEM, "E_NOMEM" },
	{ MAILCONN_E_INVALID_ARGUMENT, "E_INVALID_ARGUMENT" },
	{ MAILCONN_E_UNKNOWN_OPTION, "E_UNKNOWN_OPTION" },
	{ MAILCONN_E_OPTION_TYPE, "E_OPTION_TYPE" },
	{ MAILCONN_E_MISSING_OPTION, "E_MISSING_OPTION" },
	{ MAILCONN_E_SYSTEM, "E_SYSTEM" },
	{ MAILCONN_E_PENDING, "E_PENDING" },
	{ MAILCONN_E_CANCELLED, "E_CANCELLED" },
};

static const struct code_text *
find_error(mailconn_error code)
{
	for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
		if (error_texts[i].code == (int)code)
			return &error_texts[i];
	return NULL;
}

MAILCONN_API const char *
mailconn_error_name(mailconn_error code)
{
	const struct code_text *t = find_error(code);
	return t ? t->name : "UNKNOWN";
}

MAILCONN_API const char *
mailconn_error_message(mailconn_error code)
{
	return mailconn__message(&mailconn__lang_en, code);
}

MAILCONN_API const char *
mailconn_error_hint(mailconn_error code)
{
	if (code < MAILCONN_IMAP_SETTINGS || code > MAILCONN_UNTRUSTED_CERT)
		return "";
	return mailconn__hint(code, MAILCONN_CAUSE_NONE, NULL);
}

#define CAUSE(name) { MAILCONN_CAUSE_##name, #name }
static const struct {
	mailconn_cause cause;
	const char *name;
} cause_names[] = {
	CAUSE(NONE), CAUSE(DNS_NOT_FOUND), CAUSE(DNS_TEMPORARY), CAUSE(DNS_FAILED),
	CAUSE(CONNECT_REFUSED), CAUSE(CONNECT_UNREACHABLE), CAUSE(CONNECT_TIMEOUT),
	CAUSE(CONNECT_FAILED), CAUSE(CONNECTION_CLOSED), CAUSE(NETWORK_ERROR),
	CAUSE(TIMEOUT), CAUSE(TLS_HANDSHAKE), CAUSE(TLS_MODE_MISMATCH),
	CAUSE(TLS_VERSION), CAUSE(STARTTLS_UNAVAILABLE), CAUSE(STARTTLS_REFUSED),
	CAUSE(STARTTLS_INJECTION), CAUSE(TLS_HANDSHAKE_TIMEOUT),
	CAUSE(GREETING_TIMEOUT), CAUSE(CERT_UNTRUSTED), CAUSE(CERT_EXPIRED),
	CAUSE(CERT_NOT_YET_VALID), CAUSE(CERT_HOSTNAME),
	CAUSE(CERT_INSECURE_ALGORITHM), CAUSE(CERT_MALFORMED), CAUSE(CERT_PURPOSE),
	CAUSE(CERT_PIN_MISMATCH),
	CAUSE(PROTOCOL_ERROR), CAUSE(WRONG_PROTOCOL), CAUSE(GREETING_REJECTED),
	CAUSE(LINE_TOO_LONG), CAUSE(NO_IMAP4REV1), CAUSE(MAILBOX_UNAVAILABLE),
	CAUSE(SERVER_BYE), CAUSE(UNEXPECTED_PREAUTH), CAUSE(EHLO_REJECTED),
	CAUSE(AUTH_REJECTED), CAUSE(AUTH_TEMPORARY), CAUSE(AUTH_APP_PASSWORD),
	CAUSE(AUTH_WEB_LOGIN_REQUIRED), CAUSE(AUTH_NOT_OFFERED),
	CAUSE(AUTH_NO_MECHANISM), CAUSE(AUTH_PRIVACY_REQUIRED), CAUSE(AUTH_INSECURE),
	CAUSE(AUTH_ACCOUNT_DISABLED), CAUSE(AUTH_TOO_MANY_CONNECTIONS),
	CAUSE(AUTH_IP_BLOCKED), CAUSE(AUTH_PROTOCOL_DISABLED),
	CAUSE(AUTH_SERVER_SIGNATURE), CAUSE(SENDER_REJECTED),
	CAUSE(RECIPIENT_REJECTED), CAUSE(RELAY_DENIED), CAUSE(DATA_REJECTED),
	CAUSE(MESSAGE_REJECTED), CAUSE(SEND_TEMPORARY), CAUSE(CANCELLED),
	CAUSE(SYSTEM),
};
#undef CAUSE

MAILCONN_API const char *
mailconn_cause_name(mailconn_cause cause)
{
	for (size_t i = 0; i < sizeof cause_names / sizeof cause_names[0]; i++)
		if (cause_names[i].cause == cause)
			return cause_names[i].name;
	return "UNKNOWN";
}

MAILCONN_API const char *
mailconn_stage_name(mailconn_stage stage)
{
	static const char *const names[] = {
		"none", "imap_connect", "imap_login", "smtp_connect",
		"smtp_login", "test_send",
	};
	if ((unsigned)stage >= sizeof names / sizeof names[0])
		return "unknown";
	return names[stage];
}
