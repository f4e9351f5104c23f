/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SASL mechanisms: the RFC 7677 SCRAM-SHA-256 vector end to end, -PLUS and
 * "y" GS2 headers, hostile server messages, exact bytes for PLAIN, LOGIN,
 * XOAUTH2 and OAUTHBEARER, and the mechanism choice.
 */
#include "check.h"
#include "fixed-crypto.h"
#include "proto/sasl.h"

#define NONCE "rOprNGfwEbeRWgbNEkqO"
#define SERVER_FIRST                                                       \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"            \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define FULL_NONCE "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

static struct mailconn__buf out;

static enum mailconn__sasl_status
step(struct mailconn__sasl *s, const char *challenge)
{
	mailconn__buf_clear(&out);
	return mailconn__sasl_step(s, (const unsigned char *)challenge,
	                           strlen(challenge), &out);
}

static enum mailconn__sasl_status
start(struct mailconn__sasl *s)
{
	mailconn__buf_clear(&out);
	return mailconn__sasl_start(s, &out);
}

static const char *
outstr(void)
{
	return out.data ? out.data : "";
}

/* Run a SCRAM exchange to the client-final message. */
static struct mailconn__sasl *
scram_to_final(enum mailconn__mech m, const struct mailconn__channel_binding *cb,
               const char *server_first)
{
	struct mailconn__sasl *s = mailconn__sasl_new(m, "user", "pencil",
	                                              "mail.example", 587, cb,
	                                              fixed_crypto(NONCE));
	CHECK(s != NULL);
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_INT(step(s, server_first), MAILCONN__SASL_CONTINUE);
	return s;
}

static void
test_scram_rfc7677(void)
{
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_SCRAM_SHA_256, "user", "pencil", NULL, 0, NULL,
		fixed_crypto(NONCE));
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "n,,n=user,r=" NONCE);
	CHECK_INT(mailconn__sasl_server_verified(s), 0);
	CHECK_INT(step(s, SERVER_FIRST), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "c=biws,r=" FULL_NONCE
	          ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	CHECK_INT(mailconn__sasl_server_verified(s), 0);
	CHECK_INT(step(s, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
	          MAILCONN__SASL_DONE);
	CHECK_INT(out.len, 0);
	CHECK_INT(mailconn__sasl_server_verified(s), 1);
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_NONE);
	/* Nothing more is expected after a verified server-final. */
	CHECK_INT(step(s, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
	          MAILCONN__SASL_ERROR);
	mailconn__sasl_free(s);
}

static void
test_scram_bad_final(void)
{
	/* One changed character in the server signature. */
	struct mailconn__sasl *s = scram_to_final(MAILCONN__MECH_SCRAM_SHA_256,
	                                          NULL, SERVER_FIRST);
	CHECK_INT(step(s, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5="),
	          MAILCONN__SASL_ERROR);
	CHECK_INT(mailconn__sasl_error_cause(s),
	          MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	CHECK_INT(mailconn__sasl_server_verified(s), 0);
	mailconn__sasl_free(s);

	/* A truncated signature. */
	s = scram_to_final(MAILCONN__MECH_SCRAM_SHA_256, NULL, SERVER_FIRST);
	CHECK_INT(step(s, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl9"),
	          MAILCONN__SASL_ERROR);
	CHECK_INT(mailconn__sasl_error_cause(s),
	          MAILCONN_CAUSE_AUTH_SERVER_SIGNATURE);
	mailconn__sasl_free(s);

	/* e= in the server-final is a refusal. */
	s = scram_to_final(MAILCONN__MECH_SCRAM_SHA_256, NULL, SERVER_FIRST);
	CHECK_INT(step(s, "e=invalid-proof"), MAILCONN__SASL_ERROR);
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_INT(mailconn__sasl_server_verified(s), 0);
	mailconn__sasl_free(s);

	/* Garbage instead of a server-final. */
	s = scram_to_final(MAILCONN__MECH_SCRAM_SHA_256, NULL, SERVER_FIRST);
	CHECK_INT(step(s, "garbage"), MAILCONN__SASL_ERROR);
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_PROTOCOL_ERROR);
	CHECK_INT(mailconn__sasl_server_verified(s), 0);
	mailconn__sasl_free(s);
}

static void
check_bad_server_first(const char *msg, size_t len)
{
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_SCRAM_SHA_256, "user", "pencil", NULL, 0, NULL,
		fixed_crypto(NONCE));
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	mailconn__buf_clear(&out);
	enum mailconn__sasl_status st = mailconn__sasl_step(
		s, (const unsigned char *)msg, len, &out);
	if (st != MAILCONN__SASL_ERROR)
		fprintf(stderr, "accepted bad server-first: %s\n", msg);
	CHECK_INT(st, MAILCONN__SASL_ERROR);
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_PROTOCOL_ERROR);
	CHECK_INT(out.len, 0);
	mailconn__sasl_free(s);
}

static void
test_scram_bad_first(void)
{
#define BAD(x) check_bad_server_first(x, strlen(x))
	/* Nonce not prefixed by ours, or not extended. */
	BAD("r=XOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	BAD("r=rOprNGfwEbeRWgbNEkq,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	BAD("r=" NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	BAD("r=" NONCE "ab\x7f,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	/* Mandatory extension. */
	BAD("m=ext,r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	/* Order, missing and malformed attributes. */
	BAD("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" FULL_NONCE ",i=4096");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==");
	BAD("r=" FULL_NONCE ",s=,i=4096");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x");
	/* Iterations above the CPU cap. */
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967297");
	BAD("r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,");
	BAD("");
#undef BAD
	static const char nul[] = "r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,"
	                          "i=4096\0";
	check_bad_server_first(nul, sizeof(nul)); /* trailing NUL included */

	/* Extensions after i= are allowed and part of AuthMessage, so the
	 * proof changes but the exchange goes on. */
	struct mailconn__sasl *s = scram_to_final(
		MAILCONN__MECH_SCRAM_SHA_256, NULL, SERVER_FIRST ",x=ext");
	CHECK_CONTAINS(outstr(), "c=biws,r=" FULL_NONCE ",p=");
	mailconn__sasl_free(s);

	/* The cap itself is still accepted. */
	s = scram_to_final(MAILCONN__MECH_SCRAM_SHA_256, NULL,
	                   "r=" FULL_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1");
	mailconn__sasl_free(s);
}

static void
test_scram_plus(void)
{
	unsigned char cbdata[32];
	for (int i = 0; i < 32; i++)
		cbdata[i] = (unsigned char)(0xa0 + i);
	struct mailconn__channel_binding cb = {
		.type = "tls-exporter", .data = cbdata, .len = 32,
	};

	/* c= is base64("p=tls-exporter,," + cbdata), worked out by hand;
	 * the proof and signature come from an independent SCRAM
	 * implementation. */
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_SCRAM_SHA_256_PLUS, "user", "pencil", NULL, 0,
		&cb, fixed_crypto(NONCE));
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "p=tls-exporter,,n=user,r=" NONCE);
	CHECK_INT(step(s, SERVER_FIRST), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(),
	          "c=cD10bHMtZXhwb3J0ZXIsLKChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5"
	          "uru8vb6/,r=" FULL_NONCE
	          ",p=T3UnVNFbL+GFwmDH2cdU1kXcvjHN0GaUeLhh+Wk1kHQ=");
	CHECK_INT(step(s, "v=LhGOIDCyMPS5a96tYAtTnDje86c8FIDsQSHMv4P1sYI="),
	          MAILCONN__SASL_DONE);
	CHECK_INT(mailconn__sasl_server_verified(s), 1);
	mailconn__sasl_free(s);

	/* tls-unique: only the header and the c= value change. */
	cb.type = "tls-unique";
	cb.len = 12;
	s = mailconn__sasl_new(MAILCONN__MECH_SCRAM_SHA_256_PLUS, "user",
	                       "pencil", NULL, 0, &cb, fixed_crypto(NONCE));
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "p=tls-unique,,n=user,r=" NONCE);
	CHECK_INT(step(s, SERVER_FIRST), MAILCONN__SASL_CONTINUE);
	CHECK_CONTAINS(outstr(), "c=cD10bHMtdW5pcXVlLCygoaKjpKWmp6ipqqs=,r=");
	mailconn__sasl_free(s);

	/* Binding available but the server offered no -PLUS: "y,,". */
	cb.type = "tls-exporter";
	cb.len = 32;
	s = mailconn__sasl_new(MAILCONN__MECH_SCRAM_SHA_256, "user", "pencil",
	                       NULL, 0, &cb, fixed_crypto(NONCE));
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "y,,n=user,r=" NONCE);
	CHECK_INT(step(s, SERVER_FIRST), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "c=eSws,r=" FULL_NONCE
	          ",p=FoqiHTtQEDE8lz1CdaEe3tK4mS+iMDTl77SPyDS53DY=");
	CHECK_INT(step(s, "v=dI4KpiQJwBr1+V+K6U1dA6l6I4I9DUNXWND4pcpRU3U="),
	          MAILCONN__SASL_DONE);
	CHECK_INT(mailconn__sasl_server_verified(s), 1);
	mailconn__sasl_free(s);

	/* -PLUS without binding data cannot start. */
	s = mailconn__sasl_new(MAILCONN__MECH_SCRAM_SHA_256_PLUS, "user",
	                       "pencil", NULL, 0, NULL, fixed_crypto(NONCE));
	CHECK_INT(start(s), MAILCONN__SASL_ERROR);
	CHECK_INT(out.len, 0);
	mailconn__sasl_free(s);
}

static void
test_scram_misc(void)
{
	/* ',' and '=' in the user name are escaped. */
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_SCRAM_SHA_256, "a,b=c", "x", NULL, 0, NULL,
		fixed_crypto("abc"));
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "n,,n=a=2Cb=3Dc,r=abc");
	mailconn__sasl_free(s);

	/* A random nonce: 24 printable characters, no ','. */
	s = mailconn__sasl_new(MAILCONN__MECH_SCRAM_SHA_256, "u", "p", NULL,
	                       0, NULL, &mailconn__gnutls_crypto);
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_INT(out.len, strlen("n,,n=u,r=") + 24);
	CHECK(strchr(outstr() + 9, ',') == NULL);
	mailconn__sasl_free(s);

	/* Output over the caller's limit is an error, not a truncation. */
	struct mailconn__buf small;
	mailconn__buf_init(&small, 10);
	s = mailconn__sasl_new(MAILCONN__MECH_SCRAM_SHA_256, "user", "p",
	                       NULL, 0, NULL, fixed_crypto(NONCE));
	CHECK_INT(mailconn__sasl_start(s, &small), MAILCONN__SASL_ERROR);
	CHECK_INT(small.len, 0);
	mailconn__buf_free(&small);
	mailconn__sasl_free(s);
}

static void
test_plain(void)
{
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_PLAIN, "user@example.com", "p\"a ss\\w", NULL, 0,
		NULL, NULL);
	CHECK_INT(start(s), MAILCONN__SASL_DONE);
	CHECK_INT(out.len, 26);
	CHECK(out.len == 26 &&
	      memcmp(out.data, "\0user@example.com\0p\"a ss\\w", 26) == 0);
	CHECK_INT(mailconn__sasl_server_verified(s), 1);
	/* PLAIN has nothing to say to a later challenge. */
	CHECK_INT(step(s, "more?"), MAILCONN__SASL_ERROR);
	mailconn__sasl_free(s);

	/* Without SASL-IR the empty first challenge gets the response. */
	s = mailconn__sasl_new(MAILCONN__MECH_PLAIN, "u", "p", NULL, 0, NULL,
	                       NULL);
	CHECK_INT(step(s, ""), MAILCONN__SASL_DONE);
	CHECK(out.len == 4 && memcmp(out.data, "\0u\0p", 4) == 0);
	mailconn__sasl_free(s);
}

static void
test_login(void)
{
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_LOGIN, "user", "secret", NULL, 0, NULL, NULL);
	CHECK_INT(start(s), MAILCONN__SASL_CONTINUE);
	CHECK_INT(out.len, 0);
	/* Answers by position, whatever the prompt says. */
	CHECK_INT(step(s, "Password:"), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "user");
	CHECK_INT(step(s, "Username:"), MAILCONN__SASL_DONE);
	CHECK_STR(outstr(), "secret");
	CHECK_INT(step(s, "Again:"), MAILCONN__SASL_ERROR);
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_PROTOCOL_ERROR);
	mailconn__sasl_free(s);

	/* Step without start works the same. */
	s = mailconn__sasl_new(MAILCONN__MECH_LOGIN, "user", "secret", NULL, 0,
	                       NULL, NULL);
	CHECK_INT(step(s, "User Name\0"), MAILCONN__SASL_CONTINUE);
	CHECK_STR(outstr(), "user");
	mailconn__sasl_free(s);
}

static void
test_oauth(void)
{
	struct mailconn__sasl *s = mailconn__sasl_new(
		MAILCONN__MECH_XOAUTH2, "someone@gmail.com", "ya29.TOKEN",
		"smtp.gmail.com", 465, NULL, NULL);
	CHECK_INT(start(s), MAILCONN__SASL_DONE);
	CHECK_STR(outstr(), "user=someone@gmail.com\x01"
	          "auth=Bearer ya29.TOKEN\x01\x01");
	/* The JSON error challenge gets an empty answer and is remembered. */
	CHECK_INT(step(s, "{\"status\":\"401\",\"schemes\":\"Bearer\"}"),
	          MAILCONN__SASL_DONE);
	CHECK_INT(out.len, 0);
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_AUTH_REJECTED);
	CHECK_INT(step(s, "{}"), MAILCONN__SASL_ERROR);
	mailconn__sasl_free(s);

	s = mailconn__sasl_new(MAILCONN__MECH_OAUTHBEARER, "user@example.com",
	                       "TOKEN", "mail.example.com", 587, NULL, NULL);
	CHECK_INT(start(s), MAILCONN__SASL_DONE);
	CHECK_STR(outstr(), "n,a=user@example.com,\x01host=mail.example.com"
	          "\x01port=587\x01" "auth=Bearer TOKEN\x01\x01");
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_NONE);
	CHECK_INT(step(s, "{\"status\":\"invalid_token\"}"),
	          MAILCONN__SASL_DONE);
	CHECK_STR(outstr(), "\x01");
	CHECK_INT(mailconn__sasl_error_cause(s), MAILCONN_CAUSE_AUTH_REJECTED);
	mailconn__sasl_free(s);

	/* Unknown host and port are left out; ',' in the name escaped. */
	s = mailconn__sasl_new(MAILCONN__MECH_OAUTHBEARER, "a,b", "T", NULL, 0,
	                       NULL, NULL);
	CHECK_INT(start(s), MAILCONN__SASL_DONE);
	CHECK_STR(outstr(), "n,a=a=2Cb,\x01" "auth=Bearer T\x01\x01");
	mailconn__sasl_free(s);
}

static void
test_choose(void)
{
	CHECK_INT(mailconn__sasl_choose("PLAIN LOGIN", 1, 0, 0),
	          MAILCONN__MECH_PLAIN);
	CHECK_INT(mailconn__sasl_choose("login plain", 1, 0, 0),
	          MAILCONN__MECH_PLAIN);
	CHECK_INT(mailconn__sasl_choose("LOGIN", 1, 0, 0),
	          MAILCONN__MECH_LOGIN);
	CHECK_INT(mailconn__sasl_choose("PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS",
	                                1, 0, 1),
	          MAILCONN__MECH_SCRAM_SHA_256_PLUS);
	CHECK_INT(mailconn__sasl_choose("PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS",
	                                1, 0, 0),
	          MAILCONN__MECH_SCRAM_SHA_256);
	CHECK_INT(mailconn__sasl_choose("scram-sha-256-plus plain", 1, 0, 0),
	          MAILCONN__MECH_PLAIN);
	CHECK_INT(mailconn__sasl_choose("  PLAIN   scram-sha-256  ", 1, 0, 1),
	          MAILCONN__MECH_SCRAM_SHA_256);
	/* Whole tokens only. */
	CHECK_INT(mailconn__sasl_choose("SCRAM-SHA-256X PLAINS XPLAIN", 1, 0, 1),
	          MAILCONN__MECH_NONE);
	CHECK_INT(mailconn__sasl_choose("SCRAM-SHA-1 CRAM-MD5", 1, 0, 1),
	          MAILCONN__MECH_NONE);
	CHECK_INT(mailconn__sasl_choose("", 1, 1, 1), MAILCONN__MECH_NONE);
	CHECK_INT(mailconn__sasl_choose(NULL, 1, 1, 1), MAILCONN__MECH_NONE);
	/* Tokens use only the OAuth mechanisms. */
	CHECK_INT(mailconn__sasl_choose("PLAIN XOAUTH2 OAUTHBEARER", 0, 1, 0),
	          MAILCONN__MECH_OAUTHBEARER);
	CHECK_INT(mailconn__sasl_choose("PLAIN xoauth2", 0, 1, 0),
	          MAILCONN__MECH_XOAUTH2);
	CHECK_INT(mailconn__sasl_choose("PLAIN LOGIN", 0, 1, 0),
	          MAILCONN__MECH_NONE);
	CHECK_INT(mailconn__sasl_choose("XOAUTH2 OAUTHBEARER", 1, 0, 1),
	          MAILCONN__MECH_NONE);
	CHECK_STR(mailconn__mech_name(MAILCONN__MECH_SCRAM_SHA_256_PLUS),
	          "SCRAM-SHA-256-PLUS");
	CHECK_STR(mailconn__mech_name(MAILCONN__MECH_OAUTHBEARER),
	          "OAUTHBEARER");
	CHECK_STR(mailconn__mech_name(MAILCONN__MECH_NONE), "");
}

static void
test_pick(void)
{
	static const char all[] = "LOGIN SCRAM-SHA-256-PLUS PLAIN SCRAM-SHA-256";
	struct mailconn__mech_policy pol = {
		.have_password = 1, .have_binding = 1,
	};
	/* Verified: PLAIN, then LOGIN, then SCRAM. */
	CHECK_INT(mailconn__sasl_pick(all, &pol), MAILCONN__MECH_PLAIN);
	CHECK_INT(mailconn__sasl_pick("SCRAM-SHA-256 LOGIN", &pol),
	          MAILCONN__MECH_LOGIN);
	CHECK_INT(mailconn__sasl_pick("SCRAM-SHA-256 SCRAM-SHA-256-PLUS", &pol),
	          MAILCONN__MECH_SCRAM_SHA_256_PLUS);
	/* Exposed: SCRAM first. */
	pol.exposed = 1;
	CHECK_INT(mailconn__sasl_pick(all, &pol),
	          MAILCONN__MECH_SCRAM_SHA_256_PLUS);
	pol.have_binding = 0;
	CHECK_INT(mailconn__sasl_pick(all, &pol), MAILCONN__MECH_SCRAM_SHA_256);
	CHECK_INT(mailconn__sasl_pick("plain login", &pol), MAILCONN__MECH_PLAIN);
	/* A list: only its members, in its order. */
	pol.order = "LOGIN, scram-sha-256";
	CHECK_INT(mailconn__sasl_pick(all, &pol), MAILCONN__MECH_LOGIN);
	CHECK_INT(mailconn__sasl_pick("PLAIN SCRAM-SHA-256", &pol),
	          MAILCONN__MECH_SCRAM_SHA_256);
	CHECK_INT(mailconn__sasl_pick("PLAIN", &pol), MAILCONN__MECH_NONE);
	pol.order = "SCRAM-SHA-256-PLUS";
	CHECK_INT(mailconn__sasl_pick(all, &pol), MAILCONN__MECH_NONE);
	pol.order = "XOAUTH2,PLAIN";
	CHECK_INT(mailconn__sasl_pick("XOAUTH2 PLAIN", &pol), MAILCONN__MECH_PLAIN);

	CHECK(mailconn__mech_list_valid("PLAIN"));
	CHECK(mailconn__mech_list_valid(" scram-sha-256-plus , PLAIN,LOGIN "));
	CHECK(mailconn__mech_list_valid("SCRAM-SHA-256-PLUS,SCRAM-SHA-256,PLAIN,"
	                                "LOGIN,XOAUTH2,OAUTHBEARER"));
	CHECK(!mailconn__mech_list_valid(""));
	CHECK(!mailconn__mech_list_valid(NULL));
	CHECK(!mailconn__mech_list_valid("PLAIN,"));
	CHECK(!mailconn__mech_list_valid(",PLAIN"));
	CHECK(!mailconn__mech_list_valid("PLAIN,,LOGIN"));
	CHECK(!mailconn__mech_list_valid("PLAIN,plain"));
	CHECK(!mailconn__mech_list_valid("CRAM-MD5"));
	CHECK(!mailconn__mech_list_valid("PLAIN LOGIN"));

	CHECK(mailconn__mech_allowed(NULL, MAILCONN__MECH_PLAIN));
	CHECK(mailconn__mech_allowed("LOGIN,SCRAM-SHA-256",
	                             MAILCONN__MECH_SCRAM_SHA_256));
	CHECK(!mailconn__mech_allowed("SCRAM-SHA-256-PLUS",
	                              MAILCONN__MECH_SCRAM_SHA_256));
	CHECK_INT(mailconn__mech_unbound(MAILCONN__MECH_SCRAM_SHA_256_PLUS),
	          MAILCONN__MECH_SCRAM_SHA_256);
	CHECK_INT(mailconn__mech_unbound(MAILCONN__MECH_PLAIN),
	          MAILCONN__MECH_NONE);
}

int
main(void)
{
	mailconn__buf_init(&out, 4096);
	test_scram_rfc7677();
	test_scram_bad_final();
	test_scram_bad_first();
	test_scram_plus();
	test_scram_misc();
	test_plain();
	test_login();
	test_oauth();
	test_choose();
	test_pick();
	mailconn__buf_free(&out);
	return check_finish();
}
