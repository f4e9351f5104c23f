/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Well-known mail providers, recognised by host name (provider.c). */
#ifndef MAILCONN_PROTO_PROVIDER_H
#define MAILCONN_PROTO_PROVIDER_H

/* Recognise a provider from a host name ("imap.gmail.com" -> "gmail");
 * NULL when unknown. */
const char *mailconn__provider_from_host(const char *host);
/* Human name of a provider id ("gmail" -> "Gmail"). */
const char *mailconn__provider_display_name(const char *provider);
/* 1 when the provider takes app passwords only and does not say so in
 * its refusals (see the registry for which, and why); 0 otherwise and
 * for NULL or unknown ids. */
int mailconn__provider_app_password_only(const char *provider);

#endif
