/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/outcome.h"

mailconn_error
mailconn__stage_outcome(mailconn_protocol protocol, mailconn_stage stage)
{
	switch (stage) {
	case MAILCONN_STAGE_IMAP_CONNECT:
		return MAILCONN_IMAP_SETTINGS;
	case MAILCONN_STAGE_IMAP_LOGIN:
		return MAILCONN_IMAP_VALIDATION;
	case MAILCONN_STAGE_SMTP_CONNECT:
	case MAILCONN_STAGE_SMTP_LOGIN:
		return MAILCONN_SMTP_SETTINGS;
	case MAILCONN_STAGE_TEST_SEND:
		return MAILCONN_TEST_SEND;
	default:
		return protocol == MAILCONN_PROTOCOL_IMAP ? MAILCONN_IMAP_SETTINGS
		                                          : MAILCONN_SMTP_SETTINGS;
	}
}
