/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one crypto helper that needs no library (see crypto.h). */
#include "core/crypto.h"

int
mailconn__mem_equal_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	return diff == 0;
}
