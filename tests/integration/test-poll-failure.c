/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mailconn_session_run() when its own poll() fails (the failing-poll shim
 * preloaded, MAILCONN_FAIL_POLL=ENOMEM or EINVAL): the run must end with
 * MAILCONN_E_SYSTEM, as outcome and return value, cause
 * MAILCONN_CAUSE_SYSTEM, and stage 1 must not count as passed. Before
 * MAILCONN_1.1 run() returned MAILCONN_OK here: a check that never ran
 * reported success.
 *
 * The server is a loopback listener that is never accepted, so the session
 * really has to wait (for a greeting that never comes); the stage timeout
 * is short so that a run() that retried forever would still end.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mailconn.h>

#include "../unit/check.h"
#include "silent-server.h"

int
main(void)
{
	const char *mode = getenv("MAILCONN_FAIL_POLL");
	if (!mode) {
		fprintf(stderr, "MAILCONN_FAIL_POLL is not set: run with the "
		        "failing-poll shim preloaded (meson test poll-failure-*)\n");
		return 1;
	}
	/* The shim is really in the way: poll() itself fails here too. */
	errno = 0;
	CHECK_INT(poll(NULL, 0, 0), -1);
	CHECK_INT(errno, strcmp(mode, "EINVAL") == 0 ? EINVAL : ENOMEM);

	int port;
	int listener = silent_server(&port);
	mailconn_config *cfg = mailconn_config_new();
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_EMAIL, "ann@example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD, "secret-pw"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_BCC, "bcc@example.com"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_IMAP_HOST, "127.0.0.1"), 0);
	CHECK_INT(mailconn_config_set_string(cfg, MAILCONN_OPT_SMTP_HOST, "127.0.0.1"), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_PORT, port), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_IMAP_SECURITY,
	                                  MAILCONN_SECURITY_STARTTLS), 0);
	CHECK_INT(mailconn_config_set_int(cfg, MAILCONN_OPT_STAGE_TIMEOUT_MS, 2000), 0);
	mailconn_session *s = NULL;
	CHECK_INT(mailconn_session_new(cfg, &s), MAILCONN_OK);
	mailconn_config_free(cfg);
	if (!s)
		return check_finish();

	mailconn_error rc = mailconn_session_run(s);
	printf("run() under failing poll (%s): %s (%d), outcome %s, cause %s, "
	       "stage %d, stage 1 passed %d\n", mode, mailconn_error_name(rc),
	       (int)rc, mailconn_error_name(mailconn_session_outcome(s)),
	       mailconn_cause_name(mailconn_session_cause(s)),
	       (int)mailconn_session_stage(s),
	       mailconn_session_stage_passed(s, MAILCONN_STAGE_IMAP_CONNECT));
	CHECK(rc != MAILCONN_OK);
	CHECK_INT(rc, MAILCONN_E_SYSTEM);
	CHECK_INT(mailconn_session_outcome(s), MAILCONN_E_SYSTEM);
	CHECK_INT(mailconn_session_cause(s), MAILCONN_CAUSE_SYSTEM);
	CHECK(mailconn_session_stage_passed(s, MAILCONN_STAGE_IMAP_CONNECT) != 1);
	/* No later stage ran, let alone passed. */
	for (int st = MAILCONN_STAGE_IMAP_LOGIN; st <= MAILCONN_STAGE_TEST_SEND; st++)
		CHECK(mailconn_session_stage_passed(s, (mailconn_stage)st) != 1);
	mailconn_session_free(s);
	close(listener);
	return check_finish();
}
