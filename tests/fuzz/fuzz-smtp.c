/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the SMTP engine (reply parser, stages 3-5) facing a hostile
 * server. Input: [options byte][split byte] then the server's bytes. */
#include "driver.h"

/* Split byte: 0 feeds line by line, 255 everything at once, n n bytes at
 * a time. Line by line keeps a STARTTLS reply apart from what follows. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_options o;

	if (size < 2)
		return 0;
	fz_options_from_byte(&o, MAILCONN_PROTOCOL_SMTP, data[0]);
	struct fz_stream in = {
		data + 2, size - 2,
		data[1] == 0 ? FZ_SPLIT_LINES : FZ_SPLIT_FIXED,
		data[1] == 255 ? 0 : data[1],
	};
	o.tainted = fz_tainted(in.p, in.n, o.creds);
	fz_run(&o, &in);
	return 0;
}
