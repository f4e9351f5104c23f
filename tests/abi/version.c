/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The header's version macros and the library's runtime version must be
 * the project version meson was given (argv[1]): one release number,
 * whichever way a program asks for it.
 */
#include <stdio.h>
#include <string.h>

#include <mailconn.h>

static int failures;

static void
expect_uint(const char *what, unsigned long got, unsigned long want)
{
	if (got != want) {
		fprintf(stderr, "%s is %lu, the project version says %lu\n", what,
		        got, want);
		failures++;
	}
}

static void
expect_str(const char *what, const char *got, const char *want)
{
	if (!got || strcmp(got, want) != 0) {
		fprintf(stderr, "%s is \"%s\", the project version is \"%s\"\n",
		        what, got ? got : "(null)", want);
		failures++;
	}
}

int
main(int argc, char **argv)
{
	unsigned major, minor, patch;
	char end;
	if (argc != 2 || sscanf(argv[1], "%u.%u.%u%c", &major, &minor, &patch,
	                        &end) != 3) {
		fprintf(stderr, "usage: version MAJOR.MINOR.PATCH\n");
		return 2;
	}
	unsigned long number = ((unsigned long)major << 16) | (minor << 8) | patch;
	expect_uint("MAILCONN_VERSION_MAJOR", MAILCONN_VERSION_MAJOR, major);
	expect_uint("MAILCONN_VERSION_MINOR", MAILCONN_VERSION_MINOR, minor);
	expect_uint("MAILCONN_VERSION_PATCH", MAILCONN_VERSION_PATCH, patch);
	expect_uint("MAILCONN_VERSION_NUMBER", MAILCONN_VERSION_NUMBER, number);
	expect_str("MAILCONN_VERSION_STRING", MAILCONN_VERSION_STRING, argv[1]);
	expect_str("mailconn_version()", mailconn_version(), argv[1]);
	expect_uint("mailconn_version_number()", mailconn_version_number(), number);
	if (!failures)
		printf("ok: header and library are version %s\n", argv[1]);
	return failures ? 1 : 0;
}
