/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The provider registry: which well-known mail services a host name
 * belongs to, their display names, and what the classifier may assume
 * about their refusals.
 */
#include "proto/provider.h"

#include <string.h>

#include "core/text.h"

#define MAX_DOMAINS 10

struct provider {
	const char *id;
	const char *name;
	/*
	 * 1 when the provider never accepts the account password over IMAP or
	 * SMTP and never says so itself: its bare "invalid credentials" then
	 * means "use an app password", which is what the user must do.
	 */
	int app_password_only;
	const char *domains[MAX_DOMAINS]; /* the host ends in one of these */
};

/*
 * Which providers are app_password_only, and why (see the corpus rows):
 *   Yahoo and AOL (one platform): third-party apps need a generated app
 *     password, and both a wrong account password and a wrong app password
 *     get the same [AUTHENTICATIONFAILED] text (R011, R136).
 *   iCloud: the Apple Account password is never accepted; an app-specific
 *     password is mandatory and the refusal text is generic (R016).
 *   Fastmail: IMAP and SMTP take app passwords only (R065).
 * Not app_password_only, although they offer app passwords:
 *   Gmail says so explicitly when one is needed (534-5.7.9 "Application-
 *     specific password required", [ALERT] texts), so its bare 5.7.8
 *     BadCredentials really is a wrong password (R005).
 *   Microsoft 365 / Outlook.com: app passwords go through the same basic
 *     authentication path that tenants switch off, so advising one would
 *     mislead (R018, R020, R024).
 *   Zoho, GMX/WEB.DE, Yandex: the account password works unless 2-step
 *     verification is on, or the refusal also covers "IMAP disabled in the
 *     settings" (R014, R059, R127).
 */
static const struct provider providers[] = {
	{ "gmail", "Gmail", 0,
	  { "gmail.com", "googlemail.com", "google.com" } },
	{ "microsoft365", "Microsoft 365", 0,
	  { "office365.com", "outlook.cn", "office365.us" } },
	{ "outlook", "Outlook.com", 0,
	  { "outlook.com", "hotmail.com", "live.com" } },
	{ "yahoo", "Yahoo Mail", 1,
	  { "yahoo.com", "ymail.com" } },
	{ "aol", "AOL Mail", 1,
	  { "aol.com", "aim.com" } },
	{ "icloud", "iCloud Mail", 1,
	  { "me.com", "icloud.com", "mac.com" } },
	{ "fastmail", "Fastmail", 1,
	  { "fastmail.com", "fastmail.fm", "messagingengine.com" } },
	{ "zoho", "Zoho Mail", 0,
	  { "zoho.com", "zoho.eu", "zoho.in", "zoho.com.au", "zoho.jp",
	    "zohomail.com", "zoho.com.cn", "zohocloud.ca", "zoho.sa" } },
	{ "gmx", "GMX", 0,
	  { "gmx.net", "gmx.com", "gmx.de", "gmx.at", "gmx.ch", "gmx.co.uk",
	    "gmx.fr", "gmx.es" } },
	{ "webde", "WEB.DE", 0,
	  { "web.de" } },
	{ "ionos", "IONOS", 0,
	  { "ionos.com", "ionos.de", "ionos.co.uk", "ionos.fr", "ionos.es",
	    "ionos.it", "1and1.com", "1und1.de" } },
	{ "yandex", "Yandex Mail", 0,
	  { "yandex.com", "yandex.ru", "yandex.net" } },
	{ "qq", "QQ Mail", 0,
	  { "qq.com" } },
	{ "netease", "NetEase Mail", 0,
	  { "163.com", "126.com", "yeah.net", "188.com" } },
	{ "proton", "Proton Mail", 0,
	  { "protonmail.ch", "protonmail.com", "proton.me" } },
};

#define N_PROVIDERS (sizeof providers / sizeof providers[0])

static const struct provider *
provider_by_id(const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < N_PROVIDERS; i++)
		if (strcmp(providers[i].id, id) == 0)
			return &providers[i];
	return NULL;
}

const char *
mailconn__provider_from_host(const char *host)
{
	if (!host)
		return NULL;
	size_t n = 0;
	while (n < 256 && host[n])
		n++;
	if (n == 256)
		return NULL;
	if (n > 0 && host[n - 1] == '.')
		n--;
	for (size_t i = 0; i < N_PROVIDERS; i++) {
		for (size_t d = 0; d < MAX_DOMAINS; d++) {
			const char *dom = providers[i].domains[d];
			if (!dom)
				break;
			size_t k = strlen(dom);
			if (k > n)
				continue;
			/* Whole labels only: "notgmail.com" is not Gmail. */
			if (k < n && host[n - k - 1] != '.')
				continue;
			if (mailconn__ascii_ieq(host + n - k, k, dom))
				return providers[i].id;
		}
	}
	return NULL;
}

const char *
mailconn__provider_display_name(const char *provider)
{
	const struct provider *p = provider_by_id(provider);
	if (p)
		return p->name;
	return provider ? provider : "";
}

int
mailconn__provider_app_password_only(const char *provider)
{
	const struct provider *p = provider_by_id(provider);
	return p && p->app_password_only;
}
