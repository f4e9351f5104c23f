/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The language tables: every language has every message and hint key of
 * English with the same placeholders, every case picks the same row in
 * every language (so hint ids do not depend on the language), tags and
 * the environment choose the right table, and a session's hint, id and
 * message come out in the language it was given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "link.h"
#include "private.h"
#include "proto/lang.h"

/* ---- placeholders ----------------------------------------------------- */

/* The placeholders of `text`, sorted and joined ("{port}{wanted}"): word
 * order differs between languages, the set must not. */
static void
placeholders(const char *text, char *out, size_t size)
{
	const char *found[16];
	size_t len[16], n = 0;
	for (const char *p = strchr(text, '{'); p && n < 16; p = strchr(p + 1, '{')) {
		const char *close = strchr(p, '}');
		if (!close)
			break;
		found[n] = p;
		len[n++] = (size_t)(close - p + 1);
	}
	for (size_t i = 1; i < n; i++)          /* insertion sort, n is tiny */
		for (size_t j = i; j > 0; j--) {
			size_t m = len[j] < len[j - 1] ? len[j] : len[j - 1];
			int c = memcmp(found[j], found[j - 1], m);
			if (c > 0 || (c == 0 && len[j] >= len[j - 1]))
				break;
			const char *tp = found[j];
			size_t tl = len[j];
			found[j] = found[j - 1];
			len[j] = len[j - 1];
			found[j - 1] = tp;
			len[j - 1] = tl;
		}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		strncat(out, found[i], len[i] < size - strlen(out) - 1
		                       ? len[i] : size - strlen(out) - 1);
}

static int
only_known_placeholders(const char *text)
{
	for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{'))
		if (strncmp(p, "{port}", 6) != 0 && strncmp(p, "{wanted}", 8) != 0)
			return 0;
	/* A lone brace would be a typo in a placeholder. */
	int open = 0, close = 0;
	for (const char *p = text; *p; p++) {
		open += *p == '{';
		close += *p == '}';
	}
	return open == close;
}

static void
test_placeholders_helper(void)
{
	char a[64], b[64];
	placeholders("x {wanted} y {port} z {wanted}", a, sizeof a);
	placeholders("{port} {wanted}{wanted}", b, sizeof b);
	CHECK_STR(a, "{port}{wanted}{wanted}");
	CHECK_STR(a, b);
	placeholders("{port} {wanted}", b, sizeof b);
	CHECK(strcmp(a, b) != 0);
	CHECK(only_known_placeholders("port {port}"));
	CHECK(!only_known_placeholders("port {prot}"));
	CHECK(!only_known_placeholders("port {port"));
}

/* ---- completeness ----------------------------------------------------- */

static const struct mailconn__hint_text *
row_for(const struct mailconn__language *l, const struct mailconn__hint_text *k)
{
	const struct mailconn__hint_text *hit = NULL;
	for (size_t i = 0; i < l->n_hints; i++) {
		const struct mailconn__hint_text *h = &l->hints[i];
		if (h->outcome != k->outcome || h->cause != k->cause)
			continue;
		if ((h->provider == NULL) != (k->provider == NULL))
			continue;
		if (h->provider && strcmp(h->provider, k->provider) != 0)
			continue;
		CHECK(hit == NULL);            /* each key once */
		hit = h;
	}
	return hit;
}

static const char *
message_for(const struct mailconn__language *l, int code)
{
	const char *hit = NULL;
	for (size_t i = 0; i < l->n_messages; i++)
		if (l->messages[i].code == code) {
			CHECK(hit == NULL);
			hit = l->messages[i].text;
		}
	return hit;
}

static void
test_every_language_complete(void)
{
	const struct mailconn__language *en = &mailconn__lang_en;
	CHECK(mailconn__languages[0] == en);
	int n_lang = 0;
	for (const struct mailconn__language *const *lp = mailconn__languages;
	     *lp; lp++, n_lang++) {
		const struct mailconn__language *l = *lp;
		char pe[128], pl[128];
		CHECK(l->code && strlen(l->code) >= 2);
		/* Same number of keys, and each English key present once: no
		 * text missing, none left over. */
		CHECK_INT(l->n_hints, en->n_hints);
		CHECK_INT(l->n_messages, en->n_messages);
		for (size_t i = 0; i < en->n_hints; i++) {
			const struct mailconn__hint_text *k = &en->hints[i];
			const struct mailconn__hint_text *h = row_for(l, k);
			if (!h) {
				fprintf(stderr, "%s lacks hint %d/%s/%s\n", l->code,
				        k->outcome, mailconn_cause_name(k->cause),
				        k->provider ? k->provider : "-");
				CHECK(h != NULL);
				continue;
			}
			CHECK(strlen(h->text) > 20);
			CHECK(only_known_placeholders(h->text));
			placeholders(k->text, pe, sizeof pe);
			placeholders(h->text, pl, sizeof pl);
			CHECK_STR(pl, pe);
			/* The general advice is also mailconn_error_hint(), which
			 * has no port to fill in. */
			if (k->cause == MAILCONN_CAUSE_NONE && !k->provider)
				CHECK(strchr(h->text, '{') == NULL);
		}
		for (size_t i = 0; i < en->n_messages; i++) {
			const char *m = message_for(l, en->messages[i].code);
			CHECK(m != NULL && m[0] != '\0');
			if (!m)
				continue;
			CHECK(strchr(m, '{') == NULL);
		}
		/* Every outcome has its general advice. */
		for (int o = MAILCONN_IMAP_SETTINGS; o <= MAILCONN_UNTRUSTED_CERT; o++) {
			struct mailconn__hint_text k = { o, MAILCONN_CAUSE_NONE, NULL, "" };
			CHECK(row_for(l, &k) != NULL);
		}
		/* And every code mailconn_error_name() knows has a message. */
		for (int c = 0; c <= 200; c++)
			if (strcmp(mailconn_error_name((mailconn_error)c), "UNKNOWN") != 0)
				CHECK(message_for(l, c) != NULL);
	}
	CHECK(n_lang >= 2);
	/* The Norwegian table is Norwegian, not a copy. */
	size_t same = 0;
	for (size_t i = 0; i < en->n_hints; i++) {
		const struct mailconn__hint_text *h = row_for(&mailconn__lang_nb,
		                                              &en->hints[i]);
		same += h && strcmp(h->text, en->hints[i].text) == 0;
	}
	CHECK_INT(same, 0);
}

/* Every case picks the same key in every language, so a hint id never
 * depends on the language. */
static void
test_same_row_everywhere(void)
{
	static const char *const providers[] = {
		NULL, "gmail", "microsoft365", "yandex", "ionos", "nosuch",
	};
	for (int o = 0; o <= MAILCONN_UNTRUSTED_CERT + 1; o++)
		for (int c = 0; c <= 110; c++)
			for (size_t p = 0; p < sizeof providers / sizeof *providers; p++) {
				const struct mailconn__hint_text *e = mailconn__hint_find(
					&mailconn__lang_en, (mailconn_error)o,
					(mailconn_cause)c, providers[p]);
				const struct mailconn__hint_text *n = mailconn__hint_find(
					&mailconn__lang_nb, (mailconn_error)o,
					(mailconn_cause)c, providers[p]);
				CHECK((e == NULL) == (n == NULL));
				CHECK((e == NULL) == (o < 1 || o > 8));
				if (!e || !n)
					continue;
				char ie[96], in[96];
				mailconn__hint_id((mailconn_error)o, e, ie, sizeof ie);
				mailconn__hint_id((mailconn_error)o, n, in, sizeof in);
				CHECK_STR(in, ie);
			}
}

static void
test_hint_ids(void)
{
	char id[96];
	const struct mailconn__hint_text *r;
	r = mailconn__hint_find(NULL, MAILCONN_UNAUTHORIZED,
	                        MAILCONN_CAUSE_AUTH_REJECTED, "gmail");
	mailconn__hint_id(MAILCONN_UNAUTHORIZED, r, id, sizeof id);
	CHECK_STR(id, "UNAUTHORIZED.AUTH_REJECTED.gmail");
	/* The outcome's general advice, also for a cause that only restates
	 * the outcome. */
	r = mailconn__hint_find(NULL, MAILCONN_UNAUTHORIZED,
	                        MAILCONN_CAUSE_AUTH_REJECTED, NULL);
	mailconn__hint_id(MAILCONN_UNAUTHORIZED, r, id, sizeof id);
	CHECK_STR(id, "UNAUTHORIZED.NONE");
	/* A row for any outcome carries the outcome it served. */
	r = mailconn__hint_find(NULL, MAILCONN_SMTP_SETTINGS,
	                        MAILCONN_CAUSE_DNS_NOT_FOUND, "gmail");
	mailconn__hint_id(MAILCONN_SMTP_SETTINGS, r, id, sizeof id);
	CHECK_STR(id, "SMTP_SETTINGS.DNS_NOT_FOUND");
	r = mailconn__hint_find(NULL, MAILCONN_APP_PASSWORD, MAILCONN_CAUSE_NONE,
	                        "icloud");
	mailconn__hint_id(MAILCONN_APP_PASSWORD, r, id, sizeof id);
	CHECK_STR(id, "APP_PASSWORD.AUTH_APP_PASSWORD.icloud");
	r = mailconn__hint_find(NULL, MAILCONN_UNAUTHORIZED,
	                        MAILCONN_CAUSE_AUTH_PROTOCOL_DISABLED,
	                        "microsoft365");
	mailconn__hint_id(MAILCONN_UNAUTHORIZED, r, id, sizeof id);
	CHECK_STR(id, "UNAUTHORIZED.AUTH_PROTOCOL_DISABLED.microsoft365");
	mailconn__hint_id(MAILCONN_OK, NULL, id, sizeof id);
	CHECK_STR(id, "");
	CHECK(mailconn__hint_find(NULL, MAILCONN_OK, 0, NULL) == NULL);
	CHECK(mailconn__hint_find(NULL, MAILCONN_E_CANCELLED, 0, NULL) == NULL);
	/* Cut, never overrun. */
	char small[8];
	r = mailconn__hint_find(NULL, MAILCONN_IMAP_SETTINGS, 0, NULL);
	mailconn__hint_id(MAILCONN_IMAP_SETTINGS, r, small, sizeof small);
	CHECK_STR(small, "IMAP_SE");
}

static void
test_expand(void)
{
	struct mailconn__buf b;
	struct mailconn__hint_vars v = { .port = 1143, .wanted = "STARTTLS" };
	mailconn__buf_init(&b, 4096);
	mailconn__hint_expand("port {port} needs {wanted}; {port}.", &v, &b);
	CHECK_STR(b.data, "port 1143 needs STARTTLS; 1143.");
	mailconn__buf_clear(&b);
	b.len = 0;
	mailconn__buf_free(&b);
	mailconn__buf_init(&b, 4096);
	/* Unknown or unfilled placeholders stay visible, never a hole. */
	struct mailconn__hint_vars none = { 0, NULL };
	mailconn__hint_expand("a {port} b {other} c {", &none, &b);
	CHECK_STR(b.data, "a {port} b {other} c {");
	mailconn__buf_free(&b);
}

/* ---- choosing the language -------------------------------------------- */

static void
test_match(void)
{
	const struct mailconn__language *nb = &mailconn__lang_nb, *en = &mailconn__lang_en;
	static const char *const to_nb[] = {
		"nb", "NB", "nb-NO", "nb_NO", "nb_NO.UTF-8", "no", "no_NO",
		"no_NO.ISO-8859-1", "nn", "nn_NO.UTF-8", "nb_NO@euro",
	};
	for (size_t i = 0; i < sizeof to_nb / sizeof *to_nb; i++)
		CHECK(mailconn__language_match(to_nb[i]) == nb);
	CHECK(mailconn__language_match("en") == en);
	CHECK(mailconn__language_match("en_US.UTF-8") == en);
	CHECK(mailconn__language_match("EN-gb") == en);
	/* Well-formed, but not ours: the caller falls back to English. */
	CHECK(mailconn__language_match("de_DE.UTF-8") == NULL);
	CHECK(mailconn__language_match("C") == NULL);
	CHECK(mailconn__language_match("C.UTF-8") == NULL);
	CHECK(mailconn__language_match("POSIX") == NULL);
	CHECK(mailconn__language_match("nob") == NULL);
	CHECK(mailconn__language_match("n") == NULL);
	CHECK(mailconn__language_tag_valid("de_DE.UTF-8"));
	CHECK(!mailconn__language_tag_valid(""));
	CHECK(!mailconn__language_tag_valid(NULL));
	CHECK(!mailconn__language_tag_valid("1nb"));
	CHECK(!mailconn__language_tag_valid("nb NO"));
	CHECK(!mailconn__language_tag_valid("nb/../x"));
	CHECK(!mailconn__language_tag_valid("-nb"));
}

static void
set_env(const char *all, const char *messages, const char *lang)
{
	const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	const char *values[] = { all, messages, lang };
	for (int i = 0; i < 3; i++) {
		if (values[i])
			setenv(names[i], values[i], 1);
		else
			unsetenv(names[i]);
	}
}

static void
test_env(void)
{
	const struct mailconn__language *nb = &mailconn__lang_nb, *en = &mailconn__lang_en;
	set_env(NULL, NULL, NULL);
	CHECK(mailconn__language_from_env() == en);
	set_env(NULL, NULL, "nb_NO.UTF-8");
	CHECK(mailconn__language_from_env() == nb);
	set_env(NULL, "en_US.UTF-8", "nb_NO.UTF-8");
	CHECK(mailconn__language_from_env() == en);
	set_env("no_NO", "en_US.UTF-8", NULL);
	CHECK(mailconn__language_from_env() == nb);
	/* An empty variable counts as unset, as for the C library. */
	set_env("", "", "nb_NO.UTF-8");
	CHECK(mailconn__language_from_env() == nb);
	/* The first one set decides, even for a language we lack. */
	set_env("de_DE.UTF-8", NULL, "nb_NO.UTF-8");
	CHECK(mailconn__language_from_env() == en);
	set_env("C", NULL, "nb_NO.UTF-8");
	CHECK(mailconn__language_from_env() == en);
	set_env(NULL, NULL, NULL);
}

static void
test_messages(void)
{
	CHECK_STR(mailconn__message(NULL, MAILCONN_UNAUTHORIZED),
	          mailconn_error_message(MAILCONN_UNAUTHORIZED));
	CHECK_STR(mailconn__message(&mailconn__lang_nb, MAILCONN_UNAUTHORIZED),
	          "serveren sier at påloggingsopplysningene er feil");
	CHECK_STR(mailconn__message(&mailconn__lang_nb, (mailconn_error)77),
	          "unknown code");
	CHECK_STR(mailconn_error_message(MAILCONN_E_CANCELLED),
	          "the check was cancelled before it finished");
}

/* ---- a session in each language --------------------------------------- */

struct fail_with {
	mailconn_protocol protocol;  /* the one that fails; the other passes */
	mailconn_error outcome;
	mailconn_cause cause;
	const char *provider;
	const char *reply;
};

struct fail_link {
	struct mailconn__failure failure;
	mailconn_stage stage;
	int passes;
};

static void *
fail_open(void *ctx, const struct mailconn__conn_params *p)
{
	const struct fail_with *w = ctx;
	struct fail_link *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->passes = p->protocol != w->protocol;
	l->stage = p->protocol == MAILCONN_PROTOCOL_IMAP
	           ? (l->passes ? MAILCONN_STAGE_IMAP_LOGIN : MAILCONN_STAGE_IMAP_CONNECT)
	           : MAILCONN_STAGE_SMTP_CONNECT;
	l->failure.stage = l->stage;
	l->failure.outcome = w->outcome;
	l->failure.cause = w->cause;
	l->failure.provider = w->provider;
	snprintf(l->failure.reply, sizeof l->failure.reply, "%s",
	         w->reply ? w->reply : "");
	return l;
}

static void
fail_close(void *link)
{
	free(link);
}

static enum mailconn__conn_status
fail_step(void *link, int64_t now)
{
	(void)now;
	return ((struct fail_link *)link)->passes ? MAILCONN__CONN_DONE
	                                          : MAILCONN__CONN_FAILED;
}

static int64_t
fail_wake_at(const void *link, int64_t now)
{
	(void)link;
	(void)now;
	return -1;
}

static mailconn_stage
fail_stage(const void *link)
{
	return ((const struct fail_link *)link)->stage;
}

static int
fail_zero(const void *link)
{
	(void)link;
	return 0;
}

static void
fail_release(void *link)
{
	(void)link;
}

static const struct mailconn__failure *
fail_failure(const void *link)
{
	return &((const struct fail_link *)link)->failure;
}

static const struct mailconn__link_ops fail_ops = {
	.open = fail_open, .close = fail_close, .step = fail_step,
	.wake_at = fail_wake_at, .stage = fail_stage, .held = fail_zero,
	.release = fail_release, .connected = fail_zero,
	.failure = fail_failure,
};

static int64_t fake_now = 5000;

static int64_t
fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static mailconn_config *
config(const char *imap_host, const char *language)
{
	mailconn_config *c = mailconn_config_new();
	mailconn_config_set_string(c, MAILCONN_OPT_EMAIL, "ann@example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_PASSWORD, "secret-pw");
	mailconn_config_set_string(c, MAILCONN_OPT_IMAP_HOST, imap_host);
	mailconn_config_set_string(c, MAILCONN_OPT_SMTP_HOST, "smtp.example.com");
	mailconn_config_set_string(c, MAILCONN_OPT_BCC, "bcc@example.com");
	if (language)
		CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_LANGUAGE,
		                                     language), MAILCONN_OK);
	return c;
}

static mailconn_session *
run_failing(mailconn_config *c, struct fail_with *w)
{
	struct mailconn__session_hooks h = {
		.now_ms = fake_clock, .link = &fail_ops, .link_ctx = w,
	};
	mailconn_session *s = NULL;
	CHECK_INT(mailconn__session_new_with(c, &h, &s), MAILCONN_OK);
	if (!s)
		return NULL;
	int steps = 0;
	while (mailconn_session_step(s) == MAILCONN_PENDING && steps++ < 100)
		fake_now += 1;
	CHECK(steps < 100);
	return s;
}

static void
test_session_language(void)
{
	struct fail_with w = { MAILCONN_PROTOCOL_IMAP, MAILCONN_UNAUTHORIZED, MAILCONN_CAUSE_AUTH_REJECTED,
	                       NULL, "a1 NO [AUTHENTICATIONFAILED] bad" };
	set_env(NULL, NULL, NULL);

	mailconn_config *c = config("imap.gmail.com", "nb-NO");
	mailconn_session *s = run_failing(c, &w);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_UNAUTHORIZED);
	CHECK_STR(mailconn_session_language(s), "nb");
	CHECK_STR(mailconn_session_provider(s), "gmail");
	CHECK_STR(mailconn_session_hint_id(s), "UNAUTHORIZED.AUTH_REJECTED.gmail");
	CHECK_CONTAINS(mailconn_session_hint(s), "Gmail avviste");
	CHECK_STR(mailconn_session_message(s),
	          "serveren sier at påloggingsopplysningene er feil");
	mailconn_session_free(s);
	mailconn_config_free(c);

	/* The same case in English: same id, English text. */
	c = config("imap.gmail.com", "en");
	s = run_failing(c, &w);
	CHECK_STR(mailconn_session_language(s), "en");
	CHECK_STR(mailconn_session_hint_id(s), "UNAUTHORIZED.AUTH_REJECTED.gmail");
	CHECK_CONTAINS(mailconn_session_hint(s), "Gmail rejected");
	CHECK_STR(mailconn_session_message(s),
	          mailconn_error_message(MAILCONN_UNAUTHORIZED));
	mailconn_session_free(s);
	mailconn_config_free(c);

	/* No option: the environment decides, read when the session is made. */
	set_env(NULL, NULL, "nb_NO.UTF-8");
	c = config("mail.example.net", NULL);
	s = run_failing(c, &w);
	set_env(NULL, NULL, NULL);
	CHECK_STR(mailconn_session_language(s), "nb");
	CHECK_STR(mailconn_session_provider(s), "");
	CHECK_STR(mailconn_session_hint_id(s), "UNAUTHORIZED.NONE");
	CHECK_CONTAINS(mailconn_session_hint(s), "påloggingsopplysningene");
	mailconn_session_free(s);
	mailconn_config_free(c);

	/* A language we lack: English. */
	c = config("mail.example.net", "de_DE.UTF-8");
	s = run_failing(c, &w);
	CHECK_STR(mailconn_session_language(s), "en");
	CHECK_CONTAINS(mailconn_session_hint(s), "login details are wrong");
	mailconn_session_free(s);
	mailconn_config_free(c);

	/* A malformed tag is a caller error naming the option. */
	c = mailconn_config_new();
	CHECK_INT(mailconn_config_set_string(c, MAILCONN_OPT_LANGUAGE, "nb NO"),
	          MAILCONN_E_INVALID_CONFIG);
	CHECK_CONTAINS(mailconn_config_error(c), "language");
	CHECK_INT(mailconn_option_from_name("language"), MAILCONN_OPT_LANGUAGE);
	mailconn_config_free(c);
}

/* The mismatch hint names the port in use and the mode it needs, in both
 * directions, and does not repeat the detail. */
static void
test_session_tls_mismatch(void)
{
	struct fail_with w = { MAILCONN_PROTOCOL_IMAP, MAILCONN_IMAP_SETTINGS,
	                       MAILCONN_CAUSE_TLS_MODE_MISMATCH, NULL, NULL };
	mailconn_config *c = config("mail.example.net", "en");
	mailconn_config_set_int(c, MAILCONN_OPT_IMAP_PORT, 1143);
	mailconn_config_set_int(c, MAILCONN_OPT_IMAP_SECURITY, MAILCONN_SECURITY_TLS);
	mailconn_session *s = run_failing(c, &w);
	CHECK_STR(mailconn_session_hint_id(s), "IMAP_SETTINGS.TLS_MODE_MISMATCH");
	CHECK_CONTAINS(mailconn_session_hint(s),
	               "does not match port 1143, which needs STARTTLS");
	CHECK(strchr(mailconn_session_hint(s), '{') == NULL);
	CHECK(strstr(mailconn_session_hint(s), "port 143 speaks") == NULL);
	mailconn_session_free(s);

	mailconn_config_set_int(c, MAILCONN_OPT_IMAP_PORT, 10993);
	mailconn_config_set_int(c, MAILCONN_OPT_IMAP_SECURITY,
	                        MAILCONN_SECURITY_STARTTLS);
	mailconn_config_set_string(c, MAILCONN_OPT_LANGUAGE, "nb");
	s = run_failing(c, &w);
	CHECK_CONTAINS(mailconn_session_hint(s),
	               "passer ikke til port 10993, som krever TLS");
	CHECK(strchr(mailconn_session_hint(s), '{') == NULL);
	mailconn_session_free(s);
	mailconn_config_free(c);

	/* SMTP: the SMTP port is the one named. */
	w.protocol = MAILCONN_PROTOCOL_SMTP;
	w.outcome = MAILCONN_SMTP_SETTINGS;
	w.cause = MAILCONN_CAUSE_CONNECT_REFUSED;
	c = config("mail.example.net", "en");
	mailconn_config_set_int(c, MAILCONN_OPT_SMTP_PORT, 2525);
	s = run_failing(c, &w);
	CHECK_INT(mailconn_session_protocol(s), MAILCONN_PROTOCOL_SMTP);
	CHECK_STR(mailconn_session_hint_id(s), "SMTP_SETTINGS.CONNECT_REFUSED");
	CHECK_CONTAINS(mailconn_session_hint(s),
	               "Nothing accepts connections on port 2525");
	mailconn_session_free(s);
	mailconn_config_free(c);
}

int
main(void)
{
	test_placeholders_helper();
	test_every_language_complete();
	test_same_row_everywhere();
	test_hint_ids();
	test_expand();
	test_match();
	test_env();
	test_messages();
	test_session_language();
	test_session_tls_mismatch();
	return check_finish();
}
