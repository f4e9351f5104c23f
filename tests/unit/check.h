/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal assertion helpers for the unit tests: each failed check prints
 * where and what, the test keeps going, and check_finish() turns the count
 * into the exit status meson reads.
 */
#ifndef MAILCONN_TEST_CHECK_H
#define MAILCONN_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                          \
	do {                                                                 \
		check_count++;                                               \
		if (!(cond)) {                                               \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",         \
			        __FILE__, __LINE__, #cond);                  \
		}                                                            \
	} while (0)

#define CHECK_INT(got, want)                                                 \
	do {                                                                 \
		long long check_g_ = (long long)(got);                       \
		long long check_w_ = (long long)(want);                      \
		check_count++;                                               \
		if (check_g_ != check_w_) {                                  \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: %s == %lld, want %lld\n",    \
			        __FILE__, __LINE__, #got, check_g_, check_w_); \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *check_g_ = (got);                                \
		const char *check_w_ = (want);                               \
		check_count++;                                               \
		if (!check_g_ || strcmp(check_g_, check_w_) != 0) {          \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", \
			        __FILE__, __LINE__, #got,                    \
			        check_g_ ? check_g_ : "(null)", check_w_);   \
		}                                                            \
	} while (0)

/* Substring check: `hay` must contain `needle`. */
#define CHECK_CONTAINS(hay, needle)                                          \
	do {                                                                 \
		const char *check_h_ = (hay);                                \
		check_count++;                                               \
		if (!check_h_ || !strstr(check_h_, (needle))) {              \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n",      \
			        __FILE__, __LINE__,                          \
			        check_h_ ? check_h_ : "(null)", (needle));   \
		}                                                            \
	} while (0)

static inline int
check_finish(void)
{
	printf("%d checks, %d failed\n", check_count, check_failures);
	if (check_count == 0) {
		fprintf(stderr, "no checks ran\n");
		return 1;
	}
	return check_failures ? 1 : 0;
}

#endif
