/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The texts a user reads (outcome messages and hints), one table per
 * language. A translator adds a language by copying hints-en.c, writing
 * every text anew and listing the table in hints.c; test-lang checks that
 * the new table has every message and hint key with the same
 * placeholders.
 *
 * Placeholders are "{name}" and are filled by mailconn__hint_expand():
 *   {port}    the port the failing connection used
 *   {wanted}  for a TLS mode mismatch, the security the port really
 *             needs: "TLS" or "STARTTLS" (protocol names, never
 *             translated)
 * The outcome's general advice (cause NONE, no provider) is also served
 * by mailconn_error_hint(), which knows no port: it has no placeholders.
 */
#ifndef MAILCONN_PROTO_LANG_H
#define MAILCONN_PROTO_LANG_H

#include <stddef.h>

#include "core/buf.h"
#include "mailconn.h"

/* Outcome of a hint row that applies to any outcome. */
#define MAILCONN__ANY_OUTCOME (-1)

struct mailconn__message_text {
	int code;                    /* a mailconn_error */
	const char *text;
};

struct mailconn__hint_text {
	int outcome;                 /* a mailconn_error, or ANY_OUTCOME */
	mailconn_cause cause;        /* NONE: the outcome's general advice */
	const char *provider;        /* NULL: any provider */
	const char *text;
};

struct mailconn__language {
	const char *code;            /* "en", "nb": what the API reports */
	const struct mailconn__message_text *messages;
	size_t n_messages;
	const struct mailconn__hint_text *hints;
	size_t n_hints;
};

extern const struct mailconn__language mailconn__lang_en;
extern const struct mailconn__language mailconn__lang_nb;

/* Every language, English first; NULL-terminated. */
extern const struct mailconn__language *const mailconn__languages[];

/* The language a tag such as "nb", "nb-NO", "no_NO.UTF-8" or
 * "en_GB@euro" asks for; NULL when it names none we have. */
const struct mailconn__language *mailconn__language_match(const char *tag);

/* 1 when `tag` is shaped like a language tag or locale name (letters
 * first, then letters, digits, '_', '-', '.', '@'), whether or not we
 * have that language. */
int mailconn__language_tag_valid(const char *tag);

/* The language the environment asks for: the first set of LC_ALL,
 * LC_MESSAGES and LANG, as the C library would pick the messages locale;
 * English when that one names a language we lack. Only reads the
 * environment. */
const struct mailconn__language *mailconn__language_from_env(void);

/* The one-line message of a code in `lang` (English when `lang` is NULL),
 * never NULL. */
const char *mailconn__message(const struct mailconn__language *lang,
                              mailconn_error code);

/* The hint row for an outcome, refined by cause and provider (NULL
 * allowed); NULL for MAILCONN_OK and the caller errors. */
const struct mailconn__hint_text *
mailconn__hint_find(const struct mailconn__language *lang,
                    mailconn_error outcome, mailconn_cause cause,
                    const char *provider);

/* The stable id of the row chosen for `outcome`:
 * "OUTCOME.CAUSE[.provider]", CAUSE being "NONE" for the outcome's
 * general advice. "" when `row` is NULL. */
void mailconn__hint_id(mailconn_error outcome,
                       const struct mailconn__hint_text *row,
                       char *out, size_t size);

struct mailconn__hint_vars {
	int port;                    /* 0: unknown */
	const char *wanted;          /* NULL: unknown */
};

/* Append `text` to `out` with its placeholders filled from `vars`. */
void mailconn__hint_expand(const char *text,
                           const struct mailconn__hint_vars *vars,
                           struct mailconn__buf *out);

#endif
