/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmailconn: will this mailbox work over IMAP and SMTP, and if not, why?
 *
 * This header is the whole public API: anything not declared here is not
 * part of the contract and may change at any time.
 *
 * Model
 *   A mailconn_config holds what the user typed (address, password, hosts,
 *   ports, security, trust options). A mailconn_session built from it runs
 *   the five verification stages as a non-blocking state machine that the
 *   caller drives from its own event loop:
 *
 *       mailconn_session *s;
 *       if (mailconn_session_new(cfg, &s) != MAILCONN_OK) ...;
 *       while (mailconn_session_step(s) == MAILCONN_PENDING) {
 *           wait until mailconn_session_fd(s) is ready for
 *           mailconn_session_events(s), or mailconn_session_timeout_ms(s)
 *           has passed, whichever comes first;
 *       }
 *       mailconn_session_outcome(s), mailconn_session_hint(s), ...
 *       mailconn_session_free(s);
 *
 * Rules that hold for every function
 *   - Strings are UTF-8 and NUL-terminated. Returned strings are owned by
 *     the handle they came from and stay valid until that handle is freed
 *     or, for a session, until the next mailconn_session_step() call.
 *     Strings that carry server text are sanitised: no control characters,
 *     no terminal escapes, valid UTF-8. Every string a session returns
 *     (reply, detail, hint, facts) and every transcript line is at most
 *     MAILCONN_TEXT_MAX bytes long; longer text is cut at a character
 *     boundary and ends in "...".
 *   - A handle is used by one thread at a time; separate handles are
 *     independent, and many sessions may run in one thread.
 *   - Callbacks run inside mailconn_session_step(). From inside them the
 *     session's read-only getters (outcome, cause, stage, protocol,
 *     server_reply, detail, hint, hint_id, provider, message, language,
 *     stage_passed, stage_ms, fact, fd, events, timeout_ms) and
 *     mailconn_session_cancel() may be called; step, run,
 *     the setters and free may not. For each stage they arrive in reading
 *     order: progress(started), that stage's transcript lines,
 *     progress(finished). Until the session is done, outcome() is
 *     MAILCONN_E_PENDING even inside the callback of the failing stage.
 *   - Secrets (passwords, tokens) are copied, never logged, never put in a
 *     result string, and wiped from memory when their handle is freed.
 *   - Enum values are frozen: new values are only ever appended.
 *
 * Platform and lifetime
 *   - Linux only today (epoll, eventfd, getaddrinfo in a thread).
 *   - No global initialisation call: GnuTLS initialises itself when the
 *     library is loaded. The library keeps no global mutable state.
 *   - Name resolution runs getaddrinfo() in a detached thread per lookup,
 *     which cannot be interrupted: after mailconn_session_free() it may
 *     live on until the system resolver returns (bounded by the resolver's
 *     own timeouts), touching only memory of its own. Do not dlclose() the
 *     library while such a lookup may still be running.
 *   - After fork(), a session belongs to the process that created it:
 *     the child must not step it (it may free it, which closes the fds).
 */
#ifndef MAILCONN_H
#define MAILCONN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(MAILCONN_BUILDING)
#define MAILCONN_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define MAILCONN_API __attribute__((visibility("default")))
#else
#define MAILCONN_API
#endif

/* MAILCONN_VERSION_MAJOR, _MINOR, _PATCH, _NUMBER and _STRING: the
 * version of this header, generated from the build's project version;
 * compare with mailconn_version_number(). */
#include "mailconn-version.h"

/** Longest string, in bytes without the NUL, that a session hands out. */
#define MAILCONN_TEXT_MAX 2048

/** Opaque configuration: what to verify and how. */
typedef struct mailconn_config mailconn_config;
/** Opaque verification session: one run of the five stages. */
typedef struct mailconn_session mailconn_session;

/**
 * Two families share this type, as libcurl keeps CURLcode and CURLMcode
 * apart:
 *   - verification outcomes, 0-8: MAILCONN_OK ("the mailbox works") and the
 *     eight codes callers branch on; mailconn_cause gives the finer reason.
 *   - call status, 100+ (MAILCONN_E_*): what an API call says about the
 *     call itself. mailconn_session_outcome() returns one of these instead
 *     of an outcome when the check reached no verdict: E_PENDING (not
 *     finished), E_CANCELLED (mailconn_session_cancel()), E_SYSTEM (the
 *     blocking mailconn_session_run() could not wait). MAILCONN_OK is only
 *     ever returned for a verification that observed all five stages pass.
 */
typedef enum mailconn_error {
	MAILCONN_OK = 0,
	/** Stage 1-2: the IMAP host or port cannot be reached or spoken to. */
	MAILCONN_IMAP_SETTINGS = 1,
	/** IMAP refused the login without saying the credentials are wrong. */
	MAILCONN_IMAP_AUTH = 2,
	/** IMAP reachable, but the server or account does not meet the
	 * requirements (STARTTLS missing, no IMAP4rev1, INBOX unusable...). */
	MAILCONN_IMAP_VALIDATION = 3,
	/** Stage 3-4: SMTP host/port unreachable or unusable for login. */
	MAILCONN_SMTP_SETTINGS = 4,
	/** Stage 5: the server refused the test message. */
	MAILCONN_TEST_SEND = 5,
	/** The server says the credentials are wrong (IMAP or SMTP). */
	MAILCONN_UNAUTHORIZED = 6,
	/** The provider demands an app-specific password. */
	MAILCONN_APP_PASSWORD = 7,
	/** The certificate is not trusted, expired or for another host. */
	MAILCONN_UNTRUSTED_CERT = 8,

	/* Caller errors: returned by API calls, never a verification outcome. */
	/** A configuration value is invalid; see mailconn_config_error(). */
	MAILCONN_E_INVALID_CONFIG = 100,
	/** Memory could not be allocated. */
	MAILCONN_E_NOMEM = 101,
	/** A NULL handle or argument where one is required. */
	MAILCONN_E_INVALID_ARGUMENT = 102,
	/** The option id is not known to this version of the library. */
	MAILCONN_E_UNKNOWN_OPTION = 103,
	/** The option exists but takes the other value type (string/int). */
	MAILCONN_E_OPTION_TYPE = 104,
	/** A required option (e.g. email, hosts, BCC) was never set. */
	MAILCONN_E_MISSING_OPTION = 105,
	/** A system resource (thread, pipe, socket) could not be created, or
	 * mailconn_session_run()'s own wait failed (then also the session's
	 * outcome, with MAILCONN_CAUSE_SYSTEM). */
	MAILCONN_E_SYSTEM = 106,
	/** mailconn_session_outcome(): the check has not finished yet. */
	MAILCONN_E_PENDING = 107,
	/** mailconn_session_outcome(): mailconn_session_cancel() stopped the
	 * check before it finished. */
	MAILCONN_E_CANCELLED = 108,

	MAILCONN_ERROR_MAX_ = 0x7fffffff
} mailconn_error;

/**
 * Finer cause of an outcome, grouped by layer. Numbers are frozen; the
 * groups leave room to append.
 */
typedef enum mailconn_cause {
	MAILCONN_CAUSE_NONE = 0,
	/* DNS 10-19 */
	MAILCONN_CAUSE_DNS_NOT_FOUND = 10,
	MAILCONN_CAUSE_DNS_TEMPORARY = 11,
	MAILCONN_CAUSE_DNS_FAILED = 12,
	/* TCP 20-29 */
	MAILCONN_CAUSE_CONNECT_REFUSED = 20,
	MAILCONN_CAUSE_CONNECT_UNREACHABLE = 21,
	MAILCONN_CAUSE_CONNECT_TIMEOUT = 22,
	MAILCONN_CAUSE_CONNECT_FAILED = 23,
	MAILCONN_CAUSE_CONNECTION_CLOSED = 24,
	MAILCONN_CAUSE_NETWORK_ERROR = 25,
	/** Time ran out waiting for the reply to a command (the detail names
	 * it), or, from a session that cannot tell, at any point after
	 * connecting. The phases before have causes of their own:
	 * CONNECT_TIMEOUT, TLS_HANDSHAKE_TIMEOUT, GREETING_TIMEOUT. */
	MAILCONN_CAUSE_TIMEOUT = 26,
	/* TLS 30-39 */
	MAILCONN_CAUSE_TLS_HANDSHAKE = 30,
	/** The port speaks plaintext where TLS was expected, or the reverse. */
	MAILCONN_CAUSE_TLS_MODE_MISMATCH = 31,
	/** No TLS version >= 1.2 or no cipher in common. */
	MAILCONN_CAUSE_TLS_VERSION = 32,
	MAILCONN_CAUSE_STARTTLS_UNAVAILABLE = 33,
	MAILCONN_CAUSE_STARTTLS_REFUSED = 34,
	/** Bytes arrived after the STARTTLS reply, before the handshake. */
	MAILCONN_CAUSE_STARTTLS_INJECTION = 35,
	/** The server accepted the connection but did not finish the TLS
	 * handshake (implicit TLS or after STARTTLS) in time. */
	MAILCONN_CAUSE_TLS_HANDSHAKE_TIMEOUT = 36,
	/* Certificate 40-49 */
	MAILCONN_CAUSE_CERT_UNTRUSTED = 40,
	MAILCONN_CAUSE_CERT_EXPIRED = 41,
	MAILCONN_CAUSE_CERT_NOT_YET_VALID = 42,
	MAILCONN_CAUSE_CERT_HOSTNAME = 43,
	MAILCONN_CAUSE_CERT_INSECURE_ALGORITHM = 44,
	MAILCONN_CAUSE_CERT_MALFORMED = 45,
	MAILCONN_CAUSE_CERT_PURPOSE = 46,
	/** The certificate is not the one pinned with
	 * MAILCONN_OPT_IMAP_CERT_SHA256 or MAILCONN_OPT_SMTP_CERT_SHA256. */
	MAILCONN_CAUSE_CERT_PIN_MISMATCH = 47,
	/* Protocol 50-69 */
	MAILCONN_CAUSE_PROTOCOL_ERROR = 50,
	/** The port answered with another protocol (SMTP on IMAP or reverse). */
	MAILCONN_CAUSE_WRONG_PROTOCOL = 51,
	/** The greeting refused service (IMAP BYE, SMTP 421/554). */
	MAILCONN_CAUSE_GREETING_REJECTED = 52,
	MAILCONN_CAUSE_LINE_TOO_LONG = 53,
	MAILCONN_CAUSE_NO_IMAP4REV1 = 54,
	MAILCONN_CAUSE_MAILBOX_UNAVAILABLE = 55,
	MAILCONN_CAUSE_SERVER_BYE = 56,
	/** PREAUTH greeting where a login over TLS was required. */
	MAILCONN_CAUSE_UNEXPECTED_PREAUTH = 57,
	MAILCONN_CAUSE_EHLO_REJECTED = 58,
	/** The server accepted the connection (and TLS, if implicit) but its
	 * greeting did not arrive in time: typical of a port that expects
	 * TLS from the start when spoken to in plaintext. */
	MAILCONN_CAUSE_GREETING_TIMEOUT = 59,
	/* Authentication 70-89 */
	MAILCONN_CAUSE_AUTH_REJECTED = 70,
	MAILCONN_CAUSE_AUTH_TEMPORARY = 71,
	MAILCONN_CAUSE_AUTH_APP_PASSWORD = 72,
	MAILCONN_CAUSE_AUTH_WEB_LOGIN_REQUIRED = 73,
	MAILCONN_CAUSE_AUTH_NOT_OFFERED = 74,
	MAILCONN_CAUSE_AUTH_NO_MECHANISM = 75,
	/** The server wants TLS before login (PRIVACYREQUIRED, 530 5.7.0). */
	MAILCONN_CAUSE_AUTH_PRIVACY_REQUIRED = 76,
	/** The library refused to send a password over an unencrypted link. */
	MAILCONN_CAUSE_AUTH_INSECURE = 77,
	MAILCONN_CAUSE_AUTH_ACCOUNT_DISABLED = 78,
	MAILCONN_CAUSE_AUTH_TOO_MANY_CONNECTIONS = 79,
	MAILCONN_CAUSE_AUTH_IP_BLOCKED = 80,
	MAILCONN_CAUSE_AUTH_PROTOCOL_DISABLED = 81,
	/** The server's SCRAM signature did not verify: not the real server. */
	MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE = 82,
	/* Sending 90-99 */
	MAILCONN_CAUSE_SENDER_REJECTED = 90,
	MAILCONN_CAUSE_RECIPIENT_REJECTED = 91,
	MAILCONN_CAUSE_RELAY_DENIED = 92,
	MAILCONN_CAUSE_DATA_REJECTED = 93,
	MAILCONN_CAUSE_MESSAGE_REJECTED = 94,
	MAILCONN_CAUSE_SEND_TEMPORARY = 95,
	/* The check itself 100-109 */
	/** mailconn_session_cancel() was called. */
	MAILCONN_CAUSE_CANCELLED = 100,
	/** The session's own wait (poll in mailconn_session_run) failed. */
	MAILCONN_CAUSE_SYSTEM = 101,

	MAILCONN_CAUSE_MAX_ = 0x7fffffff
} mailconn_cause;

/** The five verification stages, in the order they run. */
typedef enum mailconn_stage {
	MAILCONN_STAGE_NONE = 0,
	MAILCONN_STAGE_IMAP_CONNECT = 1,
	MAILCONN_STAGE_IMAP_LOGIN = 2,
	MAILCONN_STAGE_SMTP_CONNECT = 3,
	MAILCONN_STAGE_SMTP_LOGIN = 4,
	MAILCONN_STAGE_TEST_SEND = 5,
	MAILCONN_STAGE_MAX_ = 0x7fffffff
} mailconn_stage;

/** Transport security for one server. */
typedef enum mailconn_security {
	/** From the port: 993/465 TLS; 143/587/25 STARTTLS; otherwise TLS. */
	MAILCONN_SECURITY_AUTO = 0,
	/** Implicit TLS from the first byte. */
	MAILCONN_SECURITY_TLS = 1,
	/** Plaintext, then STARTTLS; never falls back to plaintext. */
	MAILCONN_SECURITY_STARTTLS = 2,
	/** No TLS at all; the password is sent in the clear. Opt-in only. */
	MAILCONN_SECURITY_PLAIN = 3,
	MAILCONN_SECURITY_MAX_ = 0x7fffffff
} mailconn_security;

/** Which protocol a result or transcript line belongs to. */
typedef enum mailconn_protocol {
	MAILCONN_PROTOCOL_NONE = 0,
	MAILCONN_PROTOCOL_IMAP = 1,
	MAILCONN_PROTOCOL_SMTP = 2,
	MAILCONN_PROTOCOL_MAX_ = 0x7fffffff
} mailconn_protocol;

/**
 * Configuration options. Ids 1-99 take a string
 * (mailconn_config_set_string), ids 100-199 an integer
 * (mailconn_config_set_int).
 */
typedef enum mailconn_option {
	/** The mailbox address; also the From of the test mail. Required. */
	MAILCONN_OPT_EMAIL = 1,
	/** Password (or app password) for IMAP and SMTP. Secret. */
	MAILCONN_OPT_PASSWORD = 2,
	/** OAuth2 access token, used instead of a password. Secret. */
	MAILCONN_OPT_OAUTH2_TOKEN = 3,
	/** Login name when it differs from the address (IMAP and SMTP). */
	MAILCONN_OPT_USERNAME = 4,
	/** SMTP login name when it differs from the IMAP one. */
	MAILCONN_OPT_SMTP_USERNAME = 5,
	/** SMTP password when it differs from the IMAP one. Secret. */
	MAILCONN_OPT_SMTP_PASSWORD = 6,
	/** IMAP server host name (IDN allowed). Required. */
	MAILCONN_OPT_IMAP_HOST = 7,
	/** SMTP server host name (IDN allowed). Required. */
	MAILCONN_OPT_SMTP_HOST = 8,
	/** Recipient of the test mail. Required. */
	MAILCONN_OPT_BCC = 9,
	/** Subject of the test mail (a default is used when unset). */
	MAILCONN_OPT_SUBJECT = 10,
	/** Body text of the test mail (a default is used when unset). */
	MAILCONN_OPT_BODY = 11,
	/** PEM file of extra trusted CA certificates. */
	MAILCONN_OPT_CA_FILE = 12,
	/** Directory of extra trusted CA certificates (PEM files). */
	MAILCONN_OPT_CA_PATH = 13,
	/** Numeric IP addresses to connect to for the IMAP host instead of
	 * resolving it (like curl --resolve); the host name is still used for
	 * SNI and certificates. A comma-separated list of 1 to 16 addresses
	 * without spaces, IPv4 or IPv6, an IPv6 one optionally in brackets:
	 * "192.0.2.1", "[2001:db8::1],192.0.2.1". All are tried, in the
	 * Happy Eyeballs order used for resolved addresses (families
	 * alternate, starting with the first address's family). */
	MAILCONN_OPT_IMAP_ADDRESS = 14,
	/** Numeric IP addresses to connect to for the SMTP host: the same
	 * list format and behaviour as MAILCONN_OPT_IMAP_ADDRESS. */
	MAILCONN_OPT_SMTP_ADDRESS = 15,
	/** Name sent in EHLO (default: "localhost"). */
	MAILCONN_OPT_CLIENT_NAME = 16,
	/** Language of the session's hint and message: a language tag or
	 * locale name such as "en", "nb", "nb-NO" or "no_NO.UTF-8"; only the
	 * primary language counts. "nb", "no" and "nn" (whose readers read
	 * Bokmål daily) give Norwegian Bokmål; any other well-formed tag gives
	 * English. Default: the first set of LC_ALL, LC_MESSAGES and LANG,
	 * read with getenv() when the session is made (the process's locale
	 * is never queried or changed); English when none is set. */
	MAILCONN_OPT_LANGUAGE = 17,
	/** The SASL mechanisms to log in with, in order, comma-separated:
	 * any of "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN", "LOGIN",
	 * "XOAUTH2", "OAUTHBEARER" (any case, each at most once; checked when
	 * set). The first one the server offers is used ("LOGIN" also names
	 * IMAP's LOGIN command); none offered ends the login stage with
	 * MAILCONN_CAUSE_AUTH_NO_MECHANISM. Default: unset, and the library
	 * chooses: PLAIN (LOGIN where PLAIN is not offered) when the server's
	 * certificate was verified, since it logs in within one round trip and
	 * TLS already keeps the password from anyone else; SCRAM-SHA-256-PLUS,
	 * then SCRAM-SHA-256, when the certificate was accepted only because of
	 * MAILCONN_OPT_ALLOW_UNTRUSTED_CERT or the connection is plaintext by
	 * choice, so that an interceptor never gets the password in a
	 * recoverable form.
	 *
	 * Extra login attempt: when SCRAM-SHA-256-PLUS is refused (some servers
	 * offer it but cannot check the channel binding, and a refusal then
	 * says nothing about the password), the library tries once more on the
	 * same connection with SCRAM-SHA-256, if offered and allowed by this
	 * list. So one check makes at most two login attempts per protocol;
	 * account lockout policies that count failed attempts may count both.
	 * The transcript says so and MAILCONN_FACT_AUTH_MECHANISM reads
	 * "SCRAM-SHA-256 (after SCRAM-SHA-256-PLUS was refused)". */
	MAILCONN_OPT_MECHANISMS = 18,
	/** Accept the IMAP server's certificate only if its SHA-256
	 * fingerprint is this one: 64 hex digits, any case, either plain or
	 * in pairs separated by colons as MAILCONN_FACT_CERT_SHA256 reports it.
	 * A matching certificate is accepted even when it is untrusted,
	 * expired or for another name (the TLS version floor and STARTTLS
	 * stay enforced); any other certificate fails with
	 * MAILCONN_UNTRUSTED_CERT, cause MAILCONN_CAUSE_CERT_PIN_MISMATCH, even
	 * with MAILCONN_OPT_ALLOW_UNTRUSTED_CERT. Needs TLS or STARTTLS. */
	MAILCONN_OPT_IMAP_CERT_SHA256 = 19,
	/** The same pin for the SMTP server's certificate. */
	MAILCONN_OPT_SMTP_CERT_SHA256 = 20,

	/** IMAP port, 1-65535 (default from the security: 993 or 143). */
	MAILCONN_OPT_IMAP_PORT = 100,
	/** IMAP security, a mailconn_security value (default AUTO). */
	MAILCONN_OPT_IMAP_SECURITY = 101,
	/** SMTP port, 1-65535 (default from the security: 465 or 587). */
	MAILCONN_OPT_SMTP_PORT = 102,
	/** SMTP security, a mailconn_security value (default AUTO). */
	MAILCONN_OPT_SMTP_SECURITY = 103,
	/** 1: accept a certificate that fails chain or name checks. The
	 * TLS version floor and STARTTLS stay enforced. Default 0. */
	MAILCONN_OPT_ALLOW_UNTRUSTED_CERT = 104,
	/** Milliseconds any one stage may take (default 30000). */
	MAILCONN_OPT_STAGE_TIMEOUT_MS = 105,
	/** Milliseconds the whole verification may take (default 120000). */
	MAILCONN_OPT_DEADLINE_MS = 106,
	/** 1: run the IMAP stages (1-2) and the SMTP stages (3-4) at the same
	 * time and send the test mail once both passed; the outcome is still
	 * that of the earliest failing stage. Default 0 (one after the other). */
	MAILCONN_OPT_OVERLAP = 107,

	MAILCONN_OPTION_MAX_ = 0x7fffffff
} mailconn_option;

/** Result of mailconn_session_step(). */
typedef enum mailconn_state {
	/** Not finished: wait as told, then step again. */
	MAILCONN_PENDING = 0,
	/** Finished; read the outcome with mailconn_session_outcome(). */
	MAILCONN_DONE = 1,
	MAILCONN_STATE_MAX_ = 0x7fffffff
} mailconn_state;

/** Bits of mailconn_session_events(). */
#define MAILCONN_WAIT_READ 1u
#define MAILCONN_WAIT_WRITE 2u

/** Direction of a transcript line. */
typedef enum mailconn_direction {
	MAILCONN_DIR_RECEIVED = 0,
	MAILCONN_DIR_SENT = 1,
	/** A note from the library itself (connecting, TLS established...). */
	MAILCONN_DIR_INFO = 2,
	MAILCONN_DIRECTION_MAX_ = 0x7fffffff
} mailconn_direction;

/** Per-stage facts, read with mailconn_session_fact(). */
typedef enum mailconn_fact {
	/** Address and port connected to, e.g. "127.0.0.1:993". */
	MAILCONN_FACT_ADDRESS = 0,
	/** Negotiated TLS version, e.g. "TLS1.3". */
	MAILCONN_FACT_TLS_VERSION = 1,
	/** Negotiated cipher suite name. */
	MAILCONN_FACT_TLS_CIPHER = 2,
	/** SHA-256 of the server certificate, hex with colons. */
	MAILCONN_FACT_CERT_SHA256 = 3,
	/** IMAP: capability atoms separated by spaces. SMTP: the EHLO extension
	 * lines, one per line, separated by "\n". */
	MAILCONN_FACT_CAPABILITIES = 4,
	/** SASL mechanism or command used to log in, e.g. "PLAIN"; after the
	 * one retry described at MAILCONN_OPT_MECHANISMS,
	 * "SCRAM-SHA-256 (after SCRAM-SHA-256-PLUS was refused)". */
	MAILCONN_FACT_AUTH_MECHANISM = 5,
	/** Subject and issuer of the server certificate. */
	MAILCONN_FACT_CERT_SUBJECT = 6,
	/** Message-ID of the test mail (stage 5). */
	MAILCONN_FACT_MESSAGE_ID = 7,
	/** This side's address and port of the connection, e.g.
	 * "192.0.2.7:50312", in the connect stage: what a server that accepts
	 * only certain IP addresses must allow (behind NAT, the server sees
	 * the router's public address instead). */
	MAILCONN_FACT_LOCAL_ADDRESS = 8,
	MAILCONN_FACT_MAX_ = 0x7fffffff
} mailconn_fact;

/** Called when a stage starts (finished == 0) and when it ends
 * (finished == 1, outcome MAILCONN_OK on success). */
typedef void (*mailconn_progress_fn)(void *userdata, mailconn_stage stage,
                                     int finished, mailconn_error outcome);

/** Called for every protocol line, with secrets already replaced by
 * "[redacted]" and server text sanitised. `line` has no CRLF and is
 * valid only during the call. */
typedef void (*mailconn_transcript_fn)(void *userdata, mailconn_stage stage,
                                       mailconn_protocol protocol,
                                       mailconn_direction direction,
                                       const char *line);

/** Per-session variants of the callbacks above: they also receive the
 * session they report on (see mailconn_session_set_progress()). */
typedef void (*mailconn_session_progress_fn)(mailconn_session *s,
                                             void *userdata,
                                             mailconn_stage stage,
                                             int finished,
                                             mailconn_error outcome);
typedef void (*mailconn_session_transcript_fn)(mailconn_session *s,
                                               void *userdata,
                                               mailconn_stage stage,
                                               mailconn_protocol protocol,
                                               mailconn_direction direction,
                                               const char *line);

/* ---- Library ---------------------------------------------------------- */

/** @return the runtime library version as "MAJOR.MINOR.PATCH". */
MAILCONN_API const char *mailconn_version(void);

/** @return the runtime version as MAILCONN_VERSION_NUMBER would be. */
MAILCONN_API uint32_t mailconn_version_number(void);

/** @return the code's stable name, e.g. "IMAP_SETTINGS", "OK",
 * "E_INVALID_CONFIG"; "UNKNOWN" for a value this version does not know. */
MAILCONN_API const char *mailconn_error_name(mailconn_error code);

/** @return a one-line English description of the code. A session's
 * mailconn_session_message() is in the session's language. */
MAILCONN_API const char *mailconn_error_message(mailconn_error code);

/** @return the generic English advice for an outcome ("" for MAILCONN_OK
 * and caller errors). A session's mailconn_session_hint() is more specific
 * and in the session's language. */
MAILCONN_API const char *mailconn_error_hint(mailconn_error code);

/** @return the cause's stable name, e.g. "CERT_EXPIRED"; "UNKNOWN" if not
 * known to this version. */
MAILCONN_API const char *mailconn_cause_name(mailconn_cause cause);

/** @return the stage's stable name, e.g. "imap_connect"; "none" for 0. */
MAILCONN_API const char *mailconn_stage_name(mailconn_stage stage);

/* ---- Configuration ---------------------------------------------------- */

/** Create an empty configuration. @return NULL when out of memory. */
MAILCONN_API mailconn_config *mailconn_config_new(void);

/** Free a configuration and wipe its secrets. NULL is allowed. Sessions
 * made from it keep their own copy and are not affected. */
MAILCONN_API void mailconn_config_free(mailconn_config *cfg);

/**
 * Set a string option (ids 1-99). The value is validated and copied at
 * once; NULL or "" clears an optional option.
 * @return MAILCONN_OK; MAILCONN_E_INVALID_CONFIG for a CR or LF (or other
 * control character) in the value, an over-long value, a malformed address
 * or host name, an unreadable CA file (see mailconn_config_error());
 * MAILCONN_E_UNKNOWN_OPTION;
 * MAILCONN_E_OPTION_TYPE; MAILCONN_E_NOMEM; MAILCONN_E_INVALID_ARGUMENT.
 */
MAILCONN_API mailconn_error mailconn_config_set_string(mailconn_config *cfg,
                                                       mailconn_option option,
                                                       const char *value);

/**
 * Set an integer option (ids 100-199), validated at once (ports 1-65535,
 * security one of mailconn_security, timeouts 1..86400000, flags 0/1).
 * @return MAILCONN_OK, MAILCONN_E_INVALID_CONFIG,
 * MAILCONN_E_UNKNOWN_OPTION, MAILCONN_E_OPTION_TYPE or
 * MAILCONN_E_INVALID_ARGUMENT.
 */
MAILCONN_API mailconn_error mailconn_config_set_int(mailconn_config *cfg,
                                                    mailconn_option option,
                                                    int64_t value);

/** @return the option id for a name such as "imap_host" (the enum name
 * without MAILCONN_OPT_, any case), or -1 when unknown. */
MAILCONN_API int mailconn_option_from_name(const char *name);

/** @return the lower-case name of an option id, or NULL when unknown. */
MAILCONN_API const char *mailconn_option_name(mailconn_option option);

/** @return why the last setter call on `cfg` failed (names the option), or
 * "" after a success. */
MAILCONN_API const char *mailconn_config_error(const mailconn_config *cfg);

/** @return the option that the last failed setter call on `cfg` was about,
 * for a settings dialog to point at the field: the option given, for
 * MAILCONN_E_INVALID_CONFIG and MAILCONN_E_OPTION_TYPE; 0 after a success,
 * for an unknown option id, when out of memory, and for a NULL `cfg`. */
MAILCONN_API mailconn_option
mailconn_config_error_option(const mailconn_config *cfg);

/** Register a progress callback (NULL to remove). Sessions created later
 * call it; `userdata` is passed through untouched. To tell sessions apart,
 * prefer mailconn_session_set_progress(). */
MAILCONN_API void mailconn_config_set_progress(mailconn_config *cfg,
                                               mailconn_progress_fn fn,
                                               void *userdata);

/** Register a transcript callback (NULL to remove); see
 * mailconn_transcript_fn. */
MAILCONN_API void mailconn_config_set_transcript(mailconn_config *cfg,
                                                 mailconn_transcript_fn fn,
                                                 void *userdata);

/**
 * Check that `cfg` is complete enough for mailconn_session_new(), without
 * connecting anywhere. Reads `cfg` only: safe to call from many threads.
 * @return what mailconn_session_new() would return for `cfg` (MAILCONN_OK,
 * MAILCONN_E_MISSING_OPTION, MAILCONN_E_INVALID_CONFIG, MAILCONN_E_NOMEM,
 * MAILCONN_E_INVALID_ARGUMENT), with the reason, naming the option, in
 * `reason` (NUL-terminated, cut to `reason_size`; "" on success). `reason`
 * may be NULL when `reason_size` is 0.
 */
MAILCONN_API mailconn_error mailconn_config_check(const mailconn_config *cfg,
                                                  char *reason,
                                                  size_t reason_size);

/**
 * mailconn_config_check(), also telling which option the reason names:
 * `*option` (when `option` is not NULL) is the missing or invalid option,
 * e.g. MAILCONN_OPT_BCC when it was never set, MAILCONN_OPT_PASSWORD when
 * neither a password nor a token was, MAILCONN_OPT_CA_FILE when that file
 * holds no certificate; 0 on success and when no single option is at
 * fault (the test message cannot be built, out of memory).
 */
MAILCONN_API mailconn_error
mailconn_config_check_option(const mailconn_config *cfg, char *reason,
                             size_t reason_size, mailconn_option *option);

/* ---- Session ---------------------------------------------------------- */

/**
 * Create a session from a complete configuration. The configuration is
 * resolved and copied at once (`cfg` may be changed or freed afterwards)
 * and only read: sessions may be made from one config in several threads
 * at the same time. Nothing is sent until the first step.
 * @return MAILCONN_OK; MAILCONN_E_MISSING_OPTION (a required option is
 * unset); MAILCONN_E_INVALID_CONFIG (the CA file or directory cannot be
 * loaded, or the test message cannot be built from subject and body);
 * MAILCONN_E_NOMEM; MAILCONN_E_SYSTEM (no epoll or event fd);
 * MAILCONN_E_INVALID_ARGUMENT. mailconn_config_check() gives the reason of
 * the first two.
 */
MAILCONN_API mailconn_error mailconn_session_new(const mailconn_config *cfg,
                                                 mailconn_session **out);

/** Free a session at any point: connections are closed, threads detached,
 * secrets wiped. NULL is allowed. Not from inside one of its callbacks,
 * and not while another thread may still call mailconn_session_cancel()
 * on it. */
MAILCONN_API void mailconn_session_free(mailconn_session *s);

/**
 * Register this session's progress callback, which receives the session
 * (NULL fn to remove). It replaces, for this session only, the one the
 * config registered. Call before the first step to see every stage.
 * @return MAILCONN_OK or MAILCONN_E_INVALID_ARGUMENT.
 */
MAILCONN_API mailconn_error
mailconn_session_set_progress(mailconn_session *s,
                              mailconn_session_progress_fn fn, void *userdata);

/** Register this session's transcript callback; as
 * mailconn_session_set_progress(). */
MAILCONN_API mailconn_error
mailconn_session_set_transcript(mailconn_session *s,
                                mailconn_session_transcript_fn fn,
                                void *userdata);

/**
 * Stop the check. Callable from any thread at any time before
 * mailconn_session_free(), and from inside the session's callbacks. It
 * makes mailconn_session_fd() readable, so a caller waiting on it wakes;
 * the next mailconn_session_step() closes the connections and finishes
 * with outcome MAILCONN_E_CANCELLED, cause MAILCONN_CAUSE_CANCELLED, the
 * running stage as mailconn_session_stage(), and the stages that had not
 * finished reported as not run. A check already finished keeps its
 * outcome. @return MAILCONN_OK or MAILCONN_E_INVALID_ARGUMENT.
 */
MAILCONN_API mailconn_error mailconn_session_cancel(mailconn_session *s);

/**
 * Advance as far as possible without blocking; the work per call is
 * bounded. Spurious calls are harmless. An fd that the session stops
 * using is closed only at the start of the next call (or on free), so the
 * caller can unregister it first.
 * @return MAILCONN_PENDING or MAILCONN_DONE.
 */
MAILCONN_API mailconn_state mailconn_session_step(mailconn_session *s);

/** @return the fd to wait on, or -1 when only the timeout matters. The fd
 * may change after any step. */
MAILCONN_API int mailconn_session_fd(const mailconn_session *s);

/** @return MAILCONN_WAIT_READ and/or MAILCONN_WAIT_WRITE for the fd. */
MAILCONN_API unsigned mailconn_session_events(const mailconn_session *s);

/** @return milliseconds until mailconn_session_step() must be called even
 * without fd activity; 0 means now (e.g. TLS holds buffered data); -1
 * means no timer (only when the session is done). */
MAILCONN_API int mailconn_session_timeout_ms(const mailconn_session *s);

/** Blocking convenience: step with an internal poll() loop until done.
 * @return the outcome, as mailconn_session_outcome(); MAILCONN_E_SYSTEM
 * (also the session's outcome from then on) when poll() itself fails. */
MAILCONN_API mailconn_error mailconn_session_run(mailconn_session *s);

/** @return MAILCONN_OK or one of the eight outcomes once finished;
 * MAILCONN_E_PENDING while not finished; MAILCONN_E_CANCELLED or
 * MAILCONN_E_SYSTEM when the check was stopped before a verdict (see
 * mailconn_error). */
MAILCONN_API mailconn_error mailconn_session_outcome(const mailconn_session *s);

/** @return the finer cause of the outcome. */
MAILCONN_API mailconn_cause mailconn_session_cause(const mailconn_session *s);

/** @return the stage that failed, or MAILCONN_STAGE_TEST_SEND when all
 * passed, or the running stage while pending. */
MAILCONN_API mailconn_stage mailconn_session_stage(const mailconn_session *s);

/** @return the protocol of the failing stage (NONE on success). */
MAILCONN_API mailconn_protocol mailconn_session_protocol(const mailconn_session *s);

/** @return the server's reply that decided the outcome, all lines joined
 * by "\n", sanitised, at most MAILCONN_TEXT_MAX bytes; "" when the server
 * said nothing. */
MAILCONN_API const char *mailconn_session_server_reply(const mailconn_session *s);

/** @return the low-level detail (errno text, GnuTLS error, certificate
 * status, what was expected); "" when none. Never contains a secret. */
MAILCONN_API const char *mailconn_session_detail(const mailconn_session *s);

/** @return advice for the outcome, specific to the cause and to the
 * provider when recognised, in the session's language
 * (MAILCONN_OPT_LANGUAGE); "" on success. */
MAILCONN_API const char *mailconn_session_hint(const mailconn_session *s);

/**
 * @return the stable id of the advice mailconn_session_hint() gives, for
 * applications that show their own texts: "OUTCOME.CAUSE" or
 * "OUTCOME.CAUSE.provider", e.g. "UNAUTHORIZED.AUTH_REJECTED.gmail",
 * "SMTP_SETTINGS.CONNECT_REFUSED", or "IMAP_SETTINGS.NONE" for the
 * outcome's general advice. OUTCOME and CAUSE are the names of
 * mailconn_error_name() and mailconn_cause_name(), provider that of
 * mailconn_session_provider(). The id names the advice, not the case:
 * several causes may share one. The same id always means the same advice
 * in every language, though a text may quote the port in use. "" on
 * success and while pending.
 */
MAILCONN_API const char *mailconn_session_hint_id(const mailconn_session *s);

/** @return the id of the mail provider recognised from the server's reply
 * or the host names, e.g. "gmail", "microsoft365", "icloud"; "" when none
 * is recognised. Ids are lower-case and never change meaning. */
MAILCONN_API const char *mailconn_session_provider(const mailconn_session *s);

/** @return the one-line message of mailconn_session_outcome(), as
 * mailconn_error_message() but in the session's language. */
MAILCONN_API const char *mailconn_session_message(const mailconn_session *s);

/** @return the language the session's texts are in, "en" or "nb" (see
 * MAILCONN_OPT_LANGUAGE). */
MAILCONN_API const char *mailconn_session_language(const mailconn_session *s);

/** @return 1 if the stage passed, 0 if it failed, -1 if it did not run. */
MAILCONN_API int mailconn_session_stage_passed(const mailconn_session *s,
                                               mailconn_stage stage);

/** @return milliseconds the stage took (-1 when it did not run). */
MAILCONN_API int64_t mailconn_session_stage_ms(const mailconn_session *s,
                                               mailconn_stage stage);

/** @return a fact recorded in a stage, or "" when not recorded. */
MAILCONN_API const char *mailconn_session_fact(const mailconn_session *s,
                                               mailconn_stage stage,
                                               mailconn_fact fact);

#ifdef __cplusplus
}
#endif

#endif /* MAILCONN_H */
