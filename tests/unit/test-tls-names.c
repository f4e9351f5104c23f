/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Certificate name matching follows RFC 9525, stricter than GnuTLS's own:
 * a wildcard only as the whole left-most label, never partial, never for
 * a top-level domain or an IP address. */
#include "check.h"
#include "tls.h"

int
main(void)
{
	CHECK_INT(mailconn__tls_name_matches("imap.example.com", "imap.example.com"), 1);
	CHECK_INT(mailconn__tls_name_matches("IMAP.Example.com", "imap.example.com"), 1);
	CHECK_INT(mailconn__tls_name_matches("imap.example.com.", "imap.example.com"), 1);
	CHECK_INT(mailconn__tls_name_matches("imap.example.com", "smtp.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("*.example.com", "imap.example.com"), 1);
	/* A wildcard covers exactly one label. */
	CHECK_INT(mailconn__tls_name_matches("*.example.com", "a.b.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("*.example.com", "example.com"), 0);
	/* Partial wildcards and wildcards elsewhere are refused. */
	CHECK_INT(mailconn__tls_name_matches("*ap.example.com", "imap.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("im*.example.com", "imap.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("imap.*.com", "imap.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("xn--*.example.com", "xn--bcher-kva.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("*.*.example.com", "a.b.example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("*.com", "example.com"), 0);
	CHECK_INT(mailconn__tls_name_matches("*", "localhost"), 0);
	CHECK_INT(mailconn__tls_name_matches("*.0.0.1", "127.0.0.1"), 0);
	/* IDN names compare in A-label form. */
	CHECK_INT(mailconn__tls_name_matches("xn--bcher-kva.example", "xn--bcher-kva.example"), 1);
	CHECK_INT(mailconn__tls_name_matches("", "example.com"), 0);
	return check_finish();
}
