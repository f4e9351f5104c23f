/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the classifier: the view of a reply that classify-read.c builds
 * and the rules in classify.c read. Nothing else includes this.
 */
#ifndef MAILCONN_PROTO_CLASSIFY_INT_H
#define MAILCONN_PROTO_CLASSIFY_INT_H

#include <stddef.h>

#include "proto/classify.h"
#include "proto/sniff.h"

enum imap_status { ST_NONE = 0, ST_OK, ST_NO, ST_BAD, ST_BYE, ST_PREAUTH };

#define MAX_CODES 16
#define CODE_LEN 32

struct view {
	/* IMAP */
	enum imap_status status;   /* tagged line's, else BYE or untagged */
	char codes[MAX_CODES][CODE_LEN]; /* [ATOM] of every status line */
	size_t ncodes;
	int cap_listed, cap_rev1, cap_logindisabled, cap_usable_auth;
	/* SMTP */
	int basic;                 /* reply code of the last line, -1: none */
	int esc[3];                /* first enhanced code; esc[0] -1: none */
	int ehlo_auth_listed, ehlo_usable_mech, ehlo_starttls;
	/* Both */
	enum mailconn__wire first; /* what the first line looks like */
	/*
	 * Every line's text, joined by one space: ASCII lower-cased, control
	 * bytes (NUL included) and hyphens made spaces, runs of blanks
	 * collapsed, other bytes kept. SMTP reply codes are left out. Phrases
	 * are matched here, so they are written the same way.
	 */
	char text[MAILCONN__MAX_REPLY + 1];
	size_t text_len;
};

static inline int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Read `reply` (see struct mailconn__classify_input) into `v`. */
void mailconn__view_read(struct view *v, mailconn_protocol proto,
                         const char *reply, size_t len);
/* Does the reply text hold `phrase` (written as struct view says)?
 * Phrases match at the start of a word (or anywhere, for a phrase that
 * does not start with a letter or digit). */
int mailconn__view_has(const struct view *v, const char *phrase);

#endif
