/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * glib-check: drive one check from a GLib main loop, as the account dialog
 * of a GTK mail client (Evolution, Geary) would, without blocking the UI.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib-unix.h>

#include <mailconn.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/*
 * What the dialog keeps while a check runs. The two source ids are the
 * only loop state: at most one fd watch and one timer exist at any time,
 * and both are replaced after every step.
 */
struct check {
	mailconn_session *session;
	GMainLoop *loop;
	guint fd_source;
	guint timer_source;
	gboolean cancelled;
};

static void watch(struct check *c);

static void
unwatch(struct check *c)
{
	if (c->fd_source) {
		g_source_remove(c->fd_source);
		c->fd_source = 0;
	}
	if (c->timer_source) {
		g_source_remove(c->timer_source);
		c->timer_source = 0;
	}
}

/*
 * Both sources lead here. The old watches go first: the step may move the
 * session to another fd, and the old fd is closed at the start of the
 * following step, so it must not stay registered with the loop.
 */
static void
advance(struct check *c)
{
	unwatch(c);
	if (mailconn_session_step(c->session) == MAILCONN_DONE)
		g_main_loop_quit(c->loop);
	else
		watch(c);
}

static gboolean
on_fd_ready(gint fd, GIOCondition condition, gpointer data)
{
	struct check *c = data;
	(void)fd;
	(void)condition;        /* the step itself finds out what happened */
	c->fd_source = 0;       /* removed by returning G_SOURCE_REMOVE */
	advance(c);
	return G_SOURCE_REMOVE;
}

static gboolean
on_timeout(gpointer data)
{
	struct check *c = data;
	c->timer_source = 0;
	advance(c);
	return G_SOURCE_REMOVE;
}

/*
 * Register what the session asked for after its last step: its fd for the
 * requested directions (ERR and HUP too, so a dropped connection wakes us
 * even while we only wait to write) and a timer. A timeout of 0 means
 * "step again now", e.g. when TLS already holds decrypted data that no fd
 * event would announce; a 0 ms GLib timeout fires on the next iteration.
 */
static void
watch(struct check *c)
{
	int fd = mailconn_session_fd(c->session);
	unsigned events = mailconn_session_events(c->session);
	int timeout = mailconn_session_timeout_ms(c->session);

	if (fd >= 0 && events != 0) {
		GIOCondition cond = G_IO_ERR | G_IO_HUP;
		if (events & MAILCONN_WAIT_READ)
			cond |= G_IO_IN;
		if (events & MAILCONN_WAIT_WRITE)
			cond |= G_IO_OUT;
		c->fd_source = g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, cond,
		                                  on_fd_ready, c, NULL);
	}
	if (timeout >= 0)
		c->timer_source = g_timeout_add((guint)timeout, on_timeout, c);
}

/* Stands in for the dialog's Cancel button: stop watching, leave the loop,
 * and let main() free the session, which closes the connection. */
static gboolean
on_cancel(gpointer data)
{
	struct check *c = data;
	unwatch(c);
	c->cancelled = TRUE;
	g_main_loop_quit(c->loop);
	return G_SOURCE_REMOVE;
}

/*
 * The progress callback is what a dialog turns into ticks next to the five
 * stages. It runs inside mailconn_session_step(), so it may update widgets
 * (same thread) but must not step or free the session.
 */
static void
on_progress(void *userdata, mailconn_stage stage, int finished,
            mailconn_error outcome)
{
	(void)userdata;
	printf("stage %d %s: ", (int)stage, mailconn_stage_name(stage));
	if (!finished)
		puts("started");
	else if (outcome == MAILCONN_OK)
		puts("passed");
	else
		printf("failed (%s)\n", mailconn_error_name(outcome));
	fflush(stdout);
}

static int
parse_security(const char *value, gint64 *out)
{
	static const char *const names[] = { "auto", "tls", "starttls", "plain" };
	for (int i = 0; i < 4; i++) {
		if (g_ascii_strcasecmp(value, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* "--smtp-port 587" -> MAILCONN_OPT_SMTP_PORT = 587, by the library's own
 * option names. "--password-env VAR" reads the password from VAR. */
static int
apply_option(mailconn_config *cfg, const char *flag, const char *value)
{
	if (strcmp(flag, "password-env") == 0) {
		const char *password = getenv(value);
		if (!password) {
			fprintf(stderr, "glib-check: --password-env: %s is not set\n",
			        value);
			return -1;
		}
		if (mailconn_config_set_string(cfg, MAILCONN_OPT_PASSWORD,
		                               password) != MAILCONN_OK)
			goto invalid;
		return 0;
	}

	char *name = g_strdelimit(g_strdup(flag), "-", '_');
	int id = mailconn_option_from_name(name);
	g_free(name);
	if (id < 0) {
		fprintf(stderr, "glib-check: --%s: unknown option\n", flag);
		return -1;
	}
	if (id == MAILCONN_OPT_PASSWORD || id == MAILCONN_OPT_SMTP_PASSWORD ||
	    id == MAILCONN_OPT_OAUTH2_TOKEN) {
		/* Anyone on the machine can read another process's argv. */
		fprintf(stderr, "glib-check: --%s: secrets are not taken from "
		        "the command line, use --password-env\n", flag);
		return -1;
	}
	if (id < 100) {
		if (mailconn_config_set_string(cfg, (mailconn_option)id,
		                               value) != MAILCONN_OK)
			goto invalid;
		return 0;
	}

	gint64 n;
	if (id == MAILCONN_OPT_IMAP_SECURITY || id == MAILCONN_OPT_SMTP_SECURITY) {
		if (parse_security(value, &n) != 0) {
			fprintf(stderr, "glib-check: --%s: expected auto, tls, "
			        "starttls or plain\n", flag);
			return -1;
		}
	} else if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64,
	                                     &n, NULL)) {
		fprintf(stderr, "glib-check: --%s: not a number: %s\n", flag,
		        value);
		return -1;
	}
	if (mailconn_config_set_int(cfg, (mailconn_option)id, n) != MAILCONN_OK)
		goto invalid;
	return 0;

invalid:
	fprintf(stderr, "glib-check: %s\n", mailconn_config_error(cfg));
	return -1;
}

int
main(int argc, char **argv)
{
	struct check c = { 0 };
	int status = EXIT_USAGE;

	mailconn_config *cfg = mailconn_config_new();
	if (!cfg)
		return EXIT_USAGE;
	for (int i = 1; i < argc; i += 2) {
		if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr, "usage: glib-check --email ADDR "
			        "--password-env VAR --imap-host HOST ... "
			        "(any option as --name VALUE)\n");
			mailconn_config_free(cfg);
			return EXIT_USAGE;
		}
		if (apply_option(cfg, argv[i] + 2, argv[i + 1]) != 0) {
			mailconn_config_free(cfg);
			return EXIT_USAGE;
		}
	}
	mailconn_config_set_progress(cfg, on_progress, &c);

	mailconn_error rc = mailconn_session_new(cfg, &c.session);
	if (rc != MAILCONN_OK) {
		char why[256];
		mailconn_config_check(cfg, why, sizeof why);
		fprintf(stderr, "glib-check: %s: %s\n", mailconn_error_name(rc), why);
		mailconn_config_free(cfg);
		return EXIT_USAGE;
	}
	mailconn_config_free(cfg);     /* the session has its own copy */

	/*
	 * A dialog would start here when the user presses "Continue". The
	 * first step is scheduled like any other, so the dialog returns to
	 * the loop at once and nothing is sent from inside the click handler.
	 */
	c.loop = g_main_loop_new(NULL, FALSE);
	c.timer_source = g_timeout_add(0, on_timeout, &c);
	guint sigint = g_unix_signal_add(SIGINT, on_cancel, &c);
	g_main_loop_run(c.loop);
	g_source_remove(sigint);

	if (c.cancelled) {
		puts("result: cancelled");
		status = EXIT_FAILED;
	} else {
		const mailconn_session *s = c.session;
		mailconn_error outcome = mailconn_session_outcome(s);
		if (outcome == MAILCONN_OK) {
			puts("result: OK");
			status = 0;
		} else {
			printf("result: %s at %s (%s)\n", mailconn_error_name(outcome),
			       mailconn_stage_name(mailconn_session_stage(s)),
			       mailconn_cause_name(mailconn_session_cause(s)));
			printf("hint: %s\n", mailconn_session_hint(s));
			status = EXIT_FAILED;
		}
	}

	/* Safe at any point, also in the middle of a cancelled check. */
	mailconn_session_free(c.session);
	g_main_loop_unref(c.loop);
	return status;
}
