/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session's state, shared by the state machine (session.c) and the
 * result a caller reads (report.c). Nothing outside those two files
 * looks inside a session.
 */
#ifndef MAILCONN_SESSION_H
#define MAILCONN_SESSION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/scrub.h"
#include "link.h"
#include "plan.h"

#define N_STAGES 6               /* index 1..5; 0 unused */
#define N_FACTS 9
/* What the sanitiser may keep of a text; its "..." mark fills the rest
 * of the public bound. */
#define MAX_SHOWN (MAILCONN_TEXT_MAX - 3)
#define NEVER INT64_MAX

enum phase {
	PHASE_NEW,
	PHASE_RUNNING,
	PHASE_DONE
};

enum track_state {
	TRACK_IDLE,
	TRACK_RUNNING,
	TRACK_HELD,                  /* SMTP logged in, waiting for IMAP */
	TRACK_DONE,
	TRACK_FAILED
};

struct stage_record {
	int passed;                  /* -1 not run, 0 failed, 1 passed */
	int64_t started_ms;
	int64_t ms;
	char *facts[N_FACTS];
};

struct mailconn_session;

/* One protocol's connection and the stages it runs. */
struct track {
	struct mailconn_session *session;
	mailconn_protocol protocol;
	void *link;                  /* the connection, while open */
	enum track_state state;
	mailconn_stage stage;        /* running (or failed) stage */
	int64_t stage_deadline;
	struct mailconn__failure *failure;   /* set when FAILED */
};

struct mailconn_session {
	struct mailconn__plan plan;
	struct mailconn__session_hooks hooks;
	int epoll_fd;
	int cancel_fd;               /* eventfd in the epoll set: wakes the caller */
	atomic_int cancel_requested;

	mailconn_session_progress_fn progress;
	void *progress_userdata;
	mailconn_session_transcript_fn transcript;
	void *transcript_userdata;
	/* The config's callbacks, used when no per-session one is set. */
	mailconn_progress_fn config_progress;
	void *config_progress_userdata;
	mailconn_transcript_fn config_transcript;
	void *config_transcript_userdata;

	enum phase phase;
	struct track imap, smtp;
	int64_t overall_deadline;
	struct stage_record stages[N_STAGES];

	struct mailconn__buf message;
	struct mailconn__buf message_id;

	mailconn_error outcome;
	mailconn_stage final_stage;
	mailconn_cause cause;
	mailconn_protocol failed_protocol;
	struct mailconn__buf reply, detail, hint, line;
	/* The hint's row as "OUTCOME.CAUSE[.provider]", and the provider the
	 * failure or the host name revealed (static id, or NULL). */
	char hint_id[96];
	const char *provider;
	/* The secrets, raw and as base64, to strip from anything a server
	 * says before it is shown: servers quote failed commands back. */
	struct mailconn__scrub secrets;
};

/* Server text for a caller: secrets out, sanitised (core/scrub.h). */
void mailconn__session_show(struct mailconn_session *s, const char *text,
                            size_t len, int keep_newlines, size_t max,
                            struct mailconn__buf *out);
/* Record a fact of a stage, shown safely; empty values are not kept. */
void mailconn__session_set_fact(struct mailconn_session *s, mailconn_stage stage,
                                mailconn_fact fact, const char *value);
/* Fill the result (outcome, cause, reply, detail, hint) from the failure
 * that decided the check. */
void mailconn__session_report(struct mailconn_session *s,
                              const struct mailconn__failure *f,
                              mailconn_protocol protocol);

#endif
