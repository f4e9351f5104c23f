/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one table of configuration options. Everything else is derived
 * from it: the name lookup, the validation kind, the storage slot of
 * each option and the number of slots. Adding an option is one line
 * here plus its enum value in mailconn.h; the compiler checks the rest.
 *
 *   X(ID, name, kind, max_len, default)
 *
 * ID is the enum name without MAILCONN_OPT_; `max_len` bounds strings,
 * `default` is the integer default (strings default to unset).
 */
#ifndef MAILCONN_OPTIONS_H
#define MAILCONN_OPTIONS_H

#define MAILCONN__STRING_OPTIONS(X) \
	X(EMAIL,                email,                EMAIL,     254,   0) \
	X(PASSWORD,             password,             SECRET,    1024,  0) \
	X(OAUTH2_TOKEN,         oauth2_token,         SECRET,    16384, 0) \
	X(USERNAME,             username,             TEXT,      256,   0) \
	X(SMTP_USERNAME,        smtp_username,        TEXT,      256,   0) \
	X(SMTP_PASSWORD,        smtp_password,        SECRET,    1024,  0) \
	X(IMAP_HOST,            imap_host,            HOST,      254,   0) \
	X(SMTP_HOST,            smtp_host,            HOST,      254,   0) \
	X(BCC,                  bcc,                  EMAIL,     254,   0) \
	X(SUBJECT,              subject,              TEXT,      512,   0) \
	X(BODY,                 body,                 MULTILINE, 65536, 0) \
	X(CA_FILE,              ca_file,              FILE,      4096,  0) \
	X(CA_PATH,              ca_path,              DIR,       4096,  0) \
	X(IMAP_ADDRESS,         imap_address,         IP,        1024,  0) \
	X(SMTP_ADDRESS,         smtp_address,         IP,        1024,  0) \
	X(CLIENT_NAME,          client_name,          HOST,      254,   0) \
	X(LANGUAGE,             language,             LANGUAGE,  64,    0) \
	X(MECHANISMS,           mechanisms,           MECHLIST,  256,   0) \
	X(IMAP_CERT_SHA256,     imap_cert_sha256,     SHA256,    95,    0) \
	X(SMTP_CERT_SHA256,     smtp_cert_sha256,     SHA256,    95,    0)

#define MAILCONN__INT_OPTIONS(X) \
	X(IMAP_PORT,            imap_port,            PORT,      0, 0) \
	X(IMAP_SECURITY,        imap_security,        SECURITY,  0, MAILCONN_SECURITY_AUTO) \
	X(SMTP_PORT,            smtp_port,            PORT,      0, 0) \
	X(SMTP_SECURITY,        smtp_security,        SECURITY,  0, MAILCONN_SECURITY_AUTO) \
	X(ALLOW_UNTRUSTED_CERT, allow_untrusted_cert, FLAG,      0, 0) \
	X(STAGE_TIMEOUT_MS,     stage_timeout_ms,     MILLIS,    0, 30000) \
	X(DEADLINE_MS,          deadline_ms,          MILLIS,    0, 120000) \
	X(OVERLAP,              overlap,              FLAG,      0, 0)

/* Storage slots: strings and integers are numbered separately. */
enum mailconn__string_slot {
#define MAILCONN__X(id, name, kind, max, def) MAILCONN__SLOT_##id,
	MAILCONN__STRING_OPTIONS(MAILCONN__X)
#undef MAILCONN__X
	MAILCONN__STR_COUNT
};

enum mailconn__int_slot {
#define MAILCONN__X(id, name, kind, max, def) MAILCONN__SLOT_##id,
	MAILCONN__INT_OPTIONS(MAILCONN__X)
#undef MAILCONN__X
	MAILCONN__INT_COUNT
};

#endif
