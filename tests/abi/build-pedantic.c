/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public header must compile alone as strict C99 and stay usable. */
#include <mailconn.h>

int
main(void)
{
	mailconn_config *cfg = mailconn_config_new();
	int ok = cfg != 0 &&
	         mailconn_version_number() == MAILCONN_VERSION_NUMBER &&
	         mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, 993) == MAILCONN_OK;
	mailconn_config_free(cfg);
	return ok ? 0 : 1;
}
