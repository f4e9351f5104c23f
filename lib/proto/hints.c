/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing the advice for a failure, in the session's language. The texts
 * themselves live in one table per language (hints-en.c, hints-nb.c, see
 * lang.h); this file only decides which row applies, so that every
 * language gives the same advice for the same case.
 */
#include "proto/lang.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/classify.h"

const struct mailconn__language *const mailconn__languages[] = {
	&mailconn__lang_en,
	&mailconn__lang_nb,
	NULL,
};

/*
 * Tags that mean one of our languages. Nynorsk readers get Bokmål: every
 * Norwegian reads both written standards daily, and that serves them
 * better than English. "no" is the macrolanguage older systems still use
 * (no_NO).
 */
static const struct {
	const char *tag;
	const struct mailconn__language *lang;
} aliases[] = {
	{ "en", &mailconn__lang_en },
	{ "nb", &mailconn__lang_nb },
	{ "no", &mailconn__lang_nb },
	{ "nn", &mailconn__lang_nb },
};

int
mailconn__language_tag_valid(const char *tag)
{
	if (!tag || !isalpha((unsigned char)tag[0]) || strlen(tag) > 64)
		return 0;
	for (const char *p = tag; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.@", *p))
			return 0;
	return 1;
}

const struct mailconn__language *
mailconn__language_match(const char *tag)
{
	if (!mailconn__language_tag_valid(tag))
		return NULL;
	/* Only the primary language matters: the region, code set and
	 * modifier ("_NO", ".UTF-8", "@euro") never change our texts. */
	size_t n = strcspn(tag, "_-.@");
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strlen(aliases[i].tag) == n &&
		    strncasecmp(aliases[i].tag, tag, n) == 0)
			return aliases[i].lang;
	return NULL;
}

const struct mailconn__language *
mailconn__language_from_env(void)
{
	/* POSIX order for LC_MESSAGES: LC_ALL overrides, LANG is the
	 * fallback. The first one set decides even when we lack its
	 * language, as it would for the C library's own messages. Read with
	 * getenv only: the process's locale is the application's business. */
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v && v[0]) {
			const struct mailconn__language *l = mailconn__language_match(v);
			return l ? l : &mailconn__lang_en;
		}
	}
	return &mailconn__lang_en;
}

const char *
mailconn__message(const struct mailconn__language *lang, mailconn_error code)
{
	if (!lang)
		lang = &mailconn__lang_en;
	for (size_t i = 0; i < lang->n_messages; i++)
		if (lang->messages[i].code == (int)code)
			return lang->messages[i].text;
	/* test-lang keeps every language complete; English is the net. */
	if (lang != &mailconn__lang_en)
		return mailconn__message(&mailconn__lang_en, code);
	return "unknown code";
}

static const struct mailconn__hint_text *
find(const struct mailconn__language *lang, int outcome, mailconn_cause cause,
     const char *provider)
{
	for (size_t i = 0; i < lang->n_hints; i++) {
		const struct mailconn__hint_text *h = &lang->hints[i];
		if (h->outcome != outcome || h->cause != cause)
			continue;
		int same = provider ?
		           h->provider && strcmp(h->provider, provider) == 0 :
		           h->provider == NULL;
		if (same)
			return h;
	}
	return NULL;
}

/* The cause that only restates its outcome: the provider's own advice for
 * that outcome is keyed by it. */
static mailconn_cause
restated_cause(mailconn_error outcome)
{
	switch (outcome) {
	case MAILCONN_UNAUTHORIZED:
		return MAILCONN_CAUSE_AUTH_REJECTED;
	case MAILCONN_APP_PASSWORD:
		return MAILCONN_CAUSE_AUTH_APP_PASSWORD;
	default:
		return MAILCONN_CAUSE_NONE;
	}
}

const struct mailconn__hint_text *
mailconn__hint_find(const struct mailconn__language *lang,
                    mailconn_error outcome, mailconn_cause cause,
                    const char *provider)
{
	if (outcome < MAILCONN_IMAP_SETTINGS || outcome > MAILCONN_UNTRUSTED_CERT)
		return NULL;
	if (!lang)
		lang = &mailconn__lang_en;
	const struct mailconn__hint_text *t = NULL;
	mailconn_cause restated = restated_cause(outcome);
	/*
	 * The cause says what to fix and beats the provider's general advice;
	 * a cause that only restates the outcome says nothing, so there the
	 * provider's own setting is the useful part.
	 */
	int plain = cause == MAILCONN_CAUSE_NONE || cause == restated;
	if (provider && cause != MAILCONN_CAUSE_NONE)
		t = find(lang, (int)outcome, cause, provider);
	if (!t && !plain) {
		t = find(lang, (int)outcome, cause, NULL);
		if (!t)
			t = find(lang, MAILCONN__ANY_OUTCOME, cause, NULL);
	}
	if (!t && provider && restated != MAILCONN_CAUSE_NONE)
		t = find(lang, (int)outcome, restated, provider);
	if (!t)
		t = find(lang, (int)outcome, MAILCONN_CAUSE_NONE, NULL);
	return t;
}

void
mailconn__hint_id(mailconn_error outcome, const struct mailconn__hint_text *row,
                  char *out, size_t size)
{
	if (!size)
		return;
	out[0] = '\0';
	if (!row)
		return;
	/* A row for any outcome still gets the outcome it served: an
	 * application may well word "no such host" differently for IMAP and
	 * SMTP. */
	snprintf(out, size, "%s.%s%s%s", mailconn_error_name(outcome),
	         mailconn_cause_name(row->cause), row->provider ? "." : "",
	         row->provider ? row->provider : "");
}

void
mailconn__hint_expand(const char *text, const struct mailconn__hint_vars *vars,
                      struct mailconn__buf *out)
{
	const char *p = text;
	while (*p) {
		const char *open = strchr(p, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (!close) {
			mailconn__buf_append_str(out, p);
			return;
		}
		mailconn__buf_append(out, p, (size_t)(open - p));
		size_t n = (size_t)(close - open - 1);
		char number[16];
		const char *value = NULL;
		if (n == 4 && memcmp(open + 1, "port", 4) == 0 && vars && vars->port) {
			snprintf(number, sizeof number, "%d", vars->port);
			value = number;
		} else if (n == 6 && memcmp(open + 1, "wanted", 6) == 0 && vars) {
			value = vars->wanted;
		}
		/* An unfilled placeholder stays visible rather than leaving a
		 * hole in the sentence; test-lang keeps it from happening. */
		if (value)
			mailconn__buf_append_str(out, value);
		else
			mailconn__buf_append(out, open, (size_t)(close - open + 1));
		p = close + 1;
	}
}

const char *
mailconn__hint(mailconn_error outcome, mailconn_cause cause,
               const char *provider)
{
	const struct mailconn__hint_text *t =
		mailconn__hint_find(&mailconn__lang_en, outcome, cause, provider);
	return t ? t->text : "";
}
