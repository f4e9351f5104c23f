/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compiles against the subproject's header (generated version macros
 * included) and links and runs against its library. */
#include <stdio.h>
#include <string.h>

#include <mailconn.h>

int
main(void)
{
	mailconn_config *cfg = mailconn_config_new();
	int ok = cfg != NULL &&
	         mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST,
	                                    "imap.example.com") == MAILCONN_OK &&
	         strcmp(mailconn_version(), MAILCONN_VERSION_STRING) == 0 &&
	         mailconn_version_number() == MAILCONN_VERSION_NUMBER;
	mailconn_config_free(cfg);
	printf("%s: libmailconn %s\n", ok ? "ok" : "FAILED", mailconn_version());
	return ok ? 0 : 1;
}
