/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Framing, transcript and failure records shared by the engines. */
#include "proto/pingpong.h"

#include <stdio.h>
#include <string.h>

/* A needle has at least 3 bytes and "[redacted]" 10, so scrubbing grows
 * text at most 10/3 times: four replies' worth is always enough. */
#define PP_MAX_SCRUBBED (4 * MAILCONN__MAX_REPLY)

int
mailconn__pp_init(struct mailconn__pp *pp, const struct mailconn__engine_params *p)
{
	memset(pp, 0, sizeof(*pp));
	pp->on_line = p->on_line;
	pp->line_userdata = p->line_userdata;
	pp->host = p->host;
	mailconn__buf_init(&pp->in, MAILCONN__MAX_LINE + 2);
	mailconn__buf_init(&pp->line, MAILCONN__MAX_LINE);
	mailconn__buf_init(&pp->scrubbed, PP_MAX_SCRUBBED);
	mailconn__scrub_init(&pp->secrets);
	if (mailconn__scrub_add(&pp->secrets, p->password) ||
	    mailconn__scrub_add(&pp->secrets, p->oauth2_token))
		return -1;
	return 0;
}

void
mailconn__pp_free(struct mailconn__pp *pp)
{
	mailconn__buf_free(&pp->in);
	mailconn__buf_free(&pp->line);
	mailconn__buf_free(&pp->scrubbed);
	mailconn__scrub_free(&pp->secrets);
}

size_t
mailconn__pp_take(struct mailconn__pp *pp, const char *data, size_t len)
{
	size_t take = pp->in.limit - pp->in.len;
	if (take > len)
		take = len;
	if (take && mailconn__buf_append(&pp->in, data, take))
		return 0;
	return take;
}

enum mailconn__pp_line
mailconn__pp_next_line(struct mailconn__pp *pp, int strict, const char **line,
                       size_t *len)
{
	size_t end = SIZE_MAX;
	size_t i = pp->scanned;
	while (i < pp->in.len) {
		const char *lf = memchr(pp->in.data + i, '\n', pp->in.len - i);
		if (!lf)
			break;
		size_t at = (size_t)(lf - pp->in.data);
		if (at > 0 && pp->in.data[at - 1] == '\r') {
			end = at - 1;
			break;
		}
		if (strict)
			return MAILCONN__PP_BARE_LF;
		i = at + 1;
	}
	if (end == SIZE_MAX) {
		pp->scanned = pp->in.len;
		return pp->in.len >= pp->in.limit ? MAILCONN__PP_TOO_LONG
		                                  : MAILCONN__PP_MORE;
	}
	/* A copy, because handling the line may drop the input it came from. */
	mailconn__buf_clear(&pp->line);
	if (mailconn__buf_append(&pp->line, pp->in.data, end))
		return MAILCONN__PP_NOMEM;
	mailconn__buf_consume(&pp->in, end + 2);
	pp->scanned = 0;
	*line = pp->line.data ? pp->line.data : "";
	*len = pp->line.len;
	return MAILCONN__PP_LINE;
}

void
mailconn__pp_drop_input(struct mailconn__pp *pp)
{
	mailconn__buf_clear(&pp->in);
	pp->scanned = 0;
}

void
mailconn__pp_report(const struct mailconn__pp *pp, mailconn_direction dir,
                    const char *s, size_t n)
{
	if (pp->on_line)
		pp->on_line(pp->line_userdata, dir, s, n);
}

void
mailconn__pp_scrub(const struct mailconn__pp *pp, const char *s, size_t n,
                   struct mailconn__buf *dst)
{
	mailconn__buf_clear(dst);
	(void)mailconn__scrub_apply(&pp->secrets, s, n, dst);
}

void
mailconn__pp_report_received(struct mailconn__pp *pp, const char *s, size_t n)
{
	mailconn__pp_scrub(pp, s, n, &pp->scrubbed);
	mailconn__pp_report(pp, MAILCONN_DIR_RECEIVED,
	                    pp->scrubbed.data ? pp->scrubbed.data : "",
	                    pp->scrubbed.len);
	mailconn__buf_clear(&pp->scrubbed);
}

void
mailconn__pp_record(struct mailconn__pp *pp, mailconn_stage stage,
                    enum mailconn__step step, mailconn_error outcome,
                    mailconn_cause cause, const char *reply, size_t reply_len,
                    const char *fmt, va_list ap)
{
	struct mailconn__failure *f = &pp->failure;

	f->stage = stage;
	f->step = step;
	f->outcome = outcome;
	f->cause = cause;
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);

	f->reply[0] = '\0';
	if (!reply || !reply_len)
		return;
	mailconn__pp_scrub(pp, reply, reply_len, &pp->scrubbed);
	size_t n = pp->scrubbed.len;
	if (n > sizeof(f->reply) - 1) {
		n = sizeof(f->reply) - 1;
		for (int k = 0; k < 3 && n > 0 &&
		     ((unsigned char)pp->scrubbed.data[n] & 0xC0) == 0x80; k++)
			n--;
	}
	/* A NUL would hide the rest of the reply. */
	for (size_t i = 0; i < n; i++)
		f->reply[i] = pp->scrubbed.data[i] ? pp->scrubbed.data[i] : '?';
	f->reply[n] = '\0';
	mailconn__buf_clear(&pp->scrubbed);
}

void
mailconn__pp_judge(const struct mailconn__pp *pp, mailconn_protocol protocol,
                   enum mailconn__step step, const char *reply,
                   size_t reply_len, int tls_active, const char *mechanism,
                   struct mailconn__classification *out)
{
	struct mailconn__classify_input in = {
		.protocol = protocol,
		.step = step,
		.reply = reply ? reply : "",
		.reply_len = reply_len,
		.host = pp->host,
		.tls_active = tls_active,
		.mechanism = mechanism,
		.other_protocol_auth_ok = -1,
	};
	out->outcome = MAILCONN_OK;
	out->cause = MAILCONN_CAUSE_NONE;
	out->provider = NULL;
	mailconn__classify(&in, out);
}

void
mailconn__pp_plus_unproven(struct mailconn__failure *f, mailconn_error outcome)
{
	if (f->outcome != MAILCONN_UNAUTHORIZED)
		return;
	f->outcome = outcome;
	size_t n = strlen(f->detail);
	snprintf(f->detail + n, sizeof(f->detail) - n, "; the server may not "
	         "support the channel binding of SCRAM-SHA-256-PLUS, so this "
	         "does not prove the password wrong");
}
