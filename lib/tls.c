/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GnuTLS client sessions with strict verification (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* TLS 1.2 is the floor (RFC 8997); GnuTLS's NORMAL alone still allows
 * TLS 1.0 and 1.1. */
static const char tls_priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

struct mailconn__tls {
	gnutls_session_t session;
	int fd;
	int last_error;              /* the GnuTLS code behind TLS_FAILED */
	char first[16];
	size_t first_len;
	gnutls_datum_t binding;
};

/* Trust: the system store plus an optional CA file and directory. */
static int
load_credentials(gnutls_certificate_credentials_t *out, const char *ca_file,
                 const char *ca_path, char *detail, size_t detail_size,
                 int *which)
{
	gnutls_certificate_credentials_t c;
	int rc = gnutls_certificate_allocate_credentials(&c);
	if (rc < 0) {
		snprintf(detail, detail_size, "GnuTLS: %s", gnutls_strerror(rc));
		return -1;
	}
	/* A system without a trust store can still verify against a CA file. */
	gnutls_certificate_set_x509_system_trust(c);
	if (ca_file) {
		rc = gnutls_certificate_set_x509_trust_file(c, ca_file,
		                                            GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			snprintf(detail, detail_size, "CA file %s holds no usable "
			         "certificate (%s)", ca_file,
			         rc < 0 ? gnutls_strerror(rc) : "empty");
			*which = 1;
			gnutls_certificate_free_credentials(c);
			return -1;
		}
	}
	if (ca_path) {
		rc = gnutls_certificate_set_x509_trust_dir(c, ca_path,
		                                           GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			snprintf(detail, detail_size, "CA directory %s: %s", ca_path,
			         gnutls_strerror(rc));
			*which = 2;
			gnutls_certificate_free_credentials(c);
			return -1;
		}
	}
	*out = c;
	return 0;
}

struct mailconn__trust {
	atomic_int refs;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t priority;  /* parsed once, not per connection */
};

struct mailconn__trust *
mailconn__trust_new(const char *ca_file, const char *ca_path, char *detail,
                    size_t detail_size, int *which)
{
	*which = 0;
	struct mailconn__trust *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(detail, detail_size, "out of memory");
		return NULL;
	}
	if (load_credentials(&t->creds, ca_file, ca_path, detail,
	                     detail_size, which) != 0) {
		free(t);
		return NULL;
	}
	int rc = gnutls_priority_init(&t->priority, tls_priority, NULL);
	if (rc < 0) {
		snprintf(detail, detail_size, "GnuTLS: %s", gnutls_strerror(rc));
		gnutls_certificate_free_credentials(t->creds);
		free(t);
		return NULL;
	}
	atomic_init(&t->refs, 1);
	return t;
}

struct mailconn__trust *
mailconn__trust_ref(struct mailconn__trust *t)
{
	if (t)
		atomic_fetch_add(&t->refs, 1);
	return t;
}

void
mailconn__trust_unref(struct mailconn__trust *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
		gnutls_priority_deinit(t->priority);
		gnutls_certificate_free_credentials(t->creds);
		free(t);
	}
}


/* Transport callbacks over the raw fd, so the first bytes can be kept for
 * the wrong-mode diagnosis. */
static ssize_t
tls_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct mailconn__tls *t = p;
	ssize_t n = recv(t->fd, buf, len, 0);
	if (n > 0 && t->first_len < sizeof t->first) {
		size_t keep = sizeof t->first - t->first_len;
		if (keep > (size_t)n)
			keep = (size_t)n;
		memcpy(t->first + t->first_len, buf, keep);
		t->first_len += keep;
	}
	if (n < 0)
		gnutls_transport_set_errno(t->session, errno);
	return n;
}

static ssize_t
tls_push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	struct mailconn__tls *t = p;
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
	if (n < 0)
		gnutls_transport_set_errno(t->session, errno);
	return n;
}

static int
is_ip_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

struct mailconn__tls *
mailconn__tls_new(int fd, const char *ascii_host,
                  const struct mailconn__trust *trust)
{
	struct mailconn__tls *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->fd = fd;
	if (gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
		free(t);
		return NULL;
	}
	if (gnutls_priority_set(t->session, trust->priority) < 0 ||
	    gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE,
	                           trust->creds) < 0 ||
	    (!is_ip_literal(ascii_host) &&
	     gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, ascii_host,
	                            strlen(ascii_host)) < 0)) {
		mailconn__tls_free(t);
		return NULL;
	}
	gnutls_transport_set_ptr(t->session, t);
	gnutls_transport_set_pull_function(t->session, tls_pull);
	gnutls_transport_set_push_function(t->session, tls_push);
	gnutls_handshake_set_timeout(t->session, 0);
	return t;
}

void
mailconn__tls_free(struct mailconn__tls *t)
{
	if (!t)
		return;
	gnutls_deinit(t->session);
	gnutls_free(t->binding.data);
	free(t);
}

/* The GnuTLS code is kept so mailconn__tls_fault can explain it later. */
static int
status_of(struct mailconn__tls *t, int rc)
{
	if (rc >= 0)
		return MAILCONN__TLS_DONE;
	if (rc == GNUTLS_E_AGAIN)
		return MAILCONN__TLS_AGAIN;
	t->last_error = rc;
	return MAILCONN__TLS_FAILED;
}

int
mailconn__tls_handshake(struct mailconn__tls *t)
{
	int rc;
	do {
		rc = gnutls_handshake(t->session);
	} while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
	return status_of(t, rc);
}

unsigned
mailconn__tls_wait(const struct mailconn__tls *t)
{
	return gnutls_record_get_direction(t->session) ? MAILCONN_WAIT_WRITE
	                                               : MAILCONN_WAIT_READ;
}

ssize_t
mailconn__tls_recv(struct mailconn__tls *t, void *buf, size_t len)
{
	ssize_t n;
	do {
		n = gnutls_record_recv(t->session, buf, len);
	} while (n == GNUTLS_E_INTERRUPTED);
	/* Many servers just close after their last reply; the stream still
	 * ended where they meant it to. */
	if (n >= 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
		return n >= 0 ? n : 0;
	return status_of(t, (int)n);
}

ssize_t
mailconn__tls_send(struct mailconn__tls *t, const void *buf, size_t len)
{
	ssize_t n;
	do {
		n = gnutls_record_send(t->session, buf, len);
	} while (n == GNUTLS_E_INTERRUPTED);
	return n >= 0 ? n : status_of(t, (int)n);
}

size_t
mailconn__tls_pending(const struct mailconn__tls *t)
{
	return gnutls_record_check_pending(t->session);
}

/* What a fatal alert from the server tells a user who can act on it. */
static enum mailconn__tls_fault_kind
alert_kind(const struct mailconn__tls *t, gnutls_alert_description_t alert)
{
	/* handshake_failure also answers a missing client certificate (TLS
	 * 1.2 servers send it); only our having been asked tells them apart. */
	int asked = gnutls_certificate_client_get_request_status(t->session) != 0;
	switch (alert) {
	case GNUTLS_A_HANDSHAKE_FAILURE:
		return asked ? MAILCONN__TLS_FAULT_ALERT_CLIENT_CERT
		             : MAILCONN__TLS_FAULT_ALERT_VERSION;
	case GNUTLS_A_PROTOCOL_VERSION:
	case GNUTLS_A_INSUFFICIENT_SECURITY:
		return MAILCONN__TLS_FAULT_ALERT_VERSION;
	case GNUTLS_A_CERTIFICATE_REQUIRED:
	case GNUTLS_A_BAD_CERTIFICATE:
		return MAILCONN__TLS_FAULT_ALERT_CLIENT_CERT;
	default:
		return MAILCONN__TLS_FAULT_ALERT;
	}
}

void
mailconn__tls_fault(const struct mailconn__tls *t,
                    struct mailconn__tls_fault *fault)
{
	int rc = t->last_error;
	fault->kind = MAILCONN__TLS_FAULT_OTHER;
	fault->alert = NULL;
	fault->text = gnutls_strerror(rc);
	switch (rc) {
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
	case GNUTLS_E_CERTIFICATE_REQUIRED: {
		/* GnuTLS reports a TLS 1.3 certificate_required alert as its own
		 * error code, not as the alert. */
		gnutls_alert_description_t alert =
			rc == GNUTLS_E_CERTIFICATE_REQUIRED
			? GNUTLS_A_CERTIFICATE_REQUIRED : gnutls_alert_get(t->session);
		fault->kind = alert_kind(t, alert);
		fault->alert = gnutls_alert_get_name(alert);
		break;
	}
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_INSUFFICIENT_SECURITY:
	case GNUTLS_E_NO_PRIORITIES_WERE_SET:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
		fault->kind = MAILCONN__TLS_FAULT_VERSION;
		break;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
		fault->kind = MAILCONN__TLS_FAULT_CLOSED;
		break;
	default:
		break;
	}
}

const char *
mailconn__tls_first_bytes(const struct mailconn__tls *t, size_t *len)
{
	*len = t->first_len;
	return t->first;
}

int
mailconn__tls_name_matches(const char *name, const char *host)
{
	size_t nlen = strlen(name);
	if (nlen && name[nlen - 1] == '.')
		nlen--;
	if (nlen == 0)
		return 0;
	if (name[0] != '*')
		return strlen(host) == nlen && strncasecmp(name, host, nlen) == 0;
	/* "*.example.com": the star is the whole left-most label, stands for
	 * exactly one label, and never for a label of an IP address. */
	if (nlen < 3 || name[1] != '.' || memchr(name + 2, '*', nlen - 2))
		return 0;
	const char *suffix = name + 1;               /* ".example.com" */
	size_t slen = nlen - 1;
	if (!memchr(suffix + 1, '.', slen - 1))
		return 0;   /* "*.com" would cover a whole top-level domain */
	const char *dot = strchr(host, '.');
	if (!dot || dot == host || is_ip_literal(host))
		return 0;
	return strlen(dot) == slen && strncasecmp(dot, suffix, slen) == 0;
}

/* The names a certificate holds, for the mismatch detail and the check. */
static int
host_in_cert(gnutls_x509_crt_t crt, const char *host, char *names,
             size_t names_size)
{
	unsigned char want_ip[16];
	size_t want_ip_len = 0;
	if (inet_pton(AF_INET, host, want_ip) == 1)
		want_ip_len = 4;
	else if (inet_pton(AF_INET6, host, want_ip) == 1)
		want_ip_len = 16;

	int match = 0;
	size_t used = 0;
	names[0] = '\0';
	for (unsigned i = 0;; i++) {
		char san[256];
		size_t san_len = sizeof san - 1;
		unsigned int critical;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, san,
		                                                &san_len, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			break;
		char shown[64 + INET6_ADDRSTRLEN];
		shown[0] = '\0';
		if (type == GNUTLS_SAN_DNSNAME) {
			san[san_len] = '\0';
			/* An embedded NUL would let "good.com\0.evil" pass. */
			if (strlen(san) != san_len)
				continue;
			snprintf(shown, sizeof shown, "%.63s", san);
			if (!want_ip_len && mailconn__tls_name_matches(san, host))
				match = 1;
		} else if (type == GNUTLS_SAN_IPADDRESS) {
			char text[INET6_ADDRSTRLEN] = "";
			if (san_len == 4 || san_len == 16)
				inet_ntop(san_len == 4 ? AF_INET : AF_INET6, san, text,
				          sizeof text);
			snprintf(shown, sizeof shown, "IP:%s", text);
			if (want_ip_len && san_len == want_ip_len &&
			    memcmp(san, want_ip, san_len) == 0)
				match = 1;
		}
		if (shown[0] && used + strlen(shown) + 3 < names_size) {
			used += (size_t)snprintf(names + used, names_size - used, "%s%s",
			                         used ? ", " : "", shown);
		}
	}
	return match;
}

static void
format_time(time_t t, char *out, size_t size)
{
	struct tm tm;
	if (t == (time_t)-1 || !gmtime_r(&t, &tm) ||
	    !strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, size, "unknown");
}

int
mailconn__tls_verify(struct mailconn__tls *t, const char *ascii_host,
                     mailconn_cause *cause, char *detail, size_t detail_size)
{
	unsigned int list_size = 0;
	const gnutls_datum_t *list =
		gnutls_certificate_get_peers(t->session, &list_size);
	gnutls_x509_crt_t crt = NULL;

	if (!list || list_size == 0 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) < 0) {
		if (crt)
			gnutls_x509_crt_deinit(crt);
		*cause = MAILCONN_CAUSE_CERT_MALFORMED;
		snprintf(detail, detail_size, "the server sent no readable "
		         "certificate");
		return -1;
	}

	/* Chain, dates and the server-auth purpose: a certificate made only
	 * for client authentication must not pass. Names are checked by us. */
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER,
	};
	unsigned int status = 0;
	int rc = gnutls_certificate_verify_peers(t->session, &purpose, 1, &status);
	char when[64], names[512];
	int result = -1;

	if (rc < 0) {
		*cause = MAILCONN_CAUSE_CERT_MALFORMED;
		snprintf(detail, detail_size, "certificate could not be checked: %s",
		         gnutls_strerror(rc));
	} else if (status & GNUTLS_CERT_EXPIRED) {
		format_time(gnutls_x509_crt_get_expiration_time(crt), when,
		            sizeof when);
		*cause = MAILCONN_CAUSE_CERT_EXPIRED;
		snprintf(detail, detail_size, "certificate expired on %s", when);
	} else if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		format_time(gnutls_x509_crt_get_activation_time(crt), when,
		            sizeof when);
		*cause = MAILCONN_CAUSE_CERT_NOT_YET_VALID;
		snprintf(detail, detail_size, "certificate is not valid before %s",
		         when);
	} else if (status & GNUTLS_CERT_INSECURE_ALGORITHM) {
		*cause = MAILCONN_CAUSE_CERT_INSECURE_ALGORITHM;
		snprintf(detail, detail_size, "certificate is signed with an "
		         "insecure algorithm (such as SHA-1)");
	} else if (status & GNUTLS_CERT_PURPOSE_MISMATCH) {
		*cause = MAILCONN_CAUSE_CERT_PURPOSE;
		snprintf(detail, detail_size, "certificate is not meant for a "
		         "server (wrong key purpose)");
	} else if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) {
		*cause = MAILCONN_CAUSE_CERT_UNTRUSTED;
		/* A certificate that issued itself is the common case worth naming. */
		snprintf(detail, detail_size, "certificate is %s",
		         gnutls_x509_crt_check_issuer(crt, crt)
		         ? "self-signed" : "signed by an unknown authority");
	} else if (status) {
		gnutls_datum_t out = { 0 };
		*cause = MAILCONN_CAUSE_CERT_UNTRUSTED;
		if (gnutls_certificate_verification_status_print(
			    status, GNUTLS_CRT_X509, &out, 0) == 0) {
			snprintf(detail, detail_size, "%s", out.data);
			gnutls_free(out.data);
		} else {
			snprintf(detail, detail_size, "certificate is not trusted");
		}
	} else if (!host_in_cert(crt, ascii_host, names, sizeof names)) {
		*cause = MAILCONN_CAUSE_CERT_HOSTNAME;
		if (names[0])
			snprintf(detail, detail_size, "certificate is for %s, not %s",
			         names, ascii_host);
		else
			snprintf(detail, detail_size, "certificate names no host in "
			         "subjectAltName (its CN is not used, RFC 9525), so it "
			         "does not match %s", ascii_host);
	} else {
		*cause = MAILCONN_CAUSE_NONE;
		detail[0] = '\0';
		result = 0;
	}
	gnutls_x509_crt_deinit(crt);
	return result;
}

int
mailconn__tls_cert_sha256(struct mailconn__tls *t, unsigned char out[32])
{
	unsigned int n = 0;
	const gnutls_datum_t *list = gnutls_certificate_get_peers(t->session, &n);
	if (!list || n == 0)
		return -1;
	/* The fingerprint is of the DER bytes the server sent, the same that
	 * gnutls_x509_crt_get_fingerprint() hashes for the fact. */
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, list[0].data, list[0].size,
	                        out) < 0 ? -1 : 0;
}

void
mailconn__tls_describe(struct mailconn__tls *t, char *version,
                       size_t version_size, char *cipher, size_t cipher_size,
                       char *sha256, size_t sha256_size, char *subject,
                       size_t subject_size)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));
	const char *c = gnutls_ciphersuite_get(t->session);
	snprintf(version, version_size, "%s", v ? v : "");
	snprintf(cipher, cipher_size, "%s", c ? c : "");
	sha256[0] = subject[0] = '\0';

	unsigned int n = 0;
	const gnutls_datum_t *list = gnutls_certificate_get_peers(t->session, &n);
	gnutls_x509_crt_t crt;
	if (!list || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) == 0) {
		unsigned char md[32];
		size_t md_len = sizeof md;
		if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md,
		                                    &md_len) == 0 &&
		    sha256_size >= md_len * 3) {
			for (size_t i = 0; i < md_len; i++)
				snprintf(sha256 + i * 3, 4, i + 1 < md_len ? "%02X:" : "%02X",
				         md[i]);
		}
		gnutls_datum_t dn = { 0 }, issuer = { 0 };
		if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0 &&
		    gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0) == 0)
			snprintf(subject, subject_size, "%s (issuer %s)", dn.data,
			         issuer.data);
		gnutls_free(dn.data);
		gnutls_free(issuer.data);
	}
	gnutls_x509_crt_deinit(crt);
}

int
mailconn__tls_channel_binding(struct mailconn__tls *t,
                              struct mailconn__channel_binding *cb)
{
	int tls13 = gnutls_protocol_get_version(t->session) == GNUTLS_TLS1_3;
	gnutls_free(t->binding.data);
	t->binding.data = NULL;
	t->binding.size = 0;
	if (gnutls_session_channel_binding(t->session,
	                                   tls13 ? GNUTLS_CB_TLS_EXPORTER
	                                         : GNUTLS_CB_TLS_UNIQUE,
	                                   &t->binding) < 0)
		return -1;
	cb->type = tls13 ? "tls-exporter" : "tls-unique";
	cb->data = t->binding.data;
	cb->len = t->binding.size;
	return 0;
}
