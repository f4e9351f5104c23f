/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for the classifier and the hints: multi-line SMTP replies,
 * IMAP response codes, odd bytes and spacing, the step and provider rules.
 */
#include <string.h>

#include "check.h"
#include "proto/classify.h"

#define IMAP MAILCONN_PROTOCOL_IMAP
#define SMTP MAILCONN_PROTOCOL_SMTP
#define STEP(s) MAILCONN__STEP_##s

struct opts {
	const char *host;
	int tls_active;
	const char *mechanism;
	int other_ok;
};

static struct mailconn__classification
classify_opts(mailconn_protocol proto, enum mailconn__step step,
              const char *reply, size_t len, struct opts o)
{
	struct mailconn__classify_input in = {
		.protocol = proto,
		.step = step,
		.reply = reply,
		.reply_len = len,
		.host = o.host,
		.tls_active = o.tls_active,
		.mechanism = o.mechanism,
		.other_protocol_auth_ok = o.other_ok,
	};
	struct mailconn__classification out;
	memset(&out, 0x5a, sizeof out);
	mailconn__classify(&in, &out);
	return out;
}

/* `reply` is a string literal: its whole size counts, embedded NULs too. */
#define EXPECT_OPTS(proto, step, reply, o, want_outcome, want_cause)         \
	do {                                                                 \
		struct mailconn__classification c_ = classify_opts(          \
			proto, STEP(step), reply, sizeof(reply) - 1, o);     \
		CHECK_INT(c_.outcome, MAILCONN_##want_outcome);              \
		CHECK_INT(c_.cause, MAILCONN_CAUSE_##want_cause);            \
	} while (0)

#define PLAIN_OPTS ((struct opts){ "mail.example.net", 1, NULL, -1 })
#define EXPECT(proto, step, reply, want_outcome, want_cause) \
	EXPECT_OPTS(proto, step, reply, PLAIN_OPTS, want_outcome, want_cause)
#define AT_HOST(h) ((struct opts){ h, 1, NULL, -1 })

static void
test_multiline_smtp(void)
{
	/* Gmail splits a web-login block over seven lines; the advice and the
	 * code are spread out, and the first line is only a URL. */
	EXPECT_OPTS(SMTP, AUTHENTICATE,
	    "534-5.7.14 <https://accounts.example.com/Continue?a=Zq1\r\n"
	    "534-5.7.14 Xk2-9Lm_Pq8rT3vW4yZ5aB6cD7eF8gH9iJ0kL1mN2oP3qR\n"
	    "534-5.7.14 sT4uV5wX6yZ7aB8cD9eF0gH1iJ2kL3mN4oP5qR6sT7uV8w\n"
	    "534-5.7.14 X9yZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3a\n"
	    "534-5.7.14 B4cD5eF6> Please sign in with your web browser\n"
	    "534-5.7.14 and then try again.\n"
	    "534-5.7.14  Learn more at\n"
	    "534 5.7.14  https://support.example.com/mail/answer/1 x - gsmtp",
	    AT_HOST("smtp.gmail.com"), APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED);
	/* The same advice words only on a later line, without 5.7.14. */
	EXPECT(SMTP, AUTHENTICATE,
	       "535-5.7.8 Something went wrong. Please log in\n"
	       "535-5.7.8 via your web browser and\n"
	       "535 5.7.8 try once more.",
	       APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED);
	/* Gmail's bare bad-credentials reply stays a credentials verdict:
	 * Gmail says so itself when it wants an app password. */
	EXPECT_OPTS(SMTP, AUTHENTICATE,
	    "535-5.7.8 Username and Password not accepted. Learn more at\n"
	    "535 5.7.8  https://support.example.com/?p=Bad z1 - gsmtp",
	    AT_HOST("smtp.gmail.com"), UNAUTHORIZED, AUTH_REJECTED);
	EXPECT_OPTS(SMTP, AUTHENTICATE,
	    "534-5.7.9 Application-specific password required. Learn more\n"
	    "534 5.7.9  at https://support.example.com/?p=x q2 - gsmtp",
	    AT_HOST("smtp.gmail.com"), APP_PASSWORD, AUTH_APP_PASSWORD);
	/* 534 5.7.9 without the app-password words: mechanism too weak. */
	EXPECT(SMTP, AUTHENTICATE,
	       "534 5.7.9 Authentication mechanism is too weak",
	       SMTP_SETTINGS, AUTH_NO_MECHANISM);
	/* The enhanced code and the text beat the basic code. */
	EXPECT(SMTP, AUTHENTICATE,
	       "535 5.7.8 Error: authentication failed: no mechanism available",
	       SMTP_SETTINGS, AUTH_NO_MECHANISM);
	EXPECT(SMTP, AUTHENTICATE, "535 5.7.9 Weak mechanism",
	       SMTP_SETTINGS, AUTH_NO_MECHANISM);
	EXPECT(SMTP, AUTHENTICATE,
	       "535 5.7.139 Authentication unsuccessful, basic authentication "
	       "is disabled. [AB1CD2.prod.example.com]",
	       UNAUTHORIZED, AUTH_PROTOCOL_DISABLED);
	EXPECT(SMTP, AUTHENTICATE,
	       "535 5.7.139 Authentication unsuccessful, the user credentials "
	       "were incorrect.", UNAUTHORIZED, AUTH_REJECTED);
	EXPECT(SMTP, AUTHENTICATE, "535 5.7.3 Authentication unsuccessful",
	       UNAUTHORIZED, AUTH_REJECTED);
	EXPECT(SMTP, AUTHENTICATE, "535 Incorrect authentication data",
	       UNAUTHORIZED, AUTH_REJECTED);
	EXPECT(SMTP, AUTHENTICATE, "538 5.7.11 Encryption required for "
	       "requested authentication mechanism",
	       SMTP_SETTINGS, AUTH_PRIVACY_REQUIRED);
	EXPECT(SMTP, AUTHENTICATE, "504 5.5.4 Unrecognized authentication type",
	       SMTP_SETTINGS, AUTH_NO_MECHANISM);
	EXPECT(SMTP, AUTHENTICATE,
	       "503 5.5.1 Error: authentication not enabled", SMTP_SETTINGS,
	       AUTH_NOT_OFFERED);
	EXPECT(SMTP, AUTHENTICATE, "502 5.5.2 Command not implemented",
	       SMTP_SETTINGS, AUTH_NOT_OFFERED);
	EXPECT(SMTP, AUTHENTICATE, "535 5.7.13 User account disabled",
	       UNAUTHORIZED, AUTH_ACCOUNT_DISABLED);
	/* The step decides: STARTTLS first, whether at AUTH or at MAIL. */
	EXPECT(SMTP, AUTHENTICATE,
	       "530 5.7.0 Must issue a STARTTLS command first.", SMTP_SETTINGS,
	       AUTH_PRIVACY_REQUIRED);
	EXPECT(SMTP, MAIL_FROM,
	       "530 5.7.0 Must issue a STARTTLS command first.", SMTP_SETTINGS,
	       AUTH_PRIVACY_REQUIRED);
	EXPECT(SMTP, MAIL_FROM, "530 5.7.0 Authentication required",
	       UNAUTHORIZED, AUTH_REJECTED);
	/* 5.7.1: who may send what, depending on the step. */
	EXPECT(SMTP, RCPT_TO, "554 5.7.1 <a@example.org>: Relay access denied",
	       TEST_SEND, RELAY_DENIED);
	EXPECT(SMTP, RCPT_TO, "550 5.7.1 Unable to deliver",
	       TEST_SEND, RELAY_DENIED);
	EXPECT(SMTP, MAIL_FROM, "550 5.7.1 Not allowed",
	       TEST_SEND, SENDER_REJECTED);
	EXPECT(SMTP, RCPT_TO, "553 5.7.1 <me@example.org>: Sender address "
	       "rejected: not owned by user me", TEST_SEND, SENDER_REJECTED);
	EXPECT(SMTP, RCPT_TO, "550 5.1.1 <x@example.org>: Recipient address "
	       "rejected: User unknown", TEST_SEND, RECIPIENT_REJECTED);
	EXPECT(SMTP, MAIL_FROM, "553 5.1.8 Sender domain does not exist",
	       TEST_SEND, SENDER_REJECTED);
	EXPECT(SMTP, RCPT_TO, "550 No such user here", TEST_SEND,
	       RECIPIENT_REJECTED);
	EXPECT(SMTP, RCPT_TO, "552 5.2.2 Over the limit", TEST_SEND,
	       RECIPIENT_REJECTED);
	EXPECT(SMTP, END_OF_DATA, "552 5.3.4 Message size exceeds fixed limit",
	       TEST_SEND, MESSAGE_REJECTED);
	EXPECT(SMTP, END_OF_DATA, "554 5.0.0 Error: something odd",
	       TEST_SEND, MESSAGE_REJECTED);
	EXPECT(SMTP, DATA, "554 5.5.1 Error: no valid recipients",
	       TEST_SEND, DATA_REJECTED);
	EXPECT(SMTP, END_OF_DATA, "451 4.3.0 Try again", TEST_SEND,
	       SEND_TEMPORARY);
	EXPECT(SMTP, END_OF_DATA, "550-5.4.5 Daily user sending limit exceeded.\n"
	       "550 5.4.5 See the help page", TEST_SEND, SEND_TEMPORARY);
	/* Successes are no error. */
	EXPECT(SMTP, AUTHENTICATE, "235 2.7.0 Authentication successful", OK,
	       NONE);
	EXPECT(SMTP, AUTHENTICATE, "334 VXNlcm5hbWU6", OK, NONE);
	EXPECT(SMTP, DATA, "354 End data with <CR><LF>.<CR><LF>", OK, NONE);
	EXPECT(SMTP, STARTTLS, "220 2.0.0 Ready to start TLS", OK, NONE);
	EXPECT(SMTP, GREETING, "220-mx.example.net ESMTP\n220 welcome", OK,
	       NONE);
	/* A failed QUIT changes nothing. */
	EXPECT(SMTP, LOGOUT, "500 5.5.1 what?", OK, NONE);
}

static void
test_ehlo(void)
{
	EXPECT(SMTP, CAPABILITY,
	       "250-mx.example.net Hello\n250-PIPELINING\n250-AUTH CRAM-MD5 NTLM\n"
	       "250 8BITMIME", SMTP_SETTINGS, AUTH_NO_MECHANISM);
	EXPECT(SMTP, CAPABILITY,
	       "250-mx.example.net Hello\n250-AUTH=LOGIN PLAIN\n250 SIZE 1000",
	       OK, NONE);
	EXPECT(SMTP, CAPABILITY,
	       "250-mx.example.net Hello\n250-auth  gssapi  scram-sha-256\n"
	       "250 SIZE", OK, NONE);
	/* No AUTH yet, but STARTTLS may bring it. */
	EXPECT(SMTP, CAPABILITY, "250-mx.example.net\n250-STARTTLS\n250 SIZE",
	       OK, NONE);
	EXPECT(SMTP, CAPABILITY, "250-mx.example.net\n250 SIZE",
	       SMTP_SETTINGS, AUTH_NOT_OFFERED);
	/* The greeting line is not an extension. */
	EXPECT(SMTP, CAPABILITY, "250-AUTH PLAIN there\n250 SIZE",
	       SMTP_SETTINGS, AUTH_NOT_OFFERED);
	EXPECT(SMTP, CAPABILITY, "550 5.7.1 EHLO refused", SMTP_SETTINGS,
	       EHLO_REJECTED);
}

static void
test_transient_auth(void)
{
	/* 4xx on AUTH is never "wrong password", whatever else it says. */
	EXPECT(SMTP, AUTHENTICATE, "454 4.7.0 Temporary authentication failure",
	       SMTP_SETTINGS, AUTH_TEMPORARY);
	EXPECT(SMTP, AUTHENTICATE, "421 4.7.0 Try again later, closing",
	       SMTP_SETTINGS, AUTH_TEMPORARY);
	EXPECT(SMTP, AUTHENTICATE, "432 4.7.12 A password transition is needed",
	       SMTP_SETTINGS, AUTH_TEMPORARY);
	EXPECT(SMTP, AUTHENTICATE, "454 Invalid credentials", SMTP_SETTINGS,
	       AUTH_TEMPORARY);
	EXPECT(SMTP, AUTHENTICATE, "451 4.7.1 Your account is disabled",
	       SMTP_SETTINGS, AUTH_ACCOUNT_DISABLED);
	EXPECT_OPTS(SMTP, AUTHENTICATE, "454 4.7.0 Authentication failed",
	            AT_HOST("smtp.mail.yahoo.com"), SMTP_SETTINGS,
	            AUTH_TEMPORARY);
	EXPECT(SMTP, AUTHENTICATE, "454 4.7.0 Too many login attempts, please "
	       "try again later.", SMTP_SETTINGS, AUTH_TEMPORARY);
	/* A 5xx throttle is no verdict either. */
	EXPECT(SMTP, AUTHENTICATE, "535 5.7.0 Too many bad auth attempts",
	       SMTP_SETTINGS, AUTH_TEMPORARY);
}

static void
test_imap_codes(void)
{
	EXPECT(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] Invalid credentials",
	       UNAUTHORIZED, AUTH_REJECTED);
	EXPECT(IMAP, LOGIN, "A1 NO [UNAVAILABLE] Backend down", IMAP_AUTH,
	       AUTH_TEMPORARY);
	EXPECT(IMAP, LOGIN, "A1 NO [PRIVACYREQUIRED] Use TLS", IMAP_SETTINGS,
	       AUTH_PRIVACY_REQUIRED);
	EXPECT(IMAP, LOGIN, "A1 NO [CONTACTADMIN] Ask your admin", IMAP_AUTH,
	       NONE);
	EXPECT(IMAP, LOGIN, "A1 NO [EXPIRED] Passphrase expired", UNAUTHORIZED,
	       AUTH_REJECTED);
	EXPECT(IMAP, AUTHENTICATE, "A1 NO [AUTHORIZATIONFAILED] No such authz",
	       UNAUTHORIZED, AUTH_REJECTED);
	EXPECT(IMAP, LOGIN, "A1 NO [LIMIT] Too many", IMAP_AUTH,
	       AUTH_TOO_MANY_CONNECTIONS);
	EXPECT(IMAP, SELECT, "A1 NO [LIMIT] Too many", IMAP_VALIDATION,
	       MAILBOX_UNAVAILABLE);
	EXPECT(IMAP, LOGIN, "A1 NO [SERVERBUG] Oops", IMAP_AUTH, AUTH_TEMPORARY);
	EXPECT(IMAP, SELECT, "A1 NO [NONEXISTENT] Unknown mailbox",
	       IMAP_VALIDATION, MAILBOX_UNAVAILABLE);
	/* Codes with arguments. */
	EXPECT(IMAP, LOGIN,
	       "A1 NO [WEBALERT https://login.example.com/continue?x=1] Sign in",
	       APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED);
	EXPECT(IMAP, LOGIN,
	       "A1 OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] Logged in", OK, NONE);
	/* An [ALERT] carries text only; the text decides. */
	EXPECT(IMAP, LOGIN, "A1 NO [ALERT] Please use an app password (Failure)",
	       APP_PASSWORD, AUTH_APP_PASSWORD);
	EXPECT(IMAP, LOGIN, "A1 NO [ALERT] Something (Failure)", UNAUTHORIZED,
	       AUTH_REJECTED);
	/* Untagged lines before the tagged reply count. */
	EXPECT(IMAP, LOGIN,
	       "* NO [ALERT] Too many simultaneous connections.\n"
	       "A1 NO LOGIN failed", IMAP_AUTH, AUTH_TOO_MANY_CONNECTIONS);
	EXPECT(IMAP, LOGIN,
	       "* BAD [ALERT] Plaintext authentication is not allowed here.\n"
	       "A1 NO Login refused", IMAP_SETTINGS, AUTH_PRIVACY_REQUIRED);
	EXPECT(IMAP, LOGIN,
	       "* OK [ALERT] Your account is not enabled for IMAP use.\n"
	       "A1 NO [ALERT] Failed", UNAUTHORIZED, AUTH_PROTOCOL_DISABLED);
	/* Bare refusals and the step defaults. */
	EXPECT(IMAP, LOGIN, "A1 NO Login failed.", UNAUTHORIZED, AUTH_REJECTED);
	EXPECT(IMAP, LOGIN, "A1 BAD Command received in Invalid state.",
	       IMAP_SETTINGS, PROTOCOL_ERROR);
	EXPECT(IMAP, LOGIN, "* BYE Internal error occurred.", IMAP_VALIDATION,
	       SERVER_BYE);
	EXPECT(IMAP, LOGIN, "* BYE Temporary problem, try again later",
	       IMAP_AUTH, AUTH_TEMPORARY);
	EXPECT(IMAP, LOGIN, "A1 NO Your account is suspended", UNAUTHORIZED,
	       AUTH_ACCOUNT_DISABLED);
	EXPECT(IMAP, LOGIN, "A1 NO Login not allowed from your IP address",
	       IMAP_AUTH, AUTH_IP_BLOCKED);
	EXPECT(IMAP, SELECT, "A1 NO Mailbox doesn't exist: INBOX",
	       IMAP_VALIDATION, MAILBOX_UNAVAILABLE);
	EXPECT(IMAP, SELECT, "A1 BAD Not connected\n* BYE Closing",
	       IMAP_VALIDATION, PROTOCOL_ERROR);
	EXPECT(IMAP, STARTTLS, "A1 BAD Unknown command", IMAP_VALIDATION,
	       STARTTLS_REFUSED);
	EXPECT(IMAP, LOGIN, "A1 OK LOGIN completed", OK, NONE);
	EXPECT(IMAP, AUTHENTICATE, "+ ", OK, NONE);
	EXPECT(IMAP, LOGOUT, "A1 BAD whatever", OK, NONE);
}

static void
test_imap_capability(void)
{
	EXPECT(IMAP, CAPABILITY,
	       "* CAPABILITY IMAP4 AUTH=PLAIN\nA1 OK done", IMAP_VALIDATION,
	       NO_IMAP4REV1);
	EXPECT(IMAP, CAPABILITY,
	       "* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=GSSAPI\nA1 OK done",
	       IMAP_VALIDATION, AUTH_NO_MECHANISM);
	/* Before TLS, LOGINDISABLED is normal: STARTTLS lifts it. */
	EXPECT_OPTS(IMAP, CAPABILITY,
	            "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\nA1 OK done",
	            ((struct opts){ "mail.example.net", 0, NULL, -1 }), OK,
	            NONE);
	EXPECT(IMAP, CAPABILITY,
	       "* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN\nA1 OK done",
	       OK, NONE);
	EXPECT(IMAP, CAPABILITY, "* CAPABILITY IMAP4rev2\nA1 OK done", OK, NONE);
}

static void
test_greetings(void)
{
	EXPECT(IMAP, GREETING, "* OK IMAP4rev1 ready", OK, NONE);
	EXPECT(IMAP, GREETING, "* PREAUTH welcome", OK, NONE);
	EXPECT(IMAP, GREETING, "* BYE Server shutting down", IMAP_VALIDATION,
	       GREETING_REJECTED);
	EXPECT(IMAP, GREETING, "* BYE Access denied: your IP address is blocked",
	       IMAP_SETTINGS, AUTH_IP_BLOCKED);
	EXPECT(IMAP, GREETING, "220 smtp.example.net ESMTP Postfix",
	       IMAP_SETTINGS, WRONG_PROTOCOL);
	EXPECT(IMAP, GREETING, "+OK POP3 ready", IMAP_SETTINGS, WRONG_PROTOCOL);
	EXPECT(IMAP, GREETING, "\x15\x03\x03\x00\x02\x02\x46", IMAP_SETTINGS,
	       TLS_MODE_MISMATCH);
	EXPECT(IMAP, GREETING, "garbage", IMAP_SETTINGS, PROTOCOL_ERROR);
	EXPECT(SMTP, GREETING, "* OK IMAP4rev1 ready", SMTP_SETTINGS,
	       WRONG_PROTOCOL);
	EXPECT(SMTP, GREETING, "\x16\x03\x01\x00\x05", SMTP_SETTINGS,
	       TLS_MODE_MISMATCH);
	EXPECT(SMTP, GREETING, "421 4.3.2 Service not available", SMTP_SETTINGS,
	       GREETING_REJECTED);
	EXPECT(SMTP, GREETING, "554 5.7.1 Your IP is blocked", SMTP_SETTINGS,
	       AUTH_IP_BLOCKED);
	EXPECT(SMTP, STARTTLS, "454 4.7.0 TLS not available", SMTP_SETTINGS,
	       STARTTLS_REFUSED);
	EXPECT(SMTP, STARTTLS, "421 4.7.66 TLS 1.0 and 1.1 are not supported",
	       SMTP_SETTINGS, TLS_VERSION);
}

static void
test_odd_text(void)
{
	/* Case and spacing. */
	EXPECT(IMAP, LOGIN, "a1   no\t[authenticationFailed]   Bad", UNAUTHORIZED,
	       AUTH_REJECTED);
	EXPECT(IMAP, LOGIN, "  A1 NO[UNAVAILABLE] Later", IMAP_AUTH,
	       AUTH_TEMPORARY);
	EXPECT(IMAP, LOGIN, "A1 NO [ALERT] APPLICATION-SPECIFIC   PASSWORD\t"
	       "REQUIRED", APP_PASSWORD, AUTH_APP_PASSWORD);
	EXPECT(IMAP, LOGIN, "A1 no Web  Login\r\n Required", APP_PASSWORD,
	       AUTH_WEB_LOGIN_REQUIRED);
	EXPECT(SMTP, AUTHENTICATE, "535  5.7.8   No Mechanism   Available\r",
	       SMTP_SETTINGS, AUTH_NO_MECHANISM);
	/* A phrase split over continuation lines. */
	EXPECT(SMTP, AUTHENTICATE, "535-5.7.8 Error: authentication mechanism\n"
	       "535 5.7.8 not supported", SMTP_SETTINGS, AUTH_NO_MECHANISM);
	/* Words inside other words do not count. */
	EXPECT(IMAP, LOGIN, "A1 NO whatsapp password wrong", UNAUTHORIZED,
	       AUTH_REJECTED);
	/* NUL bytes: the text after them is still read (length, not strlen). */
	EXPECT(SMTP, AUTHENTICATE, "535 5.7.8 Failed\0 no mechanism available",
	       SMTP_SETTINGS, AUTH_NO_MECHANISM);
	EXPECT(IMAP, LOGIN, "* NO \0\0 [ALERT]\n* NO too many connections\n"
	       "A1 NO failed", IMAP_AUTH, AUTH_TOO_MANY_CONNECTIONS);
	/* Invalid UTF-8 around the words. */
	EXPECT(IMAP, LOGIN, "A1 NO \xff\xfe\xc3 app password\xc0\xaf needed",
	       APP_PASSWORD, AUTH_APP_PASSWORD);
	/* QQ Mail's "use the authorization code", raw GBK and UTF-8. */
	EXPECT(SMTP, AUTHENTICATE,
	       "535 Error: \xc7\xeb\xca\xb9\xd3\xc3\xca\xda\xc8\xa8\xc2\xeb"
	       "\xb5\xc7\xc2\xbc", APP_PASSWORD, AUTH_APP_PASSWORD);
	EXPECT(SMTP, AUTHENTICATE,
	       "535 Error: \xe8\xaf\xb7\xe4\xbd\xbf\xe7\x94\xa8"
	       "\xe6\x8e\x88\xe6\x9d\x83\xe7\xa0\x81", APP_PASSWORD,
	       AUTH_APP_PASSWORD);

	/* Only reply_len bytes are read. */
	const char *r = "A1 NO [UNAVAILABLE] later";
	struct mailconn__classification c =
		classify_opts(IMAP, STEP(LOGIN), r, 5, PLAIN_OPTS);
	CHECK_INT(c.outcome, MAILCONN_UNAUTHORIZED);
	/* No reply at all, NULL or empty. */
	c = classify_opts(IMAP, STEP(LOGIN), NULL, 10, PLAIN_OPTS);
	CHECK_INT(c.outcome, MAILCONN_IMAP_SETTINGS);
	CHECK_INT(c.cause, MAILCONN_CAUSE_PROTOCOL_ERROR);
	c = classify_opts(SMTP, STEP(AUTHENTICATE), "", 0, PLAIN_OPTS);
	CHECK_INT(c.outcome, MAILCONN_SMTP_SETTINGS);
	CHECK_INT(c.cause, MAILCONN_CAUSE_PROTOCOL_ERROR);
	/* A step out of range is read as "before login". */
	c = classify_opts(SMTP, (enum mailconn__step)999, "554 no", 6,
	                  PLAIN_OPTS);
	CHECK_INT(c.outcome, MAILCONN_SMTP_SETTINGS);
	mailconn__classify(NULL, &c);
	CHECK_INT(c.outcome, MAILCONN_OK);

	/* Long replies with many lines and codes stay bounded. */
	static char big[40000];
	size_t n = 0;
	while (n + 40 < sizeof big) {
		memcpy(big + n, "* NO [X1] [LIMIT] filler text line\n", 35);
		n += 35;
	}
	memcpy(big + n, "A1 NO bad", 9);
	n += 9;
	c = classify_opts(IMAP, STEP(LOGIN), big, n, PLAIN_OPTS);
	CHECK_INT(c.outcome, MAILCONN_UNAUTHORIZED);
}

static void
test_provider_rules(void)
{
	/* Providers that never take the account password and never say so. */
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] Invalid creds",
	            AT_HOST("imap.mail.yahoo.com"), APP_PASSWORD,
	            AUTH_APP_PASSWORD);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO Authentication failed",
	            AT_HOST("imap.mail.me.com"), APP_PASSWORD,
	            AUTH_APP_PASSWORD);
	EXPECT_OPTS(SMTP, AUTHENTICATE, "535 5.7.8 Authentication failed",
	            AT_HOST("smtp.fastmail.com"), APP_PASSWORD,
	            AUTH_APP_PASSWORD);
	EXPECT_OPTS(SMTP, AUTHENTICATE, "535 5.7.0 (#AUTH005) Too many bad auth "
	            "attempts.", AT_HOST("smtp.example.org"), APP_PASSWORD,
	            AUTH_APP_PASSWORD);
	/* Same reply elsewhere, or with a reason, stays what it says. */
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] Invalid creds",
	            AT_HOST("imap.zoho.com"), UNAUTHORIZED, AUTH_REJECTED);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] Invalid creds",
	            AT_HOST("outlook.office365.com"), UNAUTHORIZED,
	            AUTH_REJECTED);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] account is "
	            "disabled", AT_HOST("imap.mail.yahoo.com"), UNAUTHORIZED,
	            AUTH_ACCOUNT_DISABLED);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [EXPIRED] Password expired",
	            AT_HOST("imap.mail.yahoo.com"), UNAUTHORIZED, AUTH_REJECTED);
	/* Not at the sending steps. */
	EXPECT_OPTS(SMTP, MAIL_FROM, "530 5.7.0 Authentication required",
	            AT_HOST("smtp.mail.yahoo.com"), UNAUTHORIZED, AUTH_REJECTED);
	/* A token was refused: no password involved. */
	EXPECT_OPTS(IMAP, AUTHENTICATE, "A1 NO [AUTHENTICATIONFAILED] Invalid",
	            ((struct opts){ "imap.mail.yahoo.com", 1, "XOAUTH2", -1 }),
	            UNAUTHORIZED, AUTH_REJECTED);
	EXPECT_OPTS(IMAP, AUTHENTICATE, "A1 NO [AUTHENTICATIONFAILED] Invalid",
	            ((struct opts){ "imap.mail.yahoo.com", 1, "plain", -1 }),
	            APP_PASSWORD, AUTH_APP_PASSWORD);

	/* The provider is named from the host, else from the reply. */
	struct mailconn__classification c = classify_opts(IMAP, STEP(LOGIN),
		"A1 NO x", 7, AT_HOST("imap.gmail.com"));
	CHECK_STR(c.provider, "gmail");
	c = classify_opts(SMTP, STEP(AUTHENTICATE), "535 5.7.8 no - gsmtp", 20,
	                  AT_HOST("smtp.example.org"));
	CHECK_STR(c.provider, "gmail");
	c = classify_opts(SMTP, STEP(AUTHENTICATE), "535 5.7.8 no", 12,
	                  AT_HOST(NULL));
	CHECK(c.provider == NULL);
	/* ...but a provider named only by the reply never changes the code. */
	c = classify_opts(IMAP, STEP(LOGIN), "A1 NO (#MBR1212) Incorrect", 26,
	                  AT_HOST("imap.example.org"));
	CHECK_INT(c.outcome, MAILCONN_UNAUTHORIZED);
	CHECK_STR(c.provider, "yahoo");
}

static void
test_overlapped(void)
{
	struct opts smtp_ok = { "mail.example.net", 1, NULL, 1 };
	struct opts smtp_no = { "mail.example.net", 1, NULL, 0 };
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO LOGIN failed", smtp_ok, IMAP_AUTH,
	            AUTH_REJECTED);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] Bad", smtp_ok,
	            IMAP_AUTH, AUTH_REJECTED);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO LOGIN failed", smtp_no, UNAUTHORIZED,
	            AUTH_REJECTED);
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO IMAP access is disabled", smtp_ok,
	            IMAP_AUTH, AUTH_PROTOCOL_DISABLED);
	/* SMTP took the password, so it is not the app password at fault. */
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [AUTHENTICATIONFAILED] Bad",
	            ((struct opts){ "imap.mail.yahoo.com", 1, NULL, 1 }),
	            IMAP_AUTH, AUTH_REJECTED);
	/* An explicit demand is kept. */
	EXPECT_OPTS(IMAP, LOGIN, "A1 NO [ALERT] Application-specific password "
	            "required", smtp_ok, APP_PASSWORD, AUTH_APP_PASSWORD);
	/* Only for IMAP, and only at login. */
	EXPECT_OPTS(SMTP, AUTHENTICATE, "535 5.7.8 Bad", smtp_ok, UNAUTHORIZED,
	            AUTH_REJECTED);
	EXPECT_OPTS(IMAP, SELECT, "A1 NO no", smtp_ok, IMAP_VALIDATION,
	            MAILBOX_UNAVAILABLE);
}

static void
test_provider_from_host(void)
{
	CHECK_STR(mailconn__provider_from_host("imap.gmail.com"), "gmail");
	CHECK_STR(mailconn__provider_from_host("SMTP.GMAIL.COM."), "gmail");
	CHECK_STR(mailconn__provider_from_host("gmail.com"), "gmail");
	CHECK_STR(mailconn__provider_from_host("outlook.office365.com"),
	          "microsoft365");
	CHECK_STR(mailconn__provider_from_host("smtp.office365.com"),
	          "microsoft365");
	CHECK_STR(mailconn__provider_from_host("imap-mail.outlook.com"),
	          "outlook");
	CHECK_STR(mailconn__provider_from_host("imap.mail.yahoo.com"), "yahoo");
	CHECK_STR(mailconn__provider_from_host("smtp.aol.com"), "aol");
	CHECK_STR(mailconn__provider_from_host("imap.mail.me.com"), "icloud");
	CHECK_STR(mailconn__provider_from_host("smtp.fastmail.com"), "fastmail");
	CHECK_STR(mailconn__provider_from_host("imap.zoho.eu"), "zoho");
	CHECK_STR(mailconn__provider_from_host("mail.gmx.net"), "gmx");
	CHECK_STR(mailconn__provider_from_host("smtp.web.de"), "webde");
	CHECK_STR(mailconn__provider_from_host("imap.yandex.ru"), "yandex");
	CHECK_STR(mailconn__provider_from_host("imap.exmail.qq.com"), "qq");
	CHECK_STR(mailconn__provider_from_host("smtp.163.com"), "netease");
	CHECK_STR(mailconn__provider_from_host("smtp.protonmail.ch"), "proton");
	CHECK(mailconn__provider_from_host("notgmail.com") == NULL);
	CHECK(mailconn__provider_from_host("gmail.com.example.net") == NULL);
	CHECK(mailconn__provider_from_host("mail.example.net") == NULL);
	CHECK(mailconn__provider_from_host("127.0.0.1") == NULL);
	CHECK(mailconn__provider_from_host("") == NULL);
	CHECK(mailconn__provider_from_host(".") == NULL);
	CHECK(mailconn__provider_from_host(NULL) == NULL);
	char longhost[400];
	memset(longhost, 'a', sizeof longhost);
	memcpy(longhost + sizeof longhost - 11, ".gmail.com", 11);
	CHECK(mailconn__provider_from_host(longhost) == NULL);

	CHECK_STR(mailconn__provider_display_name("gmail"), "Gmail");
	CHECK_STR(mailconn__provider_display_name("icloud"), "iCloud Mail");
	CHECK_STR(mailconn__provider_display_name("microsoft365"),
	          "Microsoft 365");
	CHECK_STR(mailconn__provider_display_name(NULL), "");
}

static void
test_hints(void)
{
	for (int o = MAILCONN_IMAP_SETTINGS; o <= MAILCONN_UNTRUSTED_CERT; o++) {
		const char *h = mailconn__hint((mailconn_error)o,
		                               MAILCONN_CAUSE_NONE, NULL);
		CHECK(h != NULL && strlen(h) > 40);
		/* An unknown provider or cause: the general text. */
		CHECK_STR(mailconn__hint((mailconn_error)o, MAILCONN_CAUSE_NONE,
		                         "nosuchprovider"), h);
		CHECK_STR(mailconn__hint((mailconn_error)o,
		                         (mailconn_cause)12345, NULL), h);
	}
	CHECK_STR(mailconn__hint(MAILCONN_OK, MAILCONN_CAUSE_NONE, NULL), "");
	CHECK_STR(mailconn__hint(MAILCONN_E_NOMEM, MAILCONN_CAUSE_NONE, NULL),
	          "");
	CHECK_STR(mailconn__hint((mailconn_error)77, MAILCONN_CAUSE_NONE, NULL),
	          "");

	/* The general texts carry the guide's advice. */
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_SETTINGS, 0, NULL), "993");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_SETTINGS, 0, NULL), "143");
	/* The allow-list advice in words an end user knows (issue 16). */
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_SETTINGS, 0, NULL),
	               "only from certain IP addresses");
	for (int o = MAILCONN_IMAP_SETTINGS; o <= MAILCONN_UNTRUSTED_CERT; o++)
		CHECK(strstr(mailconn__hint((mailconn_error)o, 0, NULL),
		             "allow-list") == NULL);
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_AUTH, 0, NULL),
	               "simultaneous connections");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_SMTP_SETTINGS, 0, NULL), "587");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_SMTP_SETTINGS, 0, NULL), "465");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNAUTHORIZED, 0, NULL),
	               "username");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNAUTHORIZED, 0, NULL),
	               "app-specific password");
	/* Wrong credentials have nothing to do with the certificate, which
	 * has its own outcome (issue 16). */
	CHECK(strstr(mailconn__hint(MAILCONN_UNAUTHORIZED, 0, NULL),
	             "certificate") == NULL);
	CHECK(strstr(mailconn__hint(MAILCONN_UNAUTHORIZED,
	                            MAILCONN_CAUSE_AUTH_REJECTED, NULL),
	             "certificate") == NULL);
	CHECK_CONTAINS(mailconn__hint(MAILCONN_APP_PASSWORD, 0, NULL),
	               "app-specific password");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNTRUSTED_CERT, 0, NULL),
	               "allow an untrusted certificate");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_TEST_SEND, 0, NULL), "IP");

	/* Refined by cause. */
	/* The port in use is filled in by the session (test-lang checks the
	 * filled text); the row names it and both standard choices. */
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_SETTINGS,
	                              MAILCONN_CAUSE_TLS_MODE_MISMATCH, NULL),
	               "port {port}, which needs {wanted}");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_SETTINGS,
	                              MAILCONN_CAUSE_TLS_MODE_MISMATCH, NULL),
	               "port 143 with STARTTLS");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_SMTP_SETTINGS,
	                              MAILCONN_CAUSE_TLS_MODE_MISMATCH, NULL),
	               "465");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNTRUSTED_CERT,
	                              MAILCONN_CAUSE_CERT_EXPIRED, NULL),
	               "expired");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNTRUSTED_CERT,
	                              MAILCONN_CAUSE_CERT_HOSTNAME, NULL),
	               "names");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_SETTINGS,
	                              MAILCONN_CAUSE_DNS_NOT_FOUND, NULL),
	               "DNS");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_SMTP_SETTINGS,
	                              MAILCONN_CAUSE_AUTH_PRIVACY_REQUIRED, NULL),
	               "587");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_TEST_SEND,
	                              MAILCONN_CAUSE_RELAY_DENIED, NULL),
	               "relay");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_VALIDATION,
	                              MAILCONN_CAUSE_STARTTLS_UNAVAILABLE, NULL),
	               "993");

	/* Refined by provider: the provider's own setting is named. */
	static const struct {
		const char *id, *word;
		int app;
	} named[] = {
		{ "gmail", "Gmail", 1 }, { "microsoft365", "Microsoft 365", 1 },
		{ "outlook", "Outlook.com", 1 }, { "yahoo", "Yahoo", 1 },
		{ "aol", "AOL", 1 }, { "icloud", "iCloud", 1 },
		{ "fastmail", "Fastmail", 1 }, { "zoho", "Zoho", 1 },
		{ "gmx", "GMX", 1 }, { "webde", "WEB.DE", 1 },
		{ "ionos", "IONOS", 0 }, { "yandex", "Yandex", 1 },
		{ "qq", "QQ Mail", 1 }, { "netease", "NetEase", 1 },
		{ "proton", "Proton", 1 },
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		CHECK_CONTAINS(mailconn__hint(MAILCONN_UNAUTHORIZED,
		                              MAILCONN_CAUSE_AUTH_REJECTED,
		                              named[i].id), named[i].word);
		if (named[i].app)
			CHECK_CONTAINS(mailconn__hint(MAILCONN_APP_PASSWORD,
			               MAILCONN_CAUSE_AUTH_APP_PASSWORD,
			               named[i].id), named[i].word);
		CHECK(mailconn__provider_display_name(named[i].id)[0] != '\0');
	}
	CHECK_CONTAINS(mailconn__hint(MAILCONN_APP_PASSWORD, 0, "gmail"),
	               "2-Step Verification");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_APP_PASSWORD, 0, "icloud"),
	               "appleid.apple.com");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_APP_PASSWORD, 0, "yahoo"),
	               "Account security");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNAUTHORIZED,
	                              MAILCONN_CAUSE_AUTH_PROTOCOL_DISABLED,
	                              "microsoft365"), "SMTP AUTH");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNAUTHORIZED, 0, "microsoft365"),
	               "OAuth2");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_APP_PASSWORD,
	                              MAILCONN_CAUSE_AUTH_WEB_LOGIN_REQUIRED,
	                              "gmail"), "accounts.google.com");
	/* A cause that says what to fix beats the provider's general text. */
	CHECK_CONTAINS(mailconn__hint(MAILCONN_UNAUTHORIZED,
	                              MAILCONN_CAUSE_AUTH_ACCOUNT_DISABLED,
	                              "yahoo"), "disabled");
	CHECK_CONTAINS(mailconn__hint(MAILCONN_IMAP_AUTH,
	                              MAILCONN_CAUSE_AUTH_TOO_MANY_CONNECTIONS,
	                              "gmail"), "simultaneous");
	/* Provider texts stay with their outcome. */
	CHECK_STR(mailconn__hint(MAILCONN_UNTRUSTED_CERT, MAILCONN_CAUSE_NONE,
	                         "gmail"),
	          mailconn__hint(MAILCONN_UNTRUSTED_CERT, MAILCONN_CAUSE_NONE,
	                         NULL));
}

int
main(void)
{
	test_multiline_smtp();
	test_ehlo();
	test_transient_auth();
	test_imap_codes();
	test_imap_capability();
	test_greetings();
	test_odd_text();
	test_provider_rules();
	test_overlapped();
	test_provider_from_host();
	test_hints();
	return check_finish();
}
