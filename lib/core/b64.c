/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Base64 (RFC 4648 section 4) for SASL payloads. Decoding is strict because
 * the input comes from the server: no whitespace, padding only at the end,
 * unused bits zero, so that every byte string has exactly one encoding.
 */
#include "core/b64.h"

#include <stdint.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Undo a partial append so a failed call leaves `out` as it was. */
static void
b64_rollback(struct mailconn__buf *out, size_t old_len)
{
	if (out->data && out->len > old_len) {
		mailconn__wipe(out->data + old_len, out->len - old_len);
		out->len = old_len;
		out->data[old_len] = '\0';
	}
}

int
mailconn__b64_encode(const unsigned char *in, size_t len,
                     struct mailconn__buf *out)
{
	if (len > (SIZE_MAX / 4 - 1) * 3)
		return -2;
	size_t need = (len + 2) / 3 * 4;
	if (need > out->limit - out->len)
		return -2;

	size_t old_len = out->len;
	char chunk[256];
	size_t fill = 0;
	for (size_t i = 0; i < len; i += 3) {
		size_t left = len - i;
		uint32_t v = (uint32_t)in[i] << 16;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		chunk[fill++] = b64_alphabet[(v >> 18) & 63];
		chunk[fill++] = b64_alphabet[(v >> 12) & 63];
		chunk[fill++] = left > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		chunk[fill++] = left > 2 ? b64_alphabet[v & 63] : '=';
		if (fill == sizeof(chunk)) {
			int rc = mailconn__buf_append(out, chunk, fill);
			if (rc) {
				b64_rollback(out, old_len);
				mailconn__wipe(chunk, sizeof(chunk));
				return rc;
			}
			fill = 0;
		}
	}
	int rc = mailconn__buf_append(out, chunk, fill);
	if (rc)
		b64_rollback(out, old_len);
	/* The input may be a password or a SCRAM proof. */
	mailconn__wipe(chunk, sizeof(chunk));
	return rc;
}

/* 0-63 for an alphabet character, -1 otherwise (including '='). */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mailconn__b64_decode(const char *in, size_t len, struct mailconn__buf *out)
{
	if (len % 4 != 0)
		return -3;
	size_t old_len = out->len;
	unsigned char chunk[192];
	size_t fill = 0;
	int rc = 0;

	for (size_t i = 0; i < len; i += 4) {
		const unsigned char *q = (const unsigned char *)in + i;
		int last = i + 4 == len;
		int v0 = b64_value(q[0]);
		int v1 = b64_value(q[1]);
		int v2 = b64_value(q[2]);
		int v3 = b64_value(q[3]);
		size_t nbytes = 3;

		if (v0 < 0 || v1 < 0) {
			rc = -3;
			break;
		}
		if (v2 < 0) {
			/* Only "xx==" in the final quantum. */
			if (!last || q[2] != '=' || q[3] != '=' || (v1 & 15)) {
				rc = -3;
				break;
			}
			v2 = v3 = 0;
			nbytes = 1;
		} else if (v3 < 0) {
			if (!last || q[3] != '=' || (v2 & 3)) {
				rc = -3;
				break;
			}
			v3 = 0;
			nbytes = 2;
		}
		uint32_t v = (uint32_t)v0 << 18 | (uint32_t)v1 << 12 |
		             (uint32_t)v2 << 6 | (uint32_t)v3;
		chunk[fill++] = (unsigned char)(v >> 16);
		if (nbytes > 1)
			chunk[fill++] = (unsigned char)(v >> 8);
		if (nbytes > 2)
			chunk[fill++] = (unsigned char)v;
		if (fill + 3 > sizeof(chunk)) {
			rc = mailconn__buf_append(out, chunk, fill);
			if (rc)
				break;
			fill = 0;
		}
	}
	if (rc == 0)
		rc = mailconn__buf_append(out, chunk, fill);
	if (rc)
		b64_rollback(out, old_len);
	mailconn__wipe(chunk, sizeof(chunk));
	return rc;
}
