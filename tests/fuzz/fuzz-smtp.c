/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the SMTP engine (reply parser, stages 3-5) facing a hostile
 * server. Input: [options byte][split byte] then the server's bytes. */
#include "driver.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_one_engine(MAILCONN_PROTOCOL_SMTP, data, size);
	return 0;
}
