/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded buffer must refuse growth past its limit and keep the
 * terminator right through appends and consumes. */
#include "check.h"
#include "core/buf.h"

int
main(void)
{
	struct mailconn__buf b;
	mailconn__buf_init(&b, 10);
	CHECK_INT(mailconn__buf_append_str(&b, "hello"), 0);
	CHECK_STR(b.data, "hello");
	CHECK_INT(mailconn__buf_append_str(&b, "world"), 0);
	CHECK_INT(b.len, 10);
	CHECK_INT(mailconn__buf_append(&b, "x", 1), -2);
	CHECK_INT(b.len, 10);
	mailconn__buf_consume(&b, 3);
	CHECK_STR(b.data, "loworld");
	CHECK_INT(mailconn__buf_printf(&b, "%d", 123), 0);
	CHECK_STR(b.data, "loworld123");
	CHECK_INT(mailconn__buf_printf(&b, "%d", 4), -2);
	mailconn__buf_consume(&b, 100);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	mailconn__buf_free(&b);
	CHECK(b.data == NULL);

	/* Growth across many appends keeps every byte. */
	mailconn__buf_init(&b, 100000);
	for (int i = 0; i < 10000; i++)
		CHECK_INT(mailconn__buf_append(&b, "0123456789" + (i % 10), 1), 0);
	CHECK_INT(b.len, 10000);
	CHECK(b.data[9999] == '9' && b.data[10000] == '\0');
	mailconn__buf_free(&b);
	return check_finish();
}
