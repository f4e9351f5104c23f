/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * English: every outcome message and every hint (see lang.h for the keys
 * and placeholders). The reference table: a new language copies its keys.
 */
#include "proto/lang.h"

static const struct mailconn__message_text messages[] = {
	{ MAILCONN_OK, "all five stages passed" },
	{ MAILCONN_IMAP_SETTINGS,
	  "cannot connect to the IMAP server on the given host and port" },
	{ MAILCONN_IMAP_AUTH,
	  "the IMAP server refused the login without saying why" },
	{ MAILCONN_IMAP_VALIDATION,
	  "the IMAP connection could not be validated" },
	{ MAILCONN_SMTP_SETTINGS,
	  "cannot connect or log in to the SMTP server on the given host and port" },
	{ MAILCONN_TEST_SEND, "the SMTP server refused the test message" },
	{ MAILCONN_UNAUTHORIZED, "the server says the credentials are wrong" },
	{ MAILCONN_APP_PASSWORD, "the provider requires an app-specific password" },
	{ MAILCONN_UNTRUSTED_CERT, "the server's certificate is not trusted" },
	{ MAILCONN_E_INVALID_CONFIG, "a configuration value is invalid" },
	{ MAILCONN_E_NOMEM, "out of memory" },
	{ MAILCONN_E_INVALID_ARGUMENT, "a required argument is missing" },
	{ MAILCONN_E_UNKNOWN_OPTION, "the option is not known to this version" },
	{ MAILCONN_E_OPTION_TYPE, "the option takes the other value type" },
	{ MAILCONN_E_MISSING_OPTION, "a required option is not set" },
	{ MAILCONN_E_SYSTEM,
	  "a system resource could not be created or waited on" },
	{ MAILCONN_E_PENDING, "the check has not finished yet" },
	{ MAILCONN_E_CANCELLED, "the check was cancelled before it finished" },
};

#define H(o, c, text) { MAILCONN_##o, MAILCONN_CAUSE_##c, NULL, text }
#define HA(c, text) { MAILCONN__ANY_OUTCOME, MAILCONN_CAUSE_##c, NULL, text }
#define HP(o, c, prov, text) { MAILCONN_##o, MAILCONN_CAUSE_##c, prov, text }

static const struct mailconn__hint_text hints[] = {
	/* ---- Each outcome in general (mailconn_error_hint). ---- */
	H(IMAP_SETTINGS, NONE,
	  "Check the IMAP server name and port (usually 993 with TLS, or 143 "
	  "with STARTTLS) and the security setting. Make sure the server "
	  "meets the technical requirements for IMAP access. Some servers "
	  "accept connections only from certain IP addresses: if so, your IT "
	  "team must add the address you connect from."),
	H(IMAP_AUTH, NONE,
	  "The IMAP server refused the login without saying why. Check the "
	  "IMAP server and port (993 or 143), then the address and password. "
	  "Ask your IT team or provider what the refusal means: common "
	  "reasons are a server that accepts logins only from certain IP "
	  "addresses, too many simultaneous connections to the mailbox, or a "
	  "temporary block after failed attempts."),
	H(IMAP_VALIDATION, NONE,
	  "The IMAP server answered, but the connection could not be "
	  "validated. Check the server name and port (993 or 143), that the "
	  "server and mailbox meet the requirements for IMAP access, and ask "
	  "your IT team whether the IMAP service accepts connections only "
	  "from certain IP addresses."),
	H(SMTP_SETTINGS, NONE,
	  "Check the SMTP server name and port (usually 465 with TLS, or 587 "
	  "with STARTTLS) and the security setting. Make sure the server "
	  "accepts authenticated mail submission, and ask your IT team "
	  "whether it accepts connections only from certain IP addresses."),
	H(TEST_SEND, NONE,
	  "Login worked, but the server refused the test message. Check that "
	  "this account may send from its address and that the recipient is "
	  "accepted, and ask your IT team whether only certain IP addresses "
	  "may send mail through this server."),
	H(UNAUTHORIZED, NONE,
	  "The server says the login details are wrong. Check the email "
	  "address and password, find out whether the server needs a "
	  "separate username, and check whether the provider requires an "
	  "app-specific password. If the details are right, ask your IT team "
	  "whether the server accepts logins only from certain IP addresses."),
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
	  "Nothing accepts connections on port {port}: check the port "
	  "(usually 993 for TLS or 143 for STARTTLS) and that the server "
	  "runs IMAP."),
	H(SMTP_SETTINGS, CONNECT_REFUSED,
	  "Nothing accepts connections on port {port}: check the port "
	  "(usually 465 for TLS or 587 for STARTTLS) and that the server "
	  "accepts mail submission."),
	HA(CONNECT_UNREACHABLE,
	   "The server cannot be reached from here: check the server name "
	   "and port, and whether a firewall blocks the connection or the "
	   "server accepts only certain IP addresses."),
	HA(CONNECT_TIMEOUT,
	   "The server did not answer in time: check the server name and "
	   "port, and whether a firewall silently drops the connection or the "
	   "server accepts only certain IP addresses."),
	HA(CONNECTION_CLOSED,
	   "The server closed the connection unexpectedly: check the port "
	   "and security setting, and ask your IT team whether the server "
	   "accepts only certain IP addresses or limits connections."),
	HA(TIMEOUT,
	   "The server stopped answering: try again, and check whether a "
	   "firewall or a slow network is in the way."),
	HA(TLS_HANDSHAKE_TIMEOUT,
	   "The server accepted the connection on port {port} but never "
	   "finished setting up encryption: check that the port belongs to the "
	   "mail server, and ask your IT team whether a firewall or proxy "
	   "holds the connection."),
	HA(GREETING_TIMEOUT,
	   "The server accepted the connection on port {port} but never "
	   "greeted us. A port that expects TLS from the start behaves like "
	   "this when the security setting is STARTTLS or none: for 993 or "
	   "465 choose TLS. Otherwise check that the port belongs to the mail "
	   "server."),
	H(IMAP_SETTINGS, TLS_MODE_MISMATCH,
	  "The security setting does not match port {port}, which needs "
	  "{wanted}: choose {wanted} for this port, or use port 993 with TLS "
	  "or port 143 with STARTTLS."),
	H(SMTP_SETTINGS, TLS_MODE_MISMATCH,
	  "The security setting does not match port {port}, which needs "
	  "{wanted}: choose {wanted} for this port, or use port 465 with TLS "
	  "or port 587 with STARTTLS."),
	H(IMAP_SETTINGS, WRONG_PROTOCOL,
	  "Port {port} answered with another protocol (SMTP or POP3, for "
	  "instance): use the server's IMAP port, usually 993 or 143."),
	H(SMTP_SETTINGS, WRONG_PROTOCOL,
	  "Port {port} answered with another protocol (IMAP or POP3, for "
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
	  "The server does not offer STARTTLS on port {port}, so the password "
	  "cannot be protected: use port 993 with TLS, or ask the "
	  "administrator to enable STARTTLS."),
	H(SMTP_SETTINGS, STARTTLS_UNAVAILABLE,
	  "The server does not offer STARTTLS on port {port}, so the password "
	  "cannot be protected: use port 465 with TLS, or port 587 with "
	  "STARTTLS."),
	HA(STARTTLS_REFUSED,
	   "The server advertised STARTTLS but refused it: use the port for "
	   "TLS from the start (993 for IMAP, 465 for SMTP), or ask the "
	   "administrator."),
	HA(STARTTLS_INJECTION,
	   "Data arrived before encryption started, which points to a "
	   "tampered connection: use TLS from the start (993 or 465) and ask "
	   "your IT team to look at the network path."),
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
	H(UNTRUSTED_CERT, CERT_PIN_MISMATCH,
	  "The server presented a different certificate from the one you "
	  "chose to accept. If the administrator has replaced it, confirm the "
	  "new fingerprint with them before accepting it; otherwise someone "
	  "may be intercepting the connection, so do not log in."),
	HA(PROTOCOL_ERROR,
	   "The server's reply did not follow the protocol: check that the "
	   "host and port point to the right kind of mail server and that "
	   "the security setting matches the port."),
	H(IMAP_VALIDATION, GREETING_REJECTED,
	  "The IMAP server refused service as soon as we connected (busy, or "
	  "blocking this network): try again later, and ask your IT team "
	  "whether the server accepts only certain IP addresses."),
	H(SMTP_SETTINGS, GREETING_REJECTED,
	  "The SMTP server refused service as soon as we connected (busy, or "
	  "blocking this network): check the port (465 or 587) and ask your "
	  "IT team whether the server accepts only certain IP addresses."),
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
	  "or 587) and ask your IT team whether the server accepts only "
	  "certain IP addresses."),
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
	H(IMAP_VALIDATION, AUTH_NOT_OFFERED,
	  "The IMAP server does not accept logins on port {port}: check the "
	  "port (993 with TLS or 143 with STARTTLS), and ask the "
	  "administrator whether IMAP login is enabled for the account."),
	H(SMTP_SETTINGS, AUTH_NOT_OFFERED,
	  "Port {port} does not accept logins (often port 25 or a relay-only "
	  "service): use port 587 with STARTTLS or 465 with TLS."),
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
	  "is wrong (and the same details may work for SMTP): ask your IT "
	  "team whether IMAP is enabled for the account, whether IMAP needs a "
	  "different username, or whether IMAP accepts logins only from "
	  "certain IP addresses."),
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
	   "again; the administrator can raise the limit."),
	HA(AUTH_IP_BLOCKED,
	   "The server refuses connections from this network: ask your IT "
	   "team to allow the IP address you connect from."),
	HA(AUTH_SERVER_SIGNATURE,
	   "The server could not prove it knows the password: the connection "
	   "may be intercepted. Do not trust it, and ask your IT team to "
	   "investigate."),
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
	  "relay. Use the submission port (587 or 465), and ask your IT team "
	  "whether your IP address may send through this server."),
	H(TEST_SEND, DATA_REJECTED,
	  "The server refused to take the message: ask the provider about "
	  "the account's sending policy."),
	H(TEST_SEND, MESSAGE_REJECTED,
	  "The server refused the message itself (a policy, content or size "
	  "filter): check the account's sending limits and policies with "
	  "the provider or your IT team."),
	H(TEST_SEND, SEND_TEMPORARY,
	  "The server refused the message for now (a sending limit or a busy "
	  "server): wait and try again later."),

	/* ---- Refined by provider: name the provider's own setting. ---- */
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "gmail",
	   "Gmail: turn on 2-Step Verification for the Google account, then "
	   "create an app password at myaccount.google.com/apppasswords and "
	   "enter its 16 characters here. In Google Workspace, the "
	   "administrator must allow this."),
	HP(APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED, "gmail",
	   "Gmail blocked this sign-in until it is confirmed: sign in at "
	   "accounts.google.com in a browser and review the security alert. "
	   "With 2-Step Verification on, create an app password at "
	   "myaccount.google.com/apppasswords and use it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "gmail",
	   "Gmail rejected the address or password. Over IMAP and SMTP Google "
	   "accepts an app password (with 2-Step Verification on) or OAuth2, "
	   "not the normal account password: create one at "
	   "myaccount.google.com/apppasswords."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "microsoft365",
	   "Microsoft 365: if multi-factor authentication is on and the "
	   "organisation allows app passwords, create one at "
	   "mysignins.microsoft.com (Security info); many organisations allow "
	   "only OAuth2 sign-in."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "microsoft365",
	   "Microsoft 365 rejected the login. Check the address and password; "
	   "then ask the administrator whether basic authentication is "
	   "retired for the organisation (OAuth2 is then needed) and whether "
	   "SMTP AUTH is enabled for this mailbox."),
	HP(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED, "microsoft365",
	   "Microsoft 365 has SMTP AUTH or basic authentication switched off "
	   "for this organisation or mailbox: an administrator must enable "
	   "authenticated SMTP for the mailbox in the Microsoft 365 admin "
	   "center, or the app must sign in with OAuth2."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "outlook",
	   "Outlook.com: with two-step verification on, create an app "
	   "password under account.microsoft.com > Security; if it is "
	   "refused too, the account needs OAuth2 sign-in."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "outlook",
	   "Outlook.com refused the login. Microsoft has retired password "
	   "sign-in for most mail apps on Outlook.com, so OAuth2 is usually "
	   "needed; also check the address and password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "yahoo",
	   "Yahoo Mail does not accept the account password in mail apps: "
	   "open Account Info > Account security, choose Generate app "
	   "password, and enter that password here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "yahoo",
	   "Yahoo Mail refused the login: check the address, and use a "
	   "password made under Account Info > Account security > Generate "
	   "app password, not the account password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "aol",
	   "AOL Mail does not accept the account password in mail apps: open "
	   "Account Info > Account Security, generate an app password, and "
	   "enter it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "aol",
	   "AOL Mail refused the login: check the address, and use an app "
	   "password generated under Account Info > Account Security."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "icloud",
	   "iCloud Mail needs an app-specific password: sign in at "
	   "appleid.apple.com, open Sign-In and Security > App-Specific "
	   "Passwords, create one and enter it here (two-factor "
	   "authentication must be on)."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "icloud",
	   "iCloud Mail refused the login: use your iCloud email address and "
	   "an app-specific password created at appleid.apple.com, never the "
	   "Apple Account password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "fastmail",
	   "Fastmail accepts only app passwords over IMAP and SMTP: create "
	   "one under Settings > Privacy & Security > App passwords with "
	   "IMAP and SMTP access, and enter it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "fastmail",
	   "Fastmail refused the login: check the address, and use an app "
	   "password from Settings > Privacy & Security, not the account "
	   "password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "zoho",
	   "Zoho Mail: with two-factor authentication on, generate an "
	   "application-specific password in Zoho Accounts (Security > App "
	   "Passwords) and enter it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "zoho",
	   "Zoho Mail refused the login: check the address and password, make "
	   "sure IMAP access is enabled in the Zoho Mail settings, and with "
	   "two-factor authentication on use an application-specific "
	   "password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "gmx",
	   "GMX: with two-factor authentication on, create an app-specific "
	   "password in the GMX security settings and enter it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "gmx",
	   "GMX refused the login: check the address and password, and "
	   "switch on POP3/IMAP access in the GMX mail settings (it is off "
	   "by default); with two-factor authentication use an app-specific "
	   "password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "webde",
	   "WEB.DE: with two-factor authentication on, create an "
	   "app-specific password in the WEB.DE security settings and enter "
	   "it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "webde",
	   "WEB.DE refused the login: check the address and password, and "
	   "switch on POP3/IMAP access in the WEB.DE mail settings (it is off "
	   "by default)."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "ionos",
	   "IONOS refused the login: use the full email address and the "
	   "mailbox password set in the IONOS control panel."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "yandex",
	   "Yandex Mail: create an app password in Yandex ID > Security > "
	   "App passwords (type: mail) and enter it here."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "yandex",
	   "Yandex Mail refused the login: allow access by mail clients in "
	   "the Yandex Mail settings and use an app password from Yandex ID > "
	   "Security, not the account password."),
	HP(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED, "yandex",
	   "Yandex Mail refused the login or has IMAP switched off: allow "
	   "access by mail clients in the Yandex Mail settings and use an app "
	   "password from Yandex ID > Security."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "qq",
	   "QQ Mail: enable the IMAP/SMTP service in the mailbox settings "
	   "(Account), generate the authorization code it offers, and enter "
	   "that code here as the password."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "qq",
	   "QQ Mail refused the login: enable the IMAP/SMTP service in the "
	   "mailbox settings and use its authorization code, not the QQ "
	   "password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "netease",
	   "NetEase Mail (163/126): enable IMAP/SMTP in the mailbox settings "
	   "and enter the client authorization code it gives you as the "
	   "password."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "netease",
	   "NetEase Mail (163/126) refused the login: enable IMAP/SMTP in the "
	   "mailbox settings and use the client authorization code, not the "
	   "web password."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "proton",
	   "Proton Mail works with mail apps only through Proton Mail Bridge "
	   "(or an SMTP token): use the username and password that Bridge "
	   "shows for this address."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "proton",
	   "Proton Mail refused the login: mail apps need the username and "
	   "password shown by Proton Mail Bridge (or an SMTP token), not the "
	   "Proton account password."),
};

const struct mailconn__language mailconn__lang_en = {
	"en",
	messages, sizeof messages / sizeof messages[0],
	hints, sizeof hints / sizeof hints[0],
};
