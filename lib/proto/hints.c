/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Advice for each outcome, refined by cause and by provider: every text in
 * one table, so that a translation touches this file only.
 */
#include "proto/classify.h"

#include <string.h>

#define ANY_OUTCOME (-1)

struct hint {
	int outcome;              /* a mailconn_error, or ANY_OUTCOME */
	mailconn_cause cause;     /* NONE: the outcome's general advice */
	const char *provider;     /* NULL: any provider */
	const char *text;
};

#define H(o, c, text) { MAILCONN_##o, MAILCONN_CAUSE_##c, NULL, text }
#define HA(c, text) { ANY_OUTCOME, MAILCONN_CAUSE_##c, NULL, text }
#define HP(o, c, prov, text) { MAILCONN_##o, MAILCONN_CAUSE_##c, prov, text }

static const struct hint hints[] = {
	/* ---- Each outcome in general (mailconn_error_hint). ---- */
	H(IMAP_SETTINGS, NONE,
	  "Check the IMAP server name and port (usually 993 with TLS, or 143 "
	  "with STARTTLS) and the security setting. Make sure the server "
	  "meets the technical requirements for IMAP access, and ask your IT "
	  "team whether an IP allow-list must include the addresses this "
	  "check connects from."),
	H(IMAP_AUTH, NONE,
	  "The IMAP server refused the login without saying why. Check the "
	  "IMAP server and port (993 or 143), then the address and password. "
	  "Ask your IT team or provider what the refusal means: common "
	  "reasons are an IP allow-list, too many simultaneous connections to "
	  "the mailbox, or a temporary block after failed attempts."),
	H(IMAP_VALIDATION, NONE,
	  "The IMAP server answered, but the connection could not be "
	  "validated. Check the server name and port (993 or 143), that the "
	  "server and mailbox meet the requirements for IMAP access, and "
	  "whether an IP allow-list limits who may use the IMAP service."),
	H(SMTP_SETTINGS, NONE,
	  "Check the SMTP server name and port (usually 465 with TLS, or 587 "
	  "with STARTTLS) and the security setting. Make sure the server "
	  "accepts authenticated mail submission, and ask your IT team "
	  "whether an IP allow-list blocks the connection."),
	H(TEST_SEND, NONE,
	  "Login worked, but the server refused the test message. Check that "
	  "this account may send from its address and that the recipient is "
	  "accepted, and ask your IT team whether only certain IP addresses "
	  "may send mail through this server."),
	H(UNAUTHORIZED, NONE,
	  "The server says the login details are wrong. Check the email "
	  "address and password, find out whether the server needs a "
	  "separate username, check whether the provider requires an "
	  "app-specific password, check the server's certificate, and ask "
	  "your IT team whether an IP allow-list applies."),
	H(APP_PASSWORD, NONE,
	  "This provider requires an app-specific password: create one in "
	  "your account's security settings, following the provider's "
	  "instructions, and enter it here instead of your normal password."),
	H(UNTRUSTED_CERT, NONE,
	  "The server's certificate cannot be trusted: it is malformed, "
	  "expired, issued for another name, or signed by an unknown "
	  "authority. Have the server's administrator fix it, or, only if you "
	  "trust this server, explicitly allow an untrusted certificate."),

	/* ---- Refined by cause. ---- */
	HA(DNS_NOT_FOUND,
	   "The server name does not exist in DNS: check its spelling and "
	   "the domain (for example imap.example.com or smtp.example.com)."),
	HA(DNS_TEMPORARY,
	   "The server name could not be looked up right now: check this "
	   "network's DNS and try again; if it persists, check the name."),
	HA(DNS_FAILED,
	   "The server name could not be looked up: check its spelling and "
	   "this network's DNS."),
	H(IMAP_SETTINGS, CONNECT_REFUSED,
	  "Nothing accepts connections on that IMAP port: check the port "
	  "(usually 993 for TLS or 143 for STARTTLS) and that the server "
	  "runs IMAP."),
	H(SMTP_SETTINGS, CONNECT_REFUSED,
	  "Nothing accepts connections on that SMTP port: check the port "
	  "(usually 465 for TLS or 587 for STARTTLS) and that the server "
	  "accepts mail submission."),
	HA(CONNECT_UNREACHABLE,
	   "The server cannot be reached from here: check the server name "
	   "and port, and whether a firewall or an IP allow-list blocks the "
	   "connection."),
	HA(CONNECT_TIMEOUT,
	   "The server did not answer in time: check the server name and "
	   "port, and whether a firewall or an IP allow-list silently drops "
	   "the connection."),
	HA(CONNECTION_CLOSED,
	   "The server closed the connection unexpectedly: check the port "
	   "and security setting, and ask IT whether an IP allow-list or a "
	   "connection limit applies."),
	HA(TIMEOUT,
	   "The server stopped answering: try again, and check whether a "
	   "firewall or a slow network is in the way."),
	H(IMAP_SETTINGS, TLS_MODE_MISMATCH,
	  "The port and the security setting do not match: port 143 speaks "
	  "plaintext IMAP, so use STARTTLS there, or use port 993 for TLS."),
	H(SMTP_SETTINGS, TLS_MODE_MISMATCH,
	  "The port and the security setting do not match: port 587 (and 25) "
	  "speaks plaintext SMTP, so use STARTTLS there, or use port 465 for "
	  "TLS."),
	H(IMAP_SETTINGS, WRONG_PROTOCOL,
	  "That port answered with another protocol (SMTP or POP3, for "
	  "instance): use the server's IMAP port, usually 993 or 143."),
	H(SMTP_SETTINGS, WRONG_PROTOCOL,
	  "That port answered with another protocol (IMAP or POP3, for "
	  "instance): use the server's SMTP submission port, usually 465 or "
	  "587."),
	HA(TLS_HANDSHAKE,
	   "The secure connection could not be set up: check that the port "
	   "matches the security setting and that the server's TLS setup "
	   "works."),
	HA(TLS_VERSION,
	   "The server and this client share no modern TLS version (1.2 or "
	   "newer) or cipher: the server needs updating, so ask its "
	   "administrator."),
	H(IMAP_VALIDATION, STARTTLS_UNAVAILABLE,
	  "The server does not offer STARTTLS on this port, so the password "
	  "cannot be protected: use port 993 with TLS, or ask the "
	  "administrator to enable STARTTLS."),
	H(SMTP_SETTINGS, STARTTLS_UNAVAILABLE,
	  "The server does not offer STARTTLS on this port, so the password "
	  "cannot be protected: use port 465 with TLS, or port 587 with "
	  "STARTTLS."),
	HA(STARTTLS_REFUSED,
	   "The server advertised STARTTLS but refused it: use the port for "
	   "TLS from the start (993 for IMAP, 465 for SMTP), or ask the "
	   "administrator."),
	HA(STARTTLS_INJECTION,
	   "Data arrived before encryption started, which points to a "
	   "tampered connection: use TLS from the start (993 or 465) and ask "
	   "IT to look at the network path."),
	H(UNTRUSTED_CERT, CERT_UNTRUSTED,
	  "The certificate is signed by an authority this system does not "
	  "trust (self-signed or a private CA): add that CA's certificate, "
	  "have a publicly trusted certificate installed, or, if you trust "
	  "this server, explicitly allow an untrusted certificate."),
	H(UNTRUSTED_CERT, CERT_EXPIRED,
	  "The server's certificate has expired: its administrator must "
	  "renew it. Until then, only if you trust this server, explicitly "
	  "allow an untrusted certificate."),
	H(UNTRUSTED_CERT, CERT_NOT_YET_VALID,
	  "The server's certificate is not valid yet: check this computer's "
	  "date and time; if they are right, the administrator must fix the "
	  "certificate."),
	H(UNTRUSTED_CERT, CERT_HOSTNAME,
	  "The certificate was issued for other names than the server name "
	  "you entered: use a name the certificate lists (often the "
	  "provider's own server name), or have the certificate reissued."),
	H(UNTRUSTED_CERT, CERT_INSECURE_ALGORITHM,
	  "The certificate relies on an algorithm too weak to trust (such as "
	  "SHA-1 or a short key): its administrator must replace it."),
	H(UNTRUSTED_CERT, CERT_MALFORMED,
	  "The server's certificate could not be read: its administrator "
	  "must install a valid certificate."),
	H(UNTRUSTED_CERT, CERT_PURPOSE,
	  "The certificate is not meant for a TLS server: its administrator "
	  "must install a server certificate."),
	HA(PROTOCOL_ERROR,
	   "The server's reply did not follow the protocol: check that the "
	   "host and port point to the right kind of mail server and that "
	   "the security setting matches the port."),
	H(IMAP_VALIDATION, GREETING_REJECTED,
	  "The IMAP server refused service as soon as we connected (busy, or "
	  "blocking this network): try again later, and ask IT whether an "
	  "IP allow-list applies."),
	H(SMTP_SETTINGS, GREETING_REJECTED,
	  "The SMTP server refused service as soon as we connected (busy, or "
	  "blocking this network): check the port (465 or 587) and ask IT "
	  "whether an IP allow-list applies."),
	HA(LINE_TOO_LONG,
	   "The server sent a line longer than any mail server should: check "
	   "that the port belongs to a mail server."),
	H(IMAP_VALIDATION, NO_IMAP4REV1,
	  "The server does not support IMAP4rev1, which is required: check "
	  "the port and ask the administrator about a standard IMAP server."),
	H(IMAP_VALIDATION, MAILBOX_UNAVAILABLE,
	  "Login worked, but the INBOX could not be opened: make sure the "
	  "mailbox exists and is enabled for IMAP, and ask the "
	  "administrator."),
	H(IMAP_VALIDATION, SERVER_BYE,
	  "The server ended the session (BYE) before the check was done. "
	  "When that follows a successful login, the mailbox may not be set "
	  "up for IMAP on this server. Ask the administrator to check the "
	  "server's log."),
	HA(UNEXPECTED_PREAUTH,
	   "The server logged us in without a password over an unprotected "
	   "connection, so it cannot be verified: use port 993 with TLS."),
	H(SMTP_SETTINGS, EHLO_REJECTED,
	  "The SMTP server refused our greeting (EHLO): check the port (465 "
	  "or 587) and ask IT whether an IP allow-list applies."),
	H(APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED,
	  "The provider wants this sign-in confirmed in a web browser: sign "
	  "in on its website, approve the security prompt, then try again. "
	  "If two-step verification is on, create an app-specific password "
	  "and use it here."),
	H(IMAP_SETTINGS, AUTH_PRIVACY_REQUIRED,
	  "The server accepts a login only over an encrypted connection: use "
	  "port 993 with TLS, or STARTTLS on port 143."),
	H(SMTP_SETTINGS, AUTH_PRIVACY_REQUIRED,
	  "The server accepts a login only over an encrypted connection: use "
	  "port 465 with TLS, or STARTTLS on port 587."),
	HA(AUTH_INSECURE,
	   "The connection is not encrypted, so the password was not sent: "
	   "choose TLS or STARTTLS in the security setting."),
	H(IMAP_VALIDATION, AUTH_NO_MECHANISM,
	  "The IMAP server offers no login method this client supports "
	  "(LOGIN, PLAIN, SCRAM-SHA-256, XOAUTH2 or OAUTHBEARER): ask the "
	  "administrator to enable one, or try the other security setting."),
	H(SMTP_SETTINGS, AUTH_NO_MECHANISM,
	  "The SMTP server offers no login method this client supports "
	  "(PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2 or OAUTHBEARER) on this "
	  "port: use the submission port (587 with STARTTLS or 465 with TLS) "
	  "or ask the administrator to enable one."),
	HA(AUTH_NOT_OFFERED,
	   "This port does not accept logins (often port 25 or a relay-only "
	   "service): for SMTP use port 587 with STARTTLS or 465 with TLS."),
	H(UNAUTHORIZED, AUTH_ACCOUNT_DISABLED,
	  "The server says the account is disabled, locked or suspended: "
	  "sign in on the provider's website or ask the administrator to "
	  "unlock it."),
	H(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED,
	  "IMAP or SMTP access is switched off for this account: enable it "
	  "in the provider's mail settings (often \"IMAP access\" or "
	  "\"authenticated SMTP\") or ask the administrator, and check the "
	  "password too."),
	H(IMAP_AUTH, AUTH_PROTOCOL_DISABLED,
	  "IMAP access appears to be switched off for this account: enable "
	  "it in the provider's mail settings or ask the administrator."),
	H(IMAP_AUTH, AUTH_REJECTED,
	  "The IMAP server refused this login but did not say the password "
	  "is wrong (and the same details may work for SMTP): ask IT whether "
	  "IMAP is enabled for the account, whether IMAP needs a different "
	  "username, or whether an IP allow-list applies."),
	H(IMAP_AUTH, AUTH_TEMPORARY,
	  "The IMAP server could not check the login right now (temporary "
	  "failure, maintenance or too many attempts): wait a while and try "
	  "again; if it persists, ask the provider."),
	H(SMTP_SETTINGS, AUTH_TEMPORARY,
	  "The SMTP server could not check the login right now (temporary "
	  "failure or too many attempts): wait a while and try again; if it "
	  "persists, ask the provider."),
	HA(AUTH_TOO_MANY_CONNECTIONS,
	   "The server limits simultaneous connections per mailbox: close "
	   "other mail apps or devices using this mailbox, or wait, then try "
	   "again; IT can raise the limit."),
	HA(AUTH_IP_BLOCKED,
	   "The server refuses connections from this network: ask your IT "
	   "team to add the IP addresses this check connects from to the "
	   "allow-list."),
	HA(AUTH_SERVER_SIGNATURE,
	   "The server could not prove it knows the password: the connection "
	   "may be intercepted. Do not trust it and ask IT to investigate."),
	H(TEST_SEND, SENDER_REJECTED,
	  "The server will not send from this address for this login: use "
	  "the mailbox's own address, or have the account allowed to send as "
	  "it (an alias or send-as permission)."),
	H(TEST_SEND, RECIPIENT_REJECTED,
	  "The server refused the test recipient (the BCC address): check "
	  "that it is spelled right and accepts mail."),
	H(TEST_SEND, RELAY_DENIED,
	  "The server refused to relay to the test recipient: this port may "
	  "not apply the login to sending, or only some IP addresses may "
	  "relay. Use the submission port (587 or 465) and ask IT about an "
	  "IP allow-list."),
	H(TEST_SEND, DATA_REJECTED,
	  "The server refused to take the message: ask the provider about "
	  "the account's sending policy."),
	H(TEST_SEND, MESSAGE_REJECTED,
	  "The server refused the message itself (a policy, content or size "
	  "filter): check the account's sending limits and policies with "
	  "the provider or IT."),
	H(TEST_SEND, SEND_TEMPORARY,
	  "The server refused the message for now (a sending limit or a busy "
	  "server): wait and try again later."),

	/* ---- Refined by provider: name the provider's own setting. ---- */
	HP(APP_PASSWORD, NONE, "gmail",
	   "Gmail: turn on 2-Step Verification for the Google account, then "
	   "create an app password at myaccount.google.com/apppasswords and "
	   "enter its 16 characters here. In Google Workspace, the "
	   "administrator must allow this."),
	HP(APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED, "gmail",
	   "Gmail blocked this sign-in until it is confirmed: sign in at "
	   "accounts.google.com in a browser and review the security alert. "
	   "With 2-Step Verification on, create an app password at "
	   "myaccount.google.com/apppasswords and use it here."),
	HP(UNAUTHORIZED, NONE, "gmail",
	   "Gmail rejected the address or password. Over IMAP and SMTP Google "
	   "accepts an app password (with 2-Step Verification on) or OAuth2, "
	   "not the normal account password: create one at "
	   "myaccount.google.com/apppasswords."),
	HP(APP_PASSWORD, NONE, "microsoft365",
	   "Microsoft 365: if multi-factor authentication is on and the "
	   "organisation allows app passwords, create one at "
	   "mysignins.microsoft.com (Security info); many organisations allow "
	   "only OAuth2 sign-in."),
	HP(UNAUTHORIZED, NONE, "microsoft365",
	   "Microsoft 365 rejected the login. Check the address and password; "
	   "then ask the administrator whether basic authentication is "
	   "retired for the organisation (OAuth2 is then needed) and whether "
	   "SMTP AUTH is enabled for this mailbox."),
	HP(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED, "microsoft365",
	   "Microsoft 365 has SMTP AUTH or basic authentication switched off "
	   "for this organisation or mailbox: an administrator must enable "
	   "authenticated SMTP for the mailbox in the Microsoft 365 admin "
	   "center, or the app must sign in with OAuth2."),
	HP(APP_PASSWORD, NONE, "outlook",
	   "Outlook.com: with two-step verification on, create an app "
	   "password under account.microsoft.com > Security; if it is "
	   "refused too, the account needs OAuth2 sign-in."),
	HP(UNAUTHORIZED, NONE, "outlook",
	   "Outlook.com refused the login. Microsoft has retired password "
	   "sign-in for most mail apps on Outlook.com, so OAuth2 is usually "
	   "needed; also check the address and password."),
	HP(APP_PASSWORD, NONE, "yahoo",
	   "Yahoo Mail does not accept the account password in mail apps: "
	   "open Account Info > Account security, choose Generate app "
	   "password, and enter that password here."),
	HP(UNAUTHORIZED, NONE, "yahoo",
	   "Yahoo Mail refused the login: check the address, and use a "
	   "password made under Account Info > Account security > Generate "
	   "app password, not the account password."),
	HP(APP_PASSWORD, NONE, "aol",
	   "AOL Mail does not accept the account password in mail apps: open "
	   "Account Info > Account Security, generate an app password, and "
	   "enter it here."),
	HP(UNAUTHORIZED, NONE, "aol",
	   "AOL Mail refused the login: check the address, and use an app "
	   "password generated under Account Info > Account Security."),
	HP(APP_PASSWORD, NONE, "icloud",
	   "iCloud Mail needs an app-specific password: sign in at "
	   "appleid.apple.com, open Sign-In and Security > App-Specific "
	   "Passwords, create one and enter it here (two-factor "
	   "authentication must be on)."),
	HP(UNAUTHORIZED, NONE, "icloud",
	   "iCloud Mail refused the login: use your iCloud email address and "
	   "an app-specific password created at appleid.apple.com, never the "
	   "Apple Account password."),
	HP(APP_PASSWORD, NONE, "fastmail",
	   "Fastmail accepts only app passwords over IMAP and SMTP: create "
	   "one under Settings > Privacy & Security > App passwords with "
	   "IMAP and SMTP access, and enter it here."),
	HP(UNAUTHORIZED, NONE, "fastmail",
	   "Fastmail refused the login: check the address, and use an app "
	   "password from Settings > Privacy & Security, not the account "
	   "password."),
	HP(APP_PASSWORD, NONE, "zoho",
	   "Zoho Mail: with two-factor authentication on, generate an "
	   "application-specific password in Zoho Accounts (Security > App "
	   "Passwords) and enter it here."),
	HP(UNAUTHORIZED, NONE, "zoho",
	   "Zoho Mail refused the login: check the address and password, make "
	   "sure IMAP access is enabled in the Zoho Mail settings, and with "
	   "two-factor authentication on use an application-specific "
	   "password."),
	HP(APP_PASSWORD, NONE, "gmx",
	   "GMX: with two-factor authentication on, create an app-specific "
	   "password in the GMX security settings and enter it here."),
	HP(UNAUTHORIZED, NONE, "gmx",
	   "GMX refused the login: check the address and password, and "
	   "switch on POP3/IMAP access in the GMX mail settings (it is off "
	   "by default); with two-factor authentication use an app-specific "
	   "password."),
	HP(APP_PASSWORD, NONE, "webde",
	   "WEB.DE: with two-factor authentication on, create an "
	   "app-specific password in the WEB.DE security settings and enter "
	   "it here."),
	HP(UNAUTHORIZED, NONE, "webde",
	   "WEB.DE refused the login: check the address and password, and "
	   "switch on POP3/IMAP access in the WEB.DE mail settings (it is off "
	   "by default)."),
	HP(UNAUTHORIZED, NONE, "ionos",
	   "IONOS refused the login: use the full email address and the "
	   "mailbox password set in the IONOS control panel."),
	HP(APP_PASSWORD, NONE, "yandex",
	   "Yandex Mail: create an app password in Yandex ID > Security > "
	   "App passwords (type: mail) and enter it here."),
	HP(UNAUTHORIZED, NONE, "yandex",
	   "Yandex Mail refused the login: allow access by mail clients in "
	   "the Yandex Mail settings and use an app password from Yandex ID > "
	   "Security, not the account password."),
	HP(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED, "yandex",
	   "Yandex Mail refused the login or has IMAP switched off: allow "
	   "access by mail clients in the Yandex Mail settings and use an app "
	   "password from Yandex ID > Security."),
	HP(APP_PASSWORD, NONE, "qq",
	   "QQ Mail: enable the IMAP/SMTP service in the mailbox settings "
	   "(Account), generate the authorization code it offers, and enter "
	   "that code here as the password."),
	HP(UNAUTHORIZED, NONE, "qq",
	   "QQ Mail refused the login: enable the IMAP/SMTP service in the "
	   "mailbox settings and use its authorization code, not the QQ "
	   "password."),
	HP(APP_PASSWORD, NONE, "netease",
	   "NetEase Mail (163/126): enable IMAP/SMTP in the mailbox settings "
	   "and enter the client authorization code it gives you as the "
	   "password."),
	HP(UNAUTHORIZED, NONE, "netease",
	   "NetEase Mail (163/126) refused the login: enable IMAP/SMTP in the "
	   "mailbox settings and use the client authorization code, not the "
	   "web password."),
	HP(APP_PASSWORD, NONE, "proton",
	   "Proton Mail works with mail apps only through Proton Mail Bridge "
	   "(or an SMTP token): use the username and password that Bridge "
	   "shows for this address."),
	HP(UNAUTHORIZED, NONE, "proton",
	   "Proton Mail refused the login: mail apps need the username and "
	   "password shown by Proton Mail Bridge (or an SMTP token), not the "
	   "Proton account password."),
};

#define N_HINTS (sizeof hints / sizeof hints[0])

static const char *
find(int outcome, mailconn_cause cause, const char *provider)
{
	for (size_t i = 0; i < N_HINTS; i++) {
		const struct hint *h = &hints[i];
		if (h->outcome != outcome || h->cause != cause)
			continue;
		int same = provider ?
		           h->provider && strcmp(h->provider, provider) == 0 :
		           h->provider == NULL;
		if (same)
			return h->text;
	}
	return NULL;
}

const char *
mailconn__hint(mailconn_error outcome, mailconn_cause cause,
               const char *provider)
{
	if (outcome < MAILCONN_IMAP_SETTINGS ||
	    outcome > MAILCONN_UNTRUSTED_CERT)
		return "";
	const char *t = NULL;
	/*
	 * The cause says what to fix and beats the provider, except where the
	 * cause is only the outcome restated (AUTH_REJECTED for UNAUTHORIZED):
	 * then the provider's own setting is the useful part.
	 */
	int plain = cause == MAILCONN_CAUSE_NONE ||
	            (outcome == MAILCONN_UNAUTHORIZED &&
	             cause == MAILCONN_CAUSE_AUTH_REJECTED) ||
	            (outcome == MAILCONN_APP_PASSWORD &&
	             cause == MAILCONN_CAUSE_AUTH_APP_PASSWORD);
	if (provider && cause != MAILCONN_CAUSE_NONE)
		t = find((int)outcome, cause, provider);
	if (!t && !plain) {
		t = find((int)outcome, cause, NULL);
		if (!t)
			t = find(ANY_OUTCOME, cause, NULL);
	}
	if (!t && provider)
		t = find((int)outcome, MAILCONN_CAUSE_NONE, provider);
	if (!t)
		t = find((int)outcome, MAILCONN_CAUSE_NONE, NULL);
	return t ? t : "";
}
