/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of protocol steps, shared by the engines, classifier and tests. */
#include "proto/engine.h"

#include <strings.h>

static const char *const step_names[MAILCONN__STEP_COUNT_] = {
	[MAILCONN__STEP_NONE] = "none",
	[MAILCONN__STEP_GREETING] = "greeting",
	[MAILCONN__STEP_CAPABILITY] = "capability",
	[MAILCONN__STEP_STARTTLS] = "starttls",
	[MAILCONN__STEP_LOGIN] = "login",
	[MAILCONN__STEP_AUTHENTICATE] = "authenticate",
	[MAILCONN__STEP_SELECT] = "select",
	[MAILCONN__STEP_LOGOUT] = "logout",
	[MAILCONN__STEP_MAIL_FROM] = "mail_from",
	[MAILCONN__STEP_RCPT_TO] = "rcpt_to",
	[MAILCONN__STEP_DATA] = "data",
	[MAILCONN__STEP_END_OF_DATA] = "end_of_data",
};

const char *
mailconn__step_name(enum mailconn__step step)
{
	if ((unsigned)step >= MAILCONN__STEP_COUNT_)
		return "none";
	return step_names[step];
}

enum mailconn__step
mailconn__step_from_name(const char *name)
{
	if (!name)
		return MAILCONN__STEP_NONE;
	for (unsigned i = 1; i < MAILCONN__STEP_COUNT_; i++)
		if (strcasecmp(name, step_names[i]) == 0)
			return (enum mailconn__step)i;
	return MAILCONN__STEP_NONE;
}
