/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MAILCONN_1.1 additions (cancel, per-session callbacks, config check,
 * E_PENDING/E_CANCELLED, CAUSE_CANCELLED/CAUSE_SYSTEM) for tests that must
 * build against a header that does not declare them yet.
 *
 * meson defines MAILCONN_TEST_HEADER_HAS_1_1 to 1 when include/mailconn.h
 * declares mailconn_session_cancel; then this file adds nothing. Otherwise
 * it declares the spec'd values and functions itself, the functions weak,
 * so the test program still links against an older library and each test
 * FAILS at run time (api11_require()) instead of breaking the whole build.
 */
#ifndef MAILCONN_TEST_API11_H
#define MAILCONN_TEST_API11_H

#include <stdio.h>

#include <mailconn.h>

#if !MAILCONN_TEST_HEADER_HAS_1_1
#define MAILCONN_E_PENDING ((mailconn_error)107)
#define MAILCONN_E_CANCELLED ((mailconn_error)108)
#define MAILCONN_CAUSE_CANCELLED ((mailconn_cause)100)
#define MAILCONN_CAUSE_SYSTEM ((mailconn_cause)101)
typedef void (*mailconn_session_progress_fn)(mailconn_session *s, void *userdata,
                                             mailconn_stage stage, int finished,
                                             mailconn_error outcome);
typedef void (*mailconn_session_transcript_fn)(mailconn_session *s, void *userdata,
                                               mailconn_stage stage,
                                               mailconn_protocol protocol,
                                               mailconn_direction direction,
                                               const char *line);
__attribute__((weak)) mailconn_error
mailconn_session_set_progress(mailconn_session *s, mailconn_session_progress_fn fn,
                              void *userdata);
__attribute__((weak)) mailconn_error
mailconn_session_set_transcript(mailconn_session *s,
                                mailconn_session_transcript_fn fn, void *userdata);
__attribute__((weak)) mailconn_error mailconn_session_cancel(mailconn_session *s);
__attribute__((weak)) mailconn_error
mailconn_config_check(const mailconn_config *cfg, char *reason, size_t reason_size);

/* 1 when the loaded library has every 1.1 function; reports what lacks. */
static inline int
api11_require(const char *test)
{
	int ok = 1;
	const struct { const char *name; int present; } fns[] = {
		{ "mailconn_session_set_progress", mailconn_session_set_progress != NULL },
		{ "mailconn_session_set_transcript", mailconn_session_set_transcript != NULL },
		{ "mailconn_session_cancel", mailconn_session_cancel != NULL },
		{ "mailconn_config_check", mailconn_config_check != NULL },
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		if (!fns[i].present) {
			fprintf(stderr, "%s: the library lacks %s (MAILCONN_1.1)\n",
			        test, fns[i].name);
			ok = 0;
		}
	}
	return ok;
}
#else
static inline int
api11_require(const char *test)
{
	(void)test;
	return 1;
}
#endif

#endif
