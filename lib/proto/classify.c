/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The classifier: a server's reply, read in context (protocol, step, host),
 * becomes one of the eight outcomes plus a finer cause, by an ordered table
 * of rules, the way an experienced mail administrator would read it. The
 * reply is read into a view by classify-read.c; providers are known by
 * provider.c.
 */
#include <string.h>

#include "core/text.h"
#include "proto/classify-int.h"

/* ---- The rules -------------------------------------------------------- */

enum match {
	M_PHRASE,    /* words anywhere in the reply text (see struct view) */
	M_IMAP_CODE, /* [ATOM] response code on any IMAP status line */
	M_ESC,       /* SMTP enhanced status code; 'x' matches any part */
	M_BASIC      /* SMTP basic reply code; 'x' matches any digit */
};

#define P_IMAP 1u
#define P_SMTP 2u
#define P_BOTH 3u

#define AT(step) (1u << MAILCONN__STEP_##step)
#define AT_CONNECT (AT(NONE) | AT(GREETING) | AT(CAPABILITY) | AT(STARTTLS))
#define AT_LOGIN (AT(LOGIN) | AT(AUTHENTICATE))
#define AT_MAILBOX (AT(SELECT) | AT(LOGOUT))
#define AT_SEND (AT(MAIL_FROM) | AT(RCPT_TO) | AT(DATA) | AT(END_OF_DATA))
#define AT_ANY 0xffffu

struct rule {
	enum match match;
	unsigned protocols;
	unsigned steps;
	mailconn_cause cause;
	/* A credentials refusal that gives no reason: the provider rule may
	 * turn it into APP_PASSWORD. */
	int bare;
	const char *const *patterns; /* any of them; NULL-terminated */
};

#define RULE(m, p, s, c, ...) \
	{ M_##m, P_##p, s, MAILCONN_CAUSE_##c, 0, \
	  (const char *const[]){ __VA_ARGS__, NULL } }
#define BARE(m, p, s, ...) \
	{ M_##m, P_##p, s, MAILCONN_CAUSE_AUTH_REJECTED, 1, \
	  (const char *const[]){ __VA_ARGS__, NULL } }

/*
 * First match wins, so the order is the policy: the most specific evidence
 * first. (1) The server names the remedy. (2) Response and status codes
 * with one meaning. (3) Provider and server software phrases. (4) General
 * codes: a credentials code such as [AUTHENTICATIONFAILED] or 5.7.8 comes
 * after the phrases because servers put it on refusals that are not about
 * the password ("535 5.7.8 ... no mechanism available", R102). (5) The
 * protocol's default for the step: imap_default() and smtp_default().
 * Phrases are written as struct view stores the text: lower case, single
 * spaces, hyphens as spaces. Rows R0xx refer to the shared corpus.
 */
static const struct rule rules[] = {
	/* ---- 1. The reply names the remedy. ---- */
	RULE(PHRASE, BOTH, AT_ANY, AUTH_APP_PASSWORD,
	     "application specific password", "app specific password",
	     "app password", "application password",
	     /* Gmail's help link on 534-5.7.9 for a missing app password */
	     "invalidsecondfactor"),
	/* QQ and NetEase: log in with the client "authorisation code"
	 * (授权码), in UTF-8 or as GBK bytes off the wire (R054). */
	RULE(PHRASE, BOTH, AT_ANY, AUTH_APP_PASSWORD,
	     "authorization code", "authorized code",
	     "\xe6\x8e\x88\xe6\x9d\x83\xe7\xa0\x81",
	     "\xca\xda\xc8\xa8\xc2\xeb"),
	/* Yahoo's code for the account password used where a generated app
	 * password is required, whatever its text says (R040). */
	RULE(PHRASE, SMTP, AT_LOGIN, AUTH_APP_PASSWORD, "#auth005"),
	RULE(IMAP_CODE, IMAP, AT_ANY, AUTH_WEB_LOGIN_REQUIRED, "WEBALERT"),
	/* Gmail: sign in on the web first. A long URL may cut up the text,
	 * so the code decides (R007). */
	RULE(ESC, SMTP, AT_LOGIN, AUTH_WEB_LOGIN_REQUIRED, "5.7.14"),
	RULE(PHRASE, BOTH, AT_ANY, AUTH_WEB_LOGIN_REQUIRED,
	     "web login required", "via your web browser", "continuesignin"),
	RULE(IMAP_CODE, IMAP, AT_ANY, AUTH_PRIVACY_REQUIRED, "PRIVACYREQUIRED"),
	RULE(ESC, SMTP, AT_ANY, AUTH_PRIVACY_REQUIRED, "5.7.11"),
	RULE(BASIC, SMTP, AT_ANY, AUTH_PRIVACY_REQUIRED, "538"),
	RULE(PHRASE, BOTH, AT_ANY, AUTH_PRIVACY_REQUIRED,
	     "must issue a starttls", "starttls required",
	     "starttls is required", "starttls first", "requires starttls",
	     "plaintext auth", "cleartext auth", "clear text auth",
	     "encryption required",
	     "tls required", "ssl required", "secure connection required"),
	RULE(PHRASE, BOTH, AT_ANY, TLS_VERSION,
	     "tls 1.0", "tls 1.1", "tls version", "support tls 1.2"),

	/* ---- 2. Codes with one meaning (RFC 5530, 3463, 4954, 5248). ---- */
	RULE(IMAP_CODE, IMAP, AT_ANY, AUTH_TEMPORARY, "UNAVAILABLE"),
	RULE(IMAP_CODE, IMAP, AT_LOGIN, AUTH_TEMPORARY, "SERVERBUG", "INUSE"),
	RULE(IMAP_CODE, IMAP, AT_LOGIN, AUTH_TOO_MANY_CONNECTIONS, "LIMIT"),
	/* "Ask your administrator" is no verdict on the password: the step's
	 * non-credentials outcome (IMAP_AUTH at login). */
	RULE(IMAP_CODE, IMAP, AT_ANY, NONE, "CONTACTADMIN"),
	RULE(IMAP_CODE, IMAP, AT_ANY, AUTH_REJECTED,
	     "EXPIRED", "AUTHORIZATIONFAILED"),
	RULE(IMAP_CODE, IMAP, AT_MAILBOX, MAILBOX_UNAVAILABLE,
	     "NONEXISTENT", "TRYCREATE", "NOPERM", "INUSE", "OVERQUOTA",
	     "LIMIT"),
	RULE(ESC, SMTP, AT_LOGIN, AUTH_NO_MECHANISM, "5.7.9", "5.7.4"),
	RULE(ESC, SMTP, AT_LOGIN, AUTH_ACCOUNT_DISABLED, "5.7.13"),

	/* ---- 3. Provider and server software phrases. ---- */
	/* Microsoft 365: SMTP AUTH or basic authentication switched off for
	 * the tenant or mailbox, or blocked by security defaults (R018). */
	RULE(PHRASE, BOTH, AT_LOGIN, AUTH_PROTOCOL_DISABLED,
	     "smtpclientauthentication is disabled", "smtp auth is disabled",
	     "smtp authentication is disabled",
	     "basic authentication is disabled", "basic auth is disabled",
	     "basicauthblocked",
	     "did not meet the criteria to be authenticated",
	     "security defaults"),
	/* IMAP or SMTP switched off in the account's settings (Gmail's old
	 * "not enabled for IMAP use"; Yandex's conflated text, R014). */
	RULE(PHRASE, BOTH, AT_LOGIN, AUTH_PROTOCOL_DISABLED,
	     "imap is disabled", "imap access is disabled",
	     "imap access disabled", "imap access is not enabled",
	     "imap access not allowed", "imap is not enabled",
	     "not enabled for imap", "enable imap", "smtp access is disabled",
	     "smtp access disabled"),
	RULE(PHRASE, BOTH, AT_ANY, AUTH_TOO_MANY_CONNECTIONS,
	     "too many connections", "too many simultaneous",
	     "too many concurrent", "too many open connections",
	     "too many sessions", "maximum number of connections",
	     "max connections", "connection limit",
	     "mail_max_userip_connections"),
	/* Throttles and outages: the password was not judged (R078, R088,
	 * R094). Before the account phrases: "temporarily locked" passes. */
	RULE(PHRASE, BOTH, AT_SEND, SEND_TEMPORARY,
	     "sending limit", "rate limit", "try again later", "temporar"),
	RULE(PHRASE, BOTH, AT_ANY, AUTH_TEMPORARY,
	     "too many login attempts", "too many failed", "too many bad auth",
	     "too many authentication", "too many invalid", "try again later",
	     "try later", "temporar", "maintenance", "server busy",
	     "server is busy", "system busy", "system is busy",
	     "bandwidth limit"),
	RULE(PHRASE, BOTH, AT_ANY, AUTH_IP_BLOCKED,
	     "ip not allowed", "ip is not allowed", "ip address not allowed",
	     "ip address is not allowed", "not permitted from your ip",
	     "not allowed from your ip", "not allowed from this ip",
	     "ip blocked", "ip is blocked", "ip address is blocked",
	     "ip address has been blocked", "ip has been blocked", "blocked ip",
	     "blacklisted", "blocklisted", "allow list", "allowlist",
	     "whitelist"),
	RULE(PHRASE, BOTH, AT_LOGIN, AUTH_ACCOUNT_DISABLED,
	     "account is disabled", "account disabled",
	     "account has been disabled", "account is locked", "account locked",
	     "account has been locked", "account is suspended",
	     "account suspended", "account has been suspended",
	     "account is blocked", "account has been blocked",
	     "account is inactive", "account is not active", "user is disabled",
	     "mailbox is disabled"),
	RULE(PHRASE, BOTH, AT_LOGIN, AUTH_REJECTED,
	     "password has expired", "password expired", "password is expired"),
	/* Microsoft's 5.7.139 also covers a plain wrong password. */
	BARE(PHRASE, BOTH, AT_LOGIN, "user credentials were incorrect"),
	/* A mechanism mismatch: the password was never checked (R092, R102). */
	RULE(PHRASE, BOTH, AT_CONNECT | AT_LOGIN, AUTH_NO_MECHANISM,
	     "no mechanism available", "invalid authentication mechanism",
	     "unsupported authentication mechanism",
	     "unknown authentication mechanism",
	     "authentication mechanism not supported",
	     "mechanism not supported",
	     "unsupported mechanism", "unrecognized authentication type",
	     "unrecognised authentication type", "mechanism too weak",
	     "mechanism is too weak"),
	/* No login on this port at all (R099, R108). */
	RULE(PHRASE, BOTH, AT_LOGIN, AUTH_NOT_OFFERED,
	     "authentication not enabled", "authentication is not enabled",
	     "auth not enabled", "not advertised",
	     "authentication not available", "authentication is not available",
	     "authentication not supported"),
	/* Sending: who may send as whom (R038, R103, R120), and Zoho's words
	 * for a sender the account does not own (R063). */
	RULE(PHRASE, SMTP, AT_SEND, SENDER_REJECTED,
	     "sender address rejected", "not owned by", "sendasdenied",
	     "send as denied", "send as this sender", "permission to send as",
	     "permissions to send as", "not allowed to send as",
	     "not authorized to send as", "sender not allowed",
	     "sender rejected", "relaying disallowed as"),
	RULE(PHRASE, SMTP, AT_SEND, RELAY_DENIED,
	     "relay access denied", "relaying denied", "relay denied",
	     "relay not permitted", "relaying not permitted",
	     "relaying not allowed", "relaying disallowed", "unable to relay",
	     "not permitted to relay", "we do not relay"),
	/* At MAIL FROM these words are about the sender: the default. */
	RULE(PHRASE, SMTP, AT(RCPT_TO) | AT(DATA) | AT(END_OF_DATA),
	     RECIPIENT_REJECTED,
	     "recipient address rejected", "user unknown", "unknown user",
	     "no such user", "unknown recipient", "recipient rejected",
	     "mailbox unavailable", "mailbox not found", "does not exist",
	     "mailbox full", "mailbox is full", "over quota", "quota exceeded"),
	RULE(PHRASE, SMTP, AT_SEND, MESSAGE_REJECTED,
	     "policy", "spam", "message rejected", "content rejected",
	     "message too big", "message size", "size limit", "too large"),
	RULE(PHRASE, IMAP, AT_MAILBOX, MAILBOX_UNAVAILABLE,
	     "doesn't exist", "does not exist", "no such mailbox",
	     "mailbox not found", "unknown mailbox"),

	/* ---- 4. General codes; an enhanced code before a basic one. ---- */
	BARE(IMAP_CODE, IMAP, AT_ANY, "AUTHENTICATIONFAILED"),
	/* Microsoft: mostly a tenant or policy block; the phrases above catch
	 * the variants that say otherwise. */
	RULE(ESC, SMTP, AT_LOGIN, AUTH_PROTOCOL_DISABLED, "5.7.139"),
	/* 5.7.3 is Exchange's "Authentication unsuccessful" (R020, R035). */
	BARE(ESC, SMTP, AT_LOGIN, "5.7.8", "5.7.0", "5.7.1", "5.7.3"),
	/* Transient on AUTH is never a wrong password. */
	RULE(ESC, SMTP, AT_LOGIN, AUTH_TEMPORARY, "4.x.x"),
	RULE(BASIC, SMTP, AT_LOGIN, AUTH_TEMPORARY, "4xx"),
	BARE(BASIC, SMTP, AT_LOGIN, "535"),
	RULE(BASIC, SMTP, AT_LOGIN, AUTH_NO_MECHANISM, "534", "504"),
	/* RFC 3207: 530 to AUTH means STARTTLS first. */
	RULE(BASIC, SMTP, AT_LOGIN, AUTH_PRIVACY_REQUIRED, "530"),
	RULE(BASIC, SMTP, AT_LOGIN, AUTH_NOT_OFFERED, "502", "503"),
	/* RFC 4954: 530 to MAIL or RCPT means the session is not logged in:
	 * no usable credentials reached the server (R047, R062). */
	RULE(BASIC, SMTP, AT_SEND, AUTH_REJECTED, "530"),
	RULE(BASIC, SMTP, AT_SEND, SEND_TEMPORARY, "4xx"),
	RULE(ESC, SMTP, AT(MAIL_FROM), SENDER_REJECTED, "5.1.x", "5.7.1"),
	RULE(ESC, SMTP, AT(RCPT_TO), RELAY_DENIED, "5.7.1"),
	RULE(ESC, SMTP, AT(RCPT_TO), RECIPIENT_REJECTED, "5.1.x", "5.2.x"),
	RULE(ESC, SMTP, AT_SEND, MESSAGE_REJECTED, "5.3.4"),
};

#define N_RULES (sizeof rules / sizeof rules[0])

static int
esc_matches(const int esc[3], const char *pattern)
{
	if (esc[0] < 0)
		return 0;
	const char *p = pattern;
	for (int k = 0; k < 3; k++) {
		if (*p == 'x') {
			p++;
		} else {
			int num = 0;
			while (is_digit(*p))
				num = num * 10 + (*p++ - '0');
			if (num != esc[k])
				return 0;
		}
		if (k < 2) {
			if (*p != '.')
				return 0;
			p++;
		}
	}
	return 1;
}

static int
basic_matches(int basic, const char *pattern)
{
	if (basic < 0)
		return 0;
	int digits[3] = { basic / 100, basic / 10 % 10, basic % 10 };
	for (int k = 0; k < 3; k++)
		if (pattern[k] != 'x' && pattern[k] - '0' != digits[k])
			return 0;
	return 1;
}

static int
imap_has_code(const struct view *v, const char *code)
{
	for (size_t i = 0; i < v->ncodes; i++)
		if (strcmp(v->codes[i], code) == 0)
			return 1;
	return 0;
}

static const struct rule *
first_rule(const struct view *v, mailconn_protocol proto,
           enum mailconn__step step)
{
	unsigned pbit = proto == MAILCONN_PROTOCOL_IMAP ? P_IMAP : P_SMTP;
	unsigned sbit = 1u << step;
	for (size_t i = 0; i < N_RULES; i++) {
		const struct rule *r = &rules[i];
		if (!(r->protocols & pbit) || !(r->steps & sbit))
			continue;
		int hit = 0;
		const char *const *pat;
		for (pat = r->patterns; *pat && !hit; pat++) {
			switch (r->match) {
			case M_PHRASE:
				hit = mailconn__view_has(v, *pat);
				break;
			case M_IMAP_CODE:
				hit = imap_has_code(v, *pat);
				break;
			case M_ESC:
				hit = esc_matches(v->esc, *pat);
				break;
			case M_BASIC:
				hit = basic_matches(v->basic, *pat);
				break;
			}
		}
		if (hit)
			return r;
	}
	return NULL;
}

/* ---- Step 5: the protocol's own default ------------------------------- */

static mailconn_cause
imap_default(enum mailconn__step step, enum imap_status st, int *bare)
{
	if (st == ST_BYE)
		return step == MAILCONN__STEP_GREETING ?
		       MAILCONN_CAUSE_GREETING_REJECTED :
		       MAILCONN_CAUSE_SERVER_BYE;
	switch (step) {
	case MAILCONN__STEP_STARTTLS:
		return st == ST_NO || st == ST_BAD ?
		       MAILCONN_CAUSE_STARTTLS_REFUSED :
		       MAILCONN_CAUSE_PROTOCOL_ERROR;
	case MAILCONN__STEP_LOGIN:
	case MAILCONN__STEP_AUTHENTICATE:
		/* A NO without a code: the only verdict IMAP has is "no".
		 * BAD means the command itself was refused (R073). */
		if (st == ST_NO) {
			*bare = 1;
			return MAILCONN_CAUSE_AUTH_REJECTED;
		}
		return MAILCONN_CAUSE_PROTOCOL_ERROR;
	case MAILCONN__STEP_SELECT:
		return st == ST_NO ? MAILCONN_CAUSE_MAILBOX_UNAVAILABLE :
		       MAILCONN_CAUSE_PROTOCOL_ERROR;
	default:
		return MAILCONN_CAUSE_PROTOCOL_ERROR;
	}
}

static mailconn_cause
smtp_default(enum mailconn__step step, const struct view *v)
{
	if (v->basic < 0)
		return MAILCONN_CAUSE_PROTOCOL_ERROR;
	switch (step) {
	case MAILCONN__STEP_GREETING:
		return MAILCONN_CAUSE_GREETING_REJECTED;
	case MAILCONN__STEP_CAPABILITY:
		return MAILCONN_CAUSE_EHLO_REJECTED;
	case MAILCONN__STEP_STARTTLS:
		return MAILCONN_CAUSE_STARTTLS_REFUSED;
	case MAILCONN__STEP_MAIL_FROM:
		return MAILCONN_CAUSE_SENDER_REJECTED;
	case MAILCONN__STEP_RCPT_TO:
		return MAILCONN_CAUSE_RECIPIENT_REJECTED;
	case MAILCONN__STEP_DATA:
		return MAILCONN_CAUSE_DATA_REJECTED;
	case MAILCONN__STEP_END_OF_DATA:
		return MAILCONN_CAUSE_MESSAGE_REJECTED;
	default:
		return MAILCONN_CAUSE_PROTOCOL_ERROR;
	}
}

/* ---- From cause and step to outcome ----------------------------------- */

enum phase { PH_CONNECT = 0, PH_LOGIN, PH_AFTER, PH_COUNT_ };

static enum phase
phase_of(enum mailconn__step step)
{
	switch (step) {
	case MAILCONN__STEP_LOGIN:
	case MAILCONN__STEP_AUTHENTICATE:
		return PH_LOGIN;
	case MAILCONN__STEP_SELECT:
	case MAILCONN__STEP_LOGOUT:
	case MAILCONN__STEP_MAIL_FROM:
	case MAILCONN__STEP_RCPT_TO:
	case MAILCONN__STEP_DATA:
	case MAILCONN__STEP_END_OF_DATA:
		return PH_AFTER;
	default:
		return PH_CONNECT;
	}
}

#define IS MAILCONN_IMAP_SETTINGS
#define IA MAILCONN_IMAP_AUTH
#define IV MAILCONN_IMAP_VALIDATION
#define SS MAILCONN_SMTP_SETTINGS
#define TS MAILCONN_TEST_SEND
#define UA MAILCONN_UNAUTHORIZED
#define AP MAILCONN_APP_PASSWORD

/*
 * Columns: IMAP connect / login / after login (SELECT), then SMTP connect /
 * login / sending. IMAP_AUTH is for a login refusal that is no verdict on
 * the credentials; SMTP has no such code, so there it is SMTP_SETTINGS.
 * A protocol or account switched off is UNAUTHORIZED: the account is not
 * authorised to log in this way (R014, R018). IMAP_VALIDATION is "reached,
 * but the server or account does not meet the requirements", which after
 * login covers everything (R028, R057, R129, R130).
 */
static const struct {
	mailconn_cause cause;
	mailconn_error imap[PH_COUNT_];
	mailconn_error smtp[PH_COUNT_];
} outcome_map[] = {
#define C(x) MAILCONN_CAUSE_##x
	{ C(AUTH_REJECTED),             { IV, UA, IV }, { SS, UA, UA } },
	{ C(AUTH_APP_PASSWORD),         { AP, AP, IV }, { SS, AP, AP } },
	{ C(AUTH_WEB_LOGIN_REQUIRED),   { AP, AP, IV }, { SS, AP, AP } },
	{ C(AUTH_PROTOCOL_DISABLED),    { IV, UA, IV }, { SS, UA, TS } },
	{ C(AUTH_ACCOUNT_DISABLED),     { IV, UA, IV }, { SS, UA, TS } },
	{ C(AUTH_TEMPORARY),            { IV, IA, IV }, { SS, SS, TS } },
	{ C(AUTH_TOO_MANY_CONNECTIONS), { IV, IA, IV }, { SS, SS, TS } },
	{ C(AUTH_IP_BLOCKED),           { IS, IA, IV }, { SS, SS, TS } },
	{ C(AUTH_PRIVACY_REQUIRED),     { IS, IS, IV }, { SS, SS, SS } },
	{ C(TLS_VERSION),               { IS, IS, IV }, { SS, SS, SS } },
	{ C(TLS_MODE_MISMATCH),         { IS, IS, IS }, { SS, SS, SS } },
	{ C(WRONG_PROTOCOL),            { IS, IS, IS }, { SS, SS, SS } },
	{ C(PROTOCOL_ERROR),            { IS, IS, IV }, { SS, SS, TS } },
	{ C(AUTH_NO_MECHANISM),         { IV, IV, IV }, { SS, SS, SS } },
	{ C(AUTH_NOT_OFFERED),          { IV, IV, IV }, { SS, SS, SS } },
	{ C(STARTTLS_REFUSED),          { IV, IV, IV }, { SS, SS, SS } },
	{ C(GREETING_REJECTED),         { IV, IV, IV }, { SS, SS, SS } },
	{ C(SERVER_BYE),                { IV, IV, IV }, { SS, SS, TS } },
	{ C(NO_IMAP4REV1),              { IV, IV, IV }, { SS, SS, SS } },
#undef C
};
/* Any other cause (the sending ones, NONE): */
static const mailconn_error default_imap[PH_COUNT_] = { IS, IA, IV };
static const mailconn_error default_smtp[PH_COUNT_] = { SS, SS, TS };

static mailconn_error
outcome_for(mailconn_protocol proto, enum phase ph, mailconn_cause cause)
{
	int imap = proto == MAILCONN_PROTOCOL_IMAP;
	for (size_t i = 0; i < sizeof outcome_map / sizeof outcome_map[0]; i++)
		if (outcome_map[i].cause == cause)
			return imap ? outcome_map[i].imap[ph] :
			       outcome_map[i].smtp[ph];
	return imap ? default_imap[ph] : default_smtp[ph];
}

#undef IS
#undef IA
#undef IV
#undef SS
#undef TS
#undef UA
#undef AP

/* ---- Success, and what a success reply can still reveal --------------- */

/* Returns 1 when the reply is no error; *cause is set when a reply that
 * the server meant as success still shows that login cannot work. */
static int
imap_success(const struct view *v, enum mailconn__step step, int tls_active,
             mailconn_cause *cause)
{
	if (step == MAILCONN__STEP_GREETING)
		return v->status == ST_OK || v->status == ST_PREAUTH;
	if (v->status != ST_OK)
		return 0;
	if (step == MAILCONN__STEP_CAPABILITY && v->cap_listed) {
		if (!v->cap_rev1)
			*cause = MAILCONN_CAUSE_NO_IMAP4REV1;
		else if (tls_active && v->cap_logindisabled &&
		         !v->cap_usable_auth)
			*cause = MAILCONN_CAUSE_AUTH_NO_MECHANISM;
	}
	return 1;
}

static int
smtp_success(const struct view *v, enum mailconn__step step,
             mailconn_cause *cause)
{
	if (v->basic < 200 || v->basic >= 400)
		return 0;
	if (step == MAILCONN__STEP_CAPABILITY) {
		/* An AUTH list with nothing we speak (R030). No AUTH at all is
		 * fine while STARTTLS may still bring it (R116). */
		if (v->ehlo_auth_listed && !v->ehlo_usable_mech)
			*cause = MAILCONN_CAUSE_AUTH_NO_MECHANISM;
		else if (!v->ehlo_auth_listed && !v->ehlo_starttls)
			*cause = MAILCONN_CAUSE_AUTH_NOT_OFFERED;
	}
	return 1;
}

/* Recognisable marks in a reply, for naming the provider in the hint when
 * the host name did not (never for the app-password rule). */
static const struct {
	const char *phrase;
	const char *provider;
} reply_marks[] = {
	{ "gsmtp", "gmail" },
	{ "gimap", "gmail" },
	{ "support.google.com", "gmail" },
	{ "accounts.google.com", "gmail" },
	{ "prod.outlook.com", "microsoft365" },
	{ "aka.ms/", "microsoft365" },
	{ "#mbr", "yahoo" },
	{ "#auth0", "yahoo" },
	{ "mail.qq.com", "qq" },
	{ "qqmail", "qq" },
	{ "yandex", "yandex" },
	{ "zoho", "zoho" },
	{ "icloud", "icloud" },
	{ "fastmail", "fastmail" },
	{ "ionos", "ionos" },
	{ "protonmail", "proton" },
	{ "163.com", "netease" },
	{ "126.com", "netease" },
	{ "188.com", "netease" },
};

static const char *
provider_from_reply(const struct view *v)
{
	for (size_t i = 0; i < sizeof reply_marks / sizeof reply_marks[0]; i++)
		if (mailconn__view_has(v, reply_marks[i].phrase))
			return reply_marks[i].provider;
	return NULL;
}

static int
is_oauth(const char *mechanism)
{
	if (!mechanism)
		return 0;
	size_t n = 0;
	while (n < 32 && mechanism[n])
		n++;
	return mailconn__ascii_ieq(mechanism, n, "XOAUTH2") ||
	       mailconn__ascii_ieq(mechanism, n, "OAUTHBEARER") ||
	       mailconn__ascii_ieq(mechanism, n, "XOAUTH");
}

void
mailconn__classify(const struct mailconn__classify_input *in,
                   struct mailconn__classification *out)
{
	struct view v;

	out->outcome = MAILCONN_OK;
	out->cause = MAILCONN_CAUSE_NONE;
	out->provider = NULL;
	if (!in)
		return;

	mailconn_protocol proto = in->protocol == MAILCONN_PROTOCOL_SMTP ?
	                          MAILCONN_PROTOCOL_SMTP :
	                          MAILCONN_PROTOCOL_IMAP;
	enum mailconn__step step = in->step;
	if ((unsigned)step >= MAILCONN__STEP_COUNT_)
		step = MAILCONN__STEP_NONE;

	mailconn__view_read(&v, proto, in->reply, in->reply ? in->reply_len : 0);
	const char *host_provider = mailconn__provider_from_host(in->host);
	out->provider = host_provider ? host_provider : provider_from_reply(&v);

	/* Saying goodbye cannot change a verdict already reached. */
	if (step == MAILCONN__STEP_LOGOUT)
		return;

	mailconn_cause cause = MAILCONN_CAUSE_NONE;
	int bare = 0;
	int imap = proto == MAILCONN_PROTOCOL_IMAP;

	if (step == MAILCONN__STEP_GREETING && v.first == MAILCONN__WIRE_TLS) {
		cause = MAILCONN_CAUSE_TLS_MODE_MISMATCH;
	} else if (step == MAILCONN__STEP_GREETING &&
	           v.first != MAILCONN__WIRE_UNKNOWN &&
	           v.first != (imap ? MAILCONN__WIRE_IMAP
	                            : MAILCONN__WIRE_SMTP)) {
		cause = MAILCONN_CAUSE_WRONG_PROTOCOL;
	} else if (imap ? imap_success(&v, step, in->tls_active, &cause) :
	                  smtp_success(&v, step, &cause)) {
		if (cause == MAILCONN_CAUSE_NONE)
			return;
	} else {
		const struct rule *r = first_rule(&v, proto, step);
		if (r) {
			cause = r->cause;
			bare = r->bare;
		} else if (imap) {
			cause = imap_default(step, v.status, &bare);
		} else {
			cause = smtp_default(step, &v);
		}
	}

	enum phase ph = phase_of(step);
	mailconn_error outcome = outcome_for(proto, ph, cause);

	/* A transient SMTP reply to AUTH is never "wrong password". */
	if (!imap && ph == PH_LOGIN && v.basic / 100 == 4 &&
	    outcome == MAILCONN_UNAUTHORIZED) {
		outcome = MAILCONN_SMTP_SETTINGS;
		if (cause == MAILCONN_CAUSE_AUTH_REJECTED)
			cause = MAILCONN_CAUSE_AUTH_TEMPORARY;
	}

	/* Provider knowledge (provider.c). Not when a token was used (no
	 * password involved), and not when SMTP took the same password. */
	if (ph == PH_LOGIN && outcome == MAILCONN_UNAUTHORIZED && bare &&
	    mailconn__provider_app_password_only(host_provider) &&
	    !is_oauth(in->mechanism) &&
	    !(imap && in->other_protocol_auth_ok == 1)) {
		outcome = MAILCONN_APP_PASSWORD;
		cause = MAILCONN_CAUSE_AUTH_APP_PASSWORD;
	}

	/* Overlapped mode: SMTP accepted these very credentials, so an IMAP
	 * refusal is about IMAP, not about the password. */
	if (imap && ph == PH_LOGIN && outcome == MAILCONN_UNAUTHORIZED &&
	    in->other_protocol_auth_ok == 1)
		outcome = MAILCONN_IMAP_AUTH;

	out->outcome = outcome;
	out->cause = cause;
}
