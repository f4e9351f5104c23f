/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD shim: getaddrinfo() for names ending in ".slow.test" takes a
 * second and then finds nothing, as a resolver behind a dead DNS server
 * would. Everything else goes to the real function. It lets a test show
 * that mailconn_session_step() never waits for DNS.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <time.h>

typedef int (*getaddrinfo_fn)(const char *, const char *,
                              const struct addrinfo *, struct addrinfo **);

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
            struct addrinfo **res)
{
	static getaddrinfo_fn real;
	if (!real)
		real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	size_t n = node ? strlen(node) : 0;
	int numeric_only = hints && (hints->ai_flags & AI_NUMERICHOST);
	if (!numeric_only && n >= 10 && strcmp(node + n - 10, ".slow.test") == 0) {
		struct timespec second = { 1, 0 };
		nanosleep(&second, NULL);
		return EAI_NONAME;
	}
	return real(node, service, hints, res);
}
