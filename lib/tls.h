/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GnuTLS for one connection: non-blocking handshake over an fd, record
 * I/O, strict certificate checks (server-auth purpose, RFC 9525 names: no
 * CN fallback, wildcards only as a whole left-most label) and the facts a
 * user needs to act on a certificate problem.
 */
#ifndef MAILCONN_TLS_H
#define MAILCONN_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/cbind.h"
#include "mailconn.h"
#include "proto/outcome.h"

struct mailconn__tls;

/* Loading the system trust store costs milliseconds, more than a TLS
 * handshake, so sessions made from one config share one set of
 * credentials (and the parsed priority), reference-counted across
 * threads. */
/* A new reference; NULL with a reason in `detail` on failure and, in
 * `which`, 1 when the CA file was at fault, 2 the CA directory, else 0. */
struct mailconn__trust *mailconn__trust_new(const char *ca_file,
                                            const char *ca_path,
                                            char *detail, size_t detail_size,
                                            int *which);
struct mailconn__trust *mailconn__trust_ref(struct mailconn__trust *t);
void mailconn__trust_unref(struct mailconn__trust *t);

/* A client session on connected socket `fd`; SNI is sent for names, not
 * IP literals. NULL when GnuTLS cannot allocate. */
struct mailconn__trust;
struct mailconn__tls *mailconn__tls_new(int fd, const char *ascii_host,
                                        const struct mailconn__trust *trust);
/* Does not close the fd. NULL allowed. */
void mailconn__tls_free(struct mailconn__tls *t);

/* What a handshake, read or write gives besides bytes. */
enum mailconn__tls_status {
	MAILCONN__TLS_DONE = 0,
	MAILCONN__TLS_AGAIN = -1,   /* wait for mailconn__tls_wait, then retry */
	MAILCONN__TLS_FAILED = -2   /* fatal: mailconn__tls_fault says why */
};

/* MAILCONN__TLS_DONE, MAILCONN__TLS_AGAIN or MAILCONN__TLS_FAILED. */
int mailconn__tls_handshake(struct mailconn__tls *t);
/* MAILCONN_WAIT_READ or MAILCONN_WAIT_WRITE after MAILCONN__TLS_AGAIN. */
unsigned mailconn__tls_wait(const struct mailconn__tls *t);
/* >0 bytes; 0 at the end of the stream, with or without close_notify;
 * or MAILCONN__TLS_AGAIN or MAILCONN__TLS_FAILED. */
ssize_t mailconn__tls_recv(struct mailconn__tls *t, void *buf, size_t len);
/* >0 bytes, MAILCONN__TLS_AGAIN or MAILCONN__TLS_FAILED. */
ssize_t mailconn__tls_send(struct mailconn__tls *t, const void *buf, size_t len);
/* Decrypted bytes GnuTLS holds that the fd will not announce. */
size_t mailconn__tls_pending(const struct mailconn__tls *t);

/* The last MAILCONN__TLS_FAILED in plain terms; its strings are static. */
void mailconn__tls_fault(const struct mailconn__tls *t,
                         struct mailconn__tls_fault *fault);

/* The first bytes the server sent, for diagnosing a plaintext server on a
 * TLS port. */
const char *mailconn__tls_first_bytes(const struct mailconn__tls *t,
                                      size_t *len);

/* Check the peer certificate for `ascii_host` (A-label form or IP). 0 when
 * trusted; else -1 with the cause and a detail naming the fault (dates,
 * names held by the certificate). */
int mailconn__tls_verify(struct mailconn__tls *t, const char *ascii_host,
                         mailconn_cause *cause, char *detail,
                         size_t detail_size);

/* The SHA-256 fingerprint of the server's certificate. 0, or -1 when
 * there is none to read. */
int mailconn__tls_cert_sha256(struct mailconn__tls *t, unsigned char out[32]);

/* Facts for the session record; each buffer gets "" when unknown. */
void mailconn__tls_describe(struct mailconn__tls *t, char *version,
                            size_t version_size, char *cipher,
                            size_t cipher_size, char *sha256,
                            size_t sha256_size, char *subject,
                            size_t subject_size);

/* Channel binding data for SCRAM-PLUS ("tls-exporter" on TLS 1.3,
 * "tls-unique" on 1.2), stored in `t`. 0, or -1 when unavailable. */
int mailconn__tls_channel_binding(struct mailconn__tls *t,
                                  struct mailconn__channel_binding *cb);

/* 1 when `name` (from a certificate) matches `host` under RFC 9525. */
int mailconn__tls_name_matches(const char *name, const char *host);

#endif
