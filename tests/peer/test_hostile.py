# SPDX-License-Identifier: LGPL-2.1-or-later
"""The security suite: mailconn-check against a scripted hostile server.

Each scenario asserts the outcome (error, cause, stage) and, where the
client must not log in, that no form of the password reached the peer.
Every run also passes conftest.check_output_sane: exit status 0 or 1, one
valid JSON object, no secret on stdout/stderr, no control character in any
result string."""

import hashlib
import re
import ssl
import time
import warnings

import pytest

from conftest import PASSWORD, closed_port, secret_sent
from peer import SMTP_EHLO, ScramServer, imap_serve, smtp_serve

IMAP_HOST = "imap.example.com"
SMTP_HOST = "smtp.example.com"
MB = 1024 * 1024


# ---- helpers ----------------------------------------------------------

def tagged(status, *untagged):
    """A reply to the client's last command: untagged lines, then the
    tagged status line (the tag is taken from what the client sent)."""
    return lambda p: b"".join(untagged) + p.last_tag + b" " + status + \
        b"\r\n"


def next_tag(p, k=1):
    m = re.match(rb"([A-Za-z]*)(\d+)$", p.last_tag)
    return m.group(1) + str(int(m.group(2)) + k).encode()


def tls_peer(make_peer, pki, steps, cert="good", **ctx):
    return make_peer([("tls_start",)] + steps,
                     tls_context=pki.context(cert, **ctx))


def good_imap(make_peer, pki):
    return tls_peer(make_peer, pki, [("call", imap_serve())])


def good_smtp(make_peer, pki):
    return tls_peer(make_peer, pki, [("call", smtp_serve())])


def assert_no_secret(*peers):
    for p in peers:
        assert not secret_sent(p.received), \
            f"the password reached the peer\n{p.describe()}"


def assert_secret_only_over_tls(p):
    assert not secret_sent(bytes(p.received_plain)), p.describe()
    assert secret_sent(bytes(p.received_tls)), p.describe()


def assert_result(res, error, cause, stage):
    got = (res.error, res.cause, res.stage) if res.json else None
    assert got == (error, cause, stage), f"got {got}\n{res!r}"


# Plaintext IMAP up to the client's STARTTLS command.
def imap_to_starttls(caps=b"IMAP4rev1 STARTTLS LOGINDISABLED"):
    return [("send", b"* OK hostile IMAP4rev1 ready\r\n"),
            ("expect", rb"^\S+ CAPABILITY$"),
            ("send", tagged(b"OK done", b"* CAPABILITY " + caps + b"\r\n")),
            ("expect", rb"^\S+ STARTTLS$")]


# Plaintext SMTP up to the client's STARTTLS command.
def smtp_to_starttls():
    return [("send", b"220 hostile ESMTP\r\n"),
            ("expect", rb"^EHLO "),
            ("send", b"250-hostile\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"),
            ("expect", rb"^STARTTLS$")]


# ---- STARTTLS response injection --------------------------------------

IMAP_INJECTIONS = {
    "capability": lambda p: (p.last_tag + b" OK Begin TLS now\r\n"
                             b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"),
    "fake-tagged-ok": lambda p: (
        p.last_tag + b" OK Begin TLS now\r\n" +
        next_tag(p) + b" OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n" +
        next_tag(p, 2) + b" OK LOGIN completed\r\n" +
        next_tag(p, 3) + b" OK [READ-ONLY] EXAMINE completed\r\n"),
    "untagged-ok-alert": lambda p: (p.last_tag + b" OK Begin TLS\r\n"
                                    b"* OK [ALERT] injected\r\n"),
}


@pytest.mark.parametrize("variant", sorted(IMAP_INJECTIONS))
def test_imap_starttls_injection(make_peer, pki, check, variant):
    # Everything in one send(): the injected lines share the segment of
    # the STARTTLS OK. A vulnerable client would do the handshake and read
    # the injected lines as if the server had sent them over TLS.
    peer = make_peer(imap_to_starttls() + [
        ("send", IMAP_INJECTIONS[variant]),
        ("starttls",),
        ("call", imap_serve(greeting=None, caps=b"IMAP4rev1"))],
        tls_context=pki.context())
    res = check(peer.port, imap_security="starttls")
    assert_result(res, "IMAP_VALIDATION", "STARTTLS_INJECTION", 1)
    assert_no_secret(peer)


SMTP_INJECTIONS = {
    "235": b"220 2.0.0 Ready to start TLS\r\n235 2.7.0 ok\r\n",
    "ehlo-auth": (b"220 2.0.0 Ready to start TLS\r\n"
                  b"250-hostile\r\n250 AUTH PLAIN\r\n"),
    "250-auth-partial": b"220 Ready\r\n250-AUTH PLAIN",
}


@pytest.mark.parametrize("variant", sorted(SMTP_INJECTIONS))
def test_smtp_starttls_injection(make_peer, pki, check, variant):
    imap = good_imap(make_peer, pki)
    smtp = make_peer(smtp_to_starttls() + [
        ("send", SMTP_INJECTIONS[variant]),
        ("starttls",),
        ("call", smtp_serve(greeting=None))], tls_context=pki.context())
    res = check(imap.port, smtp.port, smtp_security="starttls")
    assert_result(res, "SMTP_SETTINGS", "STARTTLS_INJECTION", 3)
    assert_no_secret(smtp)


def test_imap_injection_in_separate_segment(make_peer, pki, check):
    # The injected bytes follow the OK in their own segment: depending on
    # timing the client sees them before the handshake (injection) or as a
    # broken ServerHello. Either way: no login.
    peer = make_peer(imap_to_starttls() + [
        ("send", tagged(b"OK Begin TLS now")),
        ("send", b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"),
        ("starttls",),
        ("call", imap_serve(greeting=None, caps=b"IMAP4rev1"))],
        tls_context=pki.context())
    res = check(peer.port, imap_security="starttls")
    assert res.error == "IMAP_VALIDATION", res
    assert res.cause in ("STARTTLS_INJECTION", "TLS_HANDSHAKE"), res
    assert res.stage == 1
    assert_no_secret(peer)


# ---- STARTTLS stripping -----------------------------------------------

@pytest.mark.parametrize("allow_untrusted", [False, True])
@pytest.mark.parametrize("where", ["capability", "greeting-code"])
def test_imap_starttls_not_offered(make_peer, pki, check, where,
                                   allow_untrusted):
    caps = b"IMAP4rev1 AUTH=PLAIN SASL-IR"
    if where == "greeting-code":
        steps = [("send", b"* OK [CAPABILITY " + caps + b"] ready\r\n")]
    else:
        steps = [("send", b"* OK ready\r\n"),
                 ("expect", rb"^\S+ CAPABILITY$"),
                 ("send", tagged(b"OK done", b"* CAPABILITY " + caps +
                                 b"\r\n"))]
    # A stripped client would now log in in plaintext.
    steps += [("expect", rb"^\S+ (LOGIN|AUTHENTICATE)"),
              ("send", tagged(b"OK logged in"))]
    peer = make_peer(steps)
    res = check(peer.port, imap_security="starttls",
                allow_untrusted=allow_untrusted)
    assert_result(res, "IMAP_VALIDATION", "STARTTLS_UNAVAILABLE", 1)
    assert_no_secret(peer)


@pytest.mark.parametrize("reply,cause", [
    (tagged(b"NO STARTTLS not available"), "STARTTLS_REFUSED"),
    (tagged(b"BAD unknown command"), "STARTTLS_REFUSED"),
    (lambda p: b"* BYE no TLS here\r\n", "SERVER_BYE")],
    ids=["NO", "BAD", "BYE"])
def test_imap_starttls_refused(make_peer, pki, check, reply, cause):
    peer = make_peer(imap_to_starttls(b"IMAP4rev1 STARTTLS AUTH=PLAIN") + [
        ("send", reply),
        ("expect", rb"^\S+ (LOGIN|AUTHENTICATE)"),
        ("send", tagged(b"OK logged in"))])
    res = check(peer.port, imap_security="starttls")
    assert_result(res, "IMAP_VALIDATION", cause, 1)
    assert_no_secret(peer)


def test_imap_bye_before_login_hint(make_peer, pki, check):
    peer = tls_peer(make_peer, pki, [("call", imap_serve(
        {"capability": b"* BYE going away\r\n"}))])
    res = check(peer.port)
    assert_result(res, "IMAP_VALIDATION", "SERVER_BYE", 1)
    assert "after login" not in res.json["hint"], res.json["hint"]


@pytest.mark.parametrize("cut", ["after-ok", "after-client-hello",
                                 "rst-after-client-hello"])
def test_imap_starttls_cut(make_peer, pki, check, cut):
    steps = imap_to_starttls() + [("send", tagged(b"OK Begin TLS"))]
    if cut != "after-ok":
        steps.append(("read",))
    steps.append(("reset",) if cut.startswith("rst") else ("close",))
    peer = make_peer(steps)
    res = check(peer.port, imap_security="starttls")
    assert_result(res, "IMAP_VALIDATION", "TLS_HANDSHAKE", 1)
    assert_no_secret(peer)


def test_smtp_starttls_not_offered(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = make_peer([("send", b"220 hostile ESMTP\r\n"),
                      ("expect", rb"^EHLO "),
                      ("send", b"250-hostile\r\n250 AUTH PLAIN LOGIN\r\n"),
                      ("expect", rb"^AUTH "),
                      ("send", b"235 2.7.0 ok\r\n")])
    res = check(imap.port, smtp.port, smtp_security="starttls")
    assert_result(res, "SMTP_SETTINGS", "STARTTLS_UNAVAILABLE", 3)
    assert_no_secret(smtp)


@pytest.mark.parametrize("reply", [b"454 4.7.0 TLS not available\r\n",
                                   b"502 5.5.1 unrecognized command\r\n",
                                   b"554 5.7.3 no\r\n"])
def test_smtp_starttls_refused(make_peer, pki, check, reply):
    imap = good_imap(make_peer, pki)
    smtp = make_peer(smtp_to_starttls() + [
        ("send", reply), ("expect", rb"^AUTH "),
        ("send", b"235 2.7.0 ok\r\n")])
    res = check(imap.port, smtp.port, smtp_security="starttls")
    assert_result(res, "SMTP_SETTINGS", "STARTTLS_REFUSED", 3)
    assert_no_secret(smtp)


@pytest.mark.parametrize("cut", ["after-220", "after-client-hello"])
def test_smtp_starttls_cut(make_peer, pki, check, cut):
    imap = good_imap(make_peer, pki)
    steps = smtp_to_starttls() + [("send", b"220 go ahead\r\n")]
    if cut == "after-client-hello":
        steps.append(("read",))
    steps.append(("close",))
    smtp = make_peer(steps)
    res = check(imap.port, smtp.port, smtp_security="starttls")
    assert_result(res, "SMTP_SETTINGS", "TLS_HANDSHAKE", 3)
    assert_no_secret(smtp)


def test_allow_untrusted_keeps_smtp_starttls(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = make_peer([("send", b"220 hostile ESMTP\r\n"),
                      ("expect", rb"^EHLO "),
                      ("send", b"250-hostile\r\n250 AUTH PLAIN LOGIN\r\n"),
                      ("expect", rb"^AUTH "),
                      ("send", b"235 2.7.0 ok\r\n")])
    res = check(imap.port, smtp.port, smtp_security="starttls",
                allow_untrusted=True)
    assert_result(res, "SMTP_SETTINGS", "STARTTLS_UNAVAILABLE", 3)
    assert_no_secret(smtp)


# ---- PREAUTH and LOGINDISABLED ----------------------------------------

def test_preauth_greeting_on_starttls_connection(make_peer, pki, check):
    peer = make_peer([("send", b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
                      ("expect", rb"^\S+ "),
                      ("send", tagged(b"OK done"))])
    res = check(peer.port, imap_security="starttls")
    assert_result(res, "IMAP_VALIDATION", "UNEXPECTED_PREAUTH", 1)
    assert_no_secret(peer)
    assert peer.received == b"", peer.describe()


def test_preauth_greeting_over_tls(make_peer, pki, check):
    peer = tls_peer(make_peer, pki, [
        ("send", b"* PREAUTH IMAP4rev1 server logged in as tester\r\n")])
    res = check(peer.port)
    assert_result(res, "IMAP_VALIDATION", "UNEXPECTED_PREAUTH", 1)
    assert_no_secret(peer)


def test_logindisabled_before_tls_then_login_over_tls(make_peer, pki,
                                                      check):
    # LOGINDISABLED (and AUTH=PLAIN) hold only for the plaintext session:
    # after TLS the client must re-read capabilities and use those.
    imap = make_peer([
        ("call", imap_serve(caps=b"IMAP4rev1", starttls=True))],
        tls_context=pki.context())
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port, imap_security="starttls")
    assert res.rc == 0, res
    assert (False, b"CAPABILITY") in imap.commands
    assert (True, b"CAPABILITY") in imap.commands, imap.commands
    assert (True, b"LOGIN") in imap.commands, imap.commands
    assert_secret_only_over_tls(imap)


def test_logindisabled_in_plaintext_mode(make_peer, pki, check):
    # The user chose plaintext; the server refuses LOGIN without TLS and
    # offers no mechanism: stop before sending anything secret.
    peer = make_peer([
        ("send", b"* OK ready\r\n"),
        ("expect", rb"^\S+ CAPABILITY$"),
        ("send", tagged(b"OK done",
                        b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\n")),
        ("expect", rb"^\S+ (LOGIN|AUTHENTICATE)"),
        ("send", tagged(b"NO [PRIVACYREQUIRED] no"))])
    res = check(peer.port, imap_security="plain")
    assert res.error == "IMAP_SETTINGS", res
    assert res.cause == "AUTH_PRIVACY_REQUIRED", res
    assert_no_secret(peer)


# ---- oversized and endless input --------------------------------------

def test_imap_100mb_line(make_peer, pki, check):
    peer = tls_peer(make_peer, pki, [
        ("send", b"* OK "), ("flood", 100 * MB, b"A" * 65536)])
    start = time.monotonic()
    res = check(peer.port, measure_rss=True)
    elapsed = time.monotonic() - start
    assert_result(res, "IMAP_SETTINGS", "LINE_TOO_LONG", 1)
    assert res.rss_kb is not None and res.rss_kb < 64 * 1024, res.rss_kb
    assert elapsed < 10, elapsed
    # The client hung up early instead of reading the whole line.
    assert peer.wait(10)
    assert peer.bytes_sent < 100 * MB, peer.describe()


def test_smtp_100mb_line(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [
        ("send", b"220 "), ("flood", 100 * MB, b"B" * 65536)])
    res = check(imap.port, smtp.port, measure_rss=True)
    assert_result(res, "SMTP_SETTINGS", "LINE_TOO_LONG", 3)
    assert res.rss_kb is not None and res.rss_kb < 64 * 1024, res.rss_kb
    assert_no_secret(smtp)


@pytest.mark.parametrize("where,error,stage", [
    ("capability", "IMAP_SETTINGS", 1),
    ("select", "IMAP_VALIDATION", 2)])
def test_imap_huge_literal(make_peer, pki, check, where, error, stage):
    huge = b"* 1 FETCH (BODY[] {4294967295}\r\n"
    replies = {where: lambda p: huge + b"x" * 4096}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies)),
                                     ("flood", 100 * MB, b"x" * 65536)])
    res = check(peer.port, measure_rss=True)
    assert_result(res, error, "LINE_TOO_LONG", stage)
    assert res.rss_kb is not None and res.rss_kb < 64 * 1024, res.rss_kb
    if stage == 1:
        assert_no_secret(peer)


@pytest.mark.parametrize("size", [b"99999999999999999999999999", b"65537"])
def test_imap_oversized_literal_sizes(make_peer, pki, check, size):
    replies = {"capability": b"* LIST () \"/\" {" + size + b"}\r\n"}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert_result(res, "IMAP_SETTINGS", "LINE_TOO_LONG", 1)
    assert_no_secret(peer)


@pytest.mark.parametrize("prefix", [
    pytest.param(b"* 1 FETCH (BODY[] ", id="fetch"),
    pytest.param(b"* CAPABILITY IMAP4rev1 X-DATA ", id="capability")])
def test_imap_literal_content_is_not_parsed(make_peer, pki, check, prefix):
    # A literal that contains what looks like a tagged NO: a client that
    # parsed literal bytes as lines would fail here.
    def reply(p):
        body = p.last_tag + b" NO [ALERT] inside a literal\r\n"
        return (b"* CAPABILITY IMAP4rev1\r\n" + prefix + b"{" +
                str(len(body)).encode() + b"}\r\n" + body + b")\r\n" +
                p.last_tag + b" OK done\r\n")
    imap = tls_peer(make_peer, pki, [
        ("call", imap_serve({"capability": reply}))])
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res


def test_smtp_endless_multiline_reply(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [
        ("send", b"220 hostile ESMTP\r\n"), ("expect", rb"^EHLO "),
        ("flood", 100 * MB, b"250-AUTH PLAIN LOGIN XYZ\r\n" * 2000)])
    res = check(imap.port, smtp.port, measure_rss=True)
    assert_result(res, "SMTP_SETTINGS", "PROTOCOL_ERROR", 3)
    assert res.rss_kb is not None and res.rss_kb < 64 * 1024, res.rss_kb
    assert_no_secret(smtp)


def trickle_lines(line, interval):
    """A server that never finishes its reply: one line every interval."""
    def run(p):
        while not p.peer_closed and p._remaining() > 0:
            try:
                p.send(line)
            except Exception:
                return
            time.sleep(interval)
    return run


def test_imap_endless_untagged_lines_hit_timeout(make_peer, pki, check):
    peer = tls_peer(make_peer, pki, [
        ("send", b"* OK ready\r\n"), ("expect", rb"^\S+ CAPABILITY$"),
        ("call", trickle_lines(b"* OK still thinking\r\n", 0.01))])
    start = time.monotonic()
    res = check(peer.port, timeout_s=1)
    elapsed = time.monotonic() - start
    assert_result(res, "IMAP_SETTINGS", "TIMEOUT", 1)
    assert "waiting for the reply to CAPABILITY" in res.json["detail"], res
    assert elapsed < 5, elapsed
    assert_no_secret(peer)


@pytest.mark.parametrize("where", ["greeting", "login", "examine"])
def test_imap_slowloris(make_peer, pki, check, where):
    drip = ("drip", b"* OK slow but steady server is getting ready\r\n",
            0.05)
    if where == "greeting":
        steps = [drip]
        want = ("IMAP_SETTINGS", "GREETING_TIMEOUT", 1)
        phase = "the greeting never ended"
    else:
        cmd = b"LOGIN" if where == "login" else b"EXAMINE"
        steps = [("send", b"* OK [CAPABILITY IMAP4rev1] ready\r\n")]
        if where == "examine":
            steps += [("expect", rb"^\S+ LOGIN "),
                      ("send", tagged(b"OK [CAPABILITY IMAP4rev1] in"))]
        steps += [("expect", rb"^\S+ " + cmd + rb" "),
                  ("drip", b"* 1 EXISTS and more words that never end"
                   b" because the server is very slow\r\n", 0.05)]
        want = ("IMAP_VALIDATION", "TIMEOUT", 2)
        phase = "waiting for the reply to " + cmd.decode()
    peer = tls_peer(make_peer, pki, steps)
    start = time.monotonic()
    res = check(peer.port, timeout_s=1)
    elapsed = time.monotonic() - start
    assert_result(res, *want)
    assert phase in res.json["detail"], res
    assert elapsed < 5, elapsed
    ms = res.json["stages"][want[2] - 1]["ms"]
    assert 900 <= ms <= 3000, ms


def test_smtp_slowloris_greeting(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [
        ("drip", b"220 slow server with a long greeting, one byte at a "
         b"time\r\n", 0.05)])
    res = check(imap.port, smtp.port, timeout_s=1)
    assert_result(res, "SMTP_SETTINGS", "GREETING_TIMEOUT", 3)
    assert_no_secret(smtp)


def test_smtp_slowloris_after_data(make_peer, pki, check):
    def slow_end(peer, stage):
        if stage == "data":
            # Read the message, then answer one byte at a time.
            while peer.read_line() not in (None, b"."):
                pass
            peer.drip(b"250 2.0.0 queued, eventually, after a long "
                      b"while\r\n", 0.05)
            peer.drain()
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve(after=slow_end))])
    res = check(imap.port, smtp.port, timeout_s=1)
    assert_result(res, "TEST_SEND", "TIMEOUT", 5)
    # The reply to the end of the message never came; DATA is the command.
    assert "waiting for the reply to DATA" in res.json["detail"], res


def test_tls_handshake_never_answered(make_peer, pki, check):
    # A server that accepts the TCP connection and never answers the
    # ClientHello: the timeout names the handshake, not the connect.
    peer = make_peer([("read",), ("sleep_forever",)])
    start = time.monotonic()
    res = check(peer.port, timeout_s=1)
    assert time.monotonic() - start < 5
    assert_result(res, "IMAP_SETTINGS", "TLS_HANDSHAKE_TIMEOUT", 1)
    assert "during the TLS handshake with 127.0.0.1:" in res.json["detail"]
    assert res.json["hint_id"] == "IMAP_SETTINGS.TLS_HANDSHAKE_TIMEOUT"
    assert f"port {peer.port}" in res.json["hint"], res


@pytest.mark.parametrize("security", ["tls", "starttls", "plain"])
def test_silent_server_is_a_greeting_timeout(make_peer, pki, check,
                                             security):
    # Accepted, (with implicit TLS: handshake done), then not a byte: the
    # greeting is what is missing, whatever the security.
    steps = [("sleep_forever",)]
    peer = (tls_peer(make_peer, pki, steps) if security == "tls"
            else make_peer(steps))
    res = check(peer.port, imap_security=security, timeout_s=1)
    assert_result(res, "IMAP_SETTINGS", "GREETING_TIMEOUT", 1)
    detail = res.json["detail"]
    assert "imap_connect timed out after 1000 ms waiting for the server's " \
        "greeting from 127.0.0.1:" in detail, res
    assert "the server sent nothing" in detail, res
    assert res.json["stages"][0]["local_address"], res
    assert_no_secret(peer)


def test_smtp_silent_after_ehlo_names_the_command(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("send", b"220 ready\r\n"),
                                     ("expect", rb"^EHLO "),
                                     ("sleep_forever",)])
    res = check(imap.port, smtp.port, timeout_s=1)
    assert_result(res, "SMTP_SETTINGS", "TIMEOUT", 3)
    assert res.json["detail"].endswith("waiting for the reply to EHLO"), res


# ---- malformed replies ------------------------------------------------

IMAP_MALFORMED = {
    # name: (steps after TLS, error, cause, stage)
    "unknown-tag": (
        [("call", imap_serve({"capability": b"* CAPABILITY IMAP4rev1\r\n"
                                            b"B99 OK done\r\n"}))],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "binary-tag": (
        [("call", imap_serve({"capability": b"* CAPABILITY IMAP4rev1\r\n"
                                            b"\x01\x02\xff OK done\r\n"}))],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "bad-status": (
        [("call", imap_serve({"capability": b"* CAPABILITY IMAP4rev1\r\n"
                                            b"A1 MAYBE done\r\n"}))],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "empty-line": (
        [("call", imap_serve({"capability": b"\r\n"})), ],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "not-imap-greeting": (
        [("send", b"HELLO THERE\r\n")],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "greeting-without-crlf-then-close": (
        [("send", b"* OK ready"), ("close",)],
        "IMAP_SETTINGS", "CONNECTION_CLOSED", 1),
    "bare-lf-then-close": (
        [("send", b"* OK ready\n"), ("close",)],
        "IMAP_SETTINGS", "CONNECTION_CLOSED", 1),
    "login-reply-without-crlf-then-close": (
        [("send", b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
         ("expect", rb"^\S+ LOGIN "),
         ("send", lambda p: p.last_tag + b" OK in"),
         ("close",)],
        "IMAP_VALIDATION", "CONNECTION_CLOSED", 2),
    "unsolicited-tagged-before-command": (
        [("send", b"* OK ready\r\nA1 OK [CAPABILITY IMAP4rev1] early\r\n")],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "unsolicited-continuation": (
        [("send", b"* OK ready\r\n+ go on\r\n")],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "capability-without-list": (
        [("call", imap_serve({"capability": b"A1 OK done\r\n"}))],
        "IMAP_SETTINGS", "PROTOCOL_ERROR", 1),
    "no-imap4rev1": (
        [("call", imap_serve({"capability": b"* CAPABILITY IMAP2 POP3\r\n"
                                            b"A1 OK done\r\n"}))],
        "IMAP_VALIDATION", "NO_IMAP4REV1", 1),
    "smtp-greeting-on-imap-port": (
        [("send", b"220 smtp.example.com ESMTP\r\n")],
        "IMAP_SETTINGS", "WRONG_PROTOCOL", 1),
}


@pytest.mark.parametrize("name", sorted(IMAP_MALFORMED))
def test_imap_malformed(make_peer, pki, check, name):
    steps, error, cause, stage = IMAP_MALFORMED[name]
    peer = tls_peer(make_peer, pki, steps)
    res = check(peer.port)
    assert_result(res, error, cause, stage)
    if stage == 1:
        assert_no_secret(peer)


def test_imap_fake_login_ok_with_capability_reply(make_peer, pki, check):
    # The OK for LOGIN arrives with the CAPABILITY reply, before LOGIN was
    # sent: the client must not log in (nor send the password).
    def reply(p):
        return (b"* CAPABILITY IMAP4rev1\r\n" + p.last_tag + b" OK done\r\n"
                + next_tag(p) + b" OK LOGIN completed\r\n")
    peer = tls_peer(make_peer, pki, [
        ("call", imap_serve({"capability": reply}))])
    res = check(peer.port)
    assert_result(res, "IMAP_VALIDATION", "PROTOCOL_ERROR", 2)
    assert_no_secret(peer)


def test_imap_unsolicited_tagged_after_login(make_peer, pki, check):
    replies = {"login": lambda p: (p.last_tag + b" OK in\r\n"
                                   b"A77 OK what was that\r\n")}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert_result(res, "IMAP_VALIDATION", "PROTOCOL_ERROR", 2)


def test_imap_nul_bytes_in_reply(make_peer, pki, check):
    replies = {"greeting": b"* OK re\x00ady\r\n",
               "login": b"A1 NO [AUTHENTICATIONFAILED] bad\x00password "
                        b"given\r\n"}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    reply = res.json["server_reply"]
    assert "bad" in reply and "password given" in reply, reply


def test_local_address_shown_with_the_hint(make_peer, pki, check):
    # What the peer saw as the client's address is what the check reports
    # as its own side, in the stage's facts and next to the hint.
    replies = {"login": b"A1 NO [AUTHENTICATIONFAILED] no\r\n"}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    host, port = peer.client_address
    want = f"{host}:{port}"
    assert res.json["local_address"] == want, res
    assert res.json["stages"][0]["local_address"] == want, res
    assert res.json["stages"][2]["local_address"] is None, res
    assert f"from {want}".encode() in res.stderr, res
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    human = check(peer.port, json_out=False, verbose=False)
    host, port = peer.client_address
    lines = human.stdout.decode().splitlines()
    hint = [i for i, x in enumerate(lines) if x.startswith("Hint:")]
    assert hint and lines[hint[0] + 1].startswith(
        f"From:   {host}:{port} "), human
    assert "IMAP" in lines[hint[0] + 1], human


def test_no_local_address_when_nothing_connected(check):
    res = check(closed_port())
    assert res.cause == "CONNECT_REFUSED", res
    assert res.json["local_address"] is None, res
    human = check(closed_port(), json_out=False)
    assert b"Hint:" in human.stdout and b"From:" not in human.stdout, human


def test_imap_invalid_utf8_in_reply(make_peer, pki, check):
    replies = {"login": b"A1 NO [AUTHENTICATIONFAILED] \xff\xfe\xc3( "
                        b"\xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf done\r\n"}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    assert res.json["server_reply"].endswith("done"), res


IMAP_BYE = {
    # where the BYE comes: (replies, error, cause, stage)
    # The engine calls a refused greeting IMAP_VALIDATION (SMTP's 421
    # greeting is SMTP_SETTINGS): the server is reachable but refuses.
    "greeting": ({"greeting": b"* BYE server shutting down\r\n"},
                 "IMAP_VALIDATION", "GREETING_REJECTED", 1),
    "capability": ({"capability": b"* BYE going away\r\n"},
                   "IMAP_VALIDATION", "SERVER_BYE", 1),
    "login": ({"login": b"* BYE autologout\r\n"},
              "IMAP_VALIDATION", "SERVER_BYE", 2),
    # The login takes EXAMINE along, so no CAPABILITY follows it; the BYE
    # comes between the login's OK and EXAMINE's answer.
    "post-login": ({"login": b"A1 OK in\r\n* BYE going away\r\n"},
                   "IMAP_VALIDATION", "SERVER_BYE", 2),
    "select": ({"select": b"* BYE mailbox gone\r\n"},
               "IMAP_VALIDATION", "SERVER_BYE", 2),
}


@pytest.mark.parametrize("where", sorted(IMAP_BYE))
def test_imap_bye(make_peer, pki, check, where):
    replies, error, cause, stage = IMAP_BYE[where]
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies)),
                                     ("close",)])
    res = check(peer.port)
    assert_result(res, error, cause, stage)
    if stage == 1:
        assert_no_secret(peer)


def test_imap_bye_at_logout_is_fine(make_peer, pki, check):
    imap = tls_peer(make_peer, pki, [
        ("send", b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
        ("expect", rb"^\S+ LOGIN "),
        ("send", tagged(b"OK [CAPABILITY IMAP4rev1] in")),
        ("expect", rb"^\S+ EXAMINE "), ("send", tagged(b"OK done")),
        ("expect", rb"^\S+ LOGOUT"), ("send", b"* BYE\r\n"), ("close",)])
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res


SMTP_MALFORMED = {
    # name: (replies, error, cause, stage)
    "greeting-999": ({"greeting": b"999 hello\r\n"},
                     "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "greeting-099": ({"greeting": b"099 hello\r\n"},
                     "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "greeting-letters": ({"greeting": b"2x0 hello\r\n"},
                         "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "greeting-no-separator": ({"greeting": b"220hello\r\n"},
                              "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "greeting-bare-lf": ({"greeting": b"220 hello\n"},
                         "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "greeting-nul": ({"greeting": b"220\x00hello\r\n"},
                     "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "greeting-421": ({"greeting": b"421 4.3.2 shutting down\r\n"},
                     "SMTP_SETTINGS", "GREETING_REJECTED", 3),
    "ehlo-600": ({"capability": b"600 what\r\n"},
                 "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "ehlo-code-changes": ({"capability": b"250-hi\r\n251 AUTH PLAIN\r\n"},
                          "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "ehlo-421": ({"capability": b"421 4.3.2 go away\r\n"},
                 "SMTP_SETTINGS", "EHLO_REJECTED", 3),
    "unsolicited-before-ehlo": (
        {"greeting": b"220 hi\r\n250 surprise\r\n"},
        "SMTP_SETTINGS", "PROTOCOL_ERROR", 3),
    "auth-299": ({"authenticate": b"299 2.7.0 sure\r\n"},
                 "SMTP_SETTINGS", "PROTOCOL_ERROR", 4),
    "auth-invalid-utf8-nul": (
        {"authenticate": b"535 5.7.8 \xff\xfe\xc3( bad\x00password\r\n"},
        "UNAUTHORIZED", "AUTH_REJECTED", 4),
    "auth-421": ({"authenticate": b"421 4.7.0 try later\r\n"},
                 "SMTP_SETTINGS", "AUTH_TEMPORARY", 4),
    "mail-421": ({"mail_from": b"421 4.4.2 closing\r\n"},
                 "TEST_SEND", "SEND_TEMPORARY", 5),
    "rcpt-421": ({"rcpt_to": b"421 4.4.2 closing\r\n"},
                 "TEST_SEND", "SEND_TEMPORARY", 5),
    "eod-421": ({"end_of_data": b"421 4.4.2 closing\r\n"},
                "TEST_SEND", "SEND_TEMPORARY", 5),
    "data-999": ({"data": b"999 go\r\n"},
                 "TEST_SEND", "PROTOCOL_ERROR", 5),
    "eod-unterminated-close": ({"end_of_data": b"250 2.0.0 ok"},
                               "TEST_SEND", "CONNECTION_CLOSED", 5),
}


@pytest.mark.parametrize("name", sorted(SMTP_MALFORMED))
def test_smtp_malformed(make_peer, pki, check, name):
    replies, error, cause, stage = SMTP_MALFORMED[name]

    def close_after(peer, s):
        if s in replies:
            peer.close()
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [
        ("call", smtp_serve(replies, after=close_after)), ("close",)])
    res = check(imap.port, smtp.port)
    assert_result(res, error, cause, stage)
    if stage == 3:
        assert_no_secret(smtp)


def test_smtp_235_before_auth_sent(make_peer, pki, check):
    # The EHLO reply carries a 235 for the AUTH the client has not sent
    # yet: the client must not take it, and must not send the password.
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [
        ("call", smtp_serve({"capability": SMTP_EHLO +
                             b"235 2.7.0 Authentication successful\r\n"}))])
    res = check(imap.port, smtp.port)
    assert res.error == "SMTP_SETTINGS" and res.cause == "PROTOCOL_ERROR", res
    assert_no_secret(smtp)


def test_smtp_imap_greeting_on_smtp_port(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("send", b"* OK IMAP4rev1 ready\r\n")])
    res = check(imap.port, smtp.port)
    assert_result(res, "SMTP_SETTINGS", "WRONG_PROTOCOL", 3)


# ---- server text aimed at the user's terminal -------------------------

EVIL = (b"\x1b[2J\x1b[H\x1b]0;pwned title\x07 evil\rOVERWRITTEN \x08\x08"
        b"\x00 bell\x07 csi\xc2\x9b31m bidi\xe2\x80\xaefdp.exe \x7f del")


def assert_terminal_safe(data):
    text = data.decode("utf-8")      # must be valid UTF-8
    bad = re.findall("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e"
                     "\u2066-\u2069]", text)
    assert not bad, f"control characters {bad!r} in {text[:2000]!r}"


def run_both_modes(check, *ports, **kw):
    """JSON and human output, both with the transcript."""
    res = check(*ports, **kw)
    human = check(*ports, json_out=False, **kw)
    for out in (res.stdout, res.stderr, human.stdout, human.stderr):
        assert_terminal_safe(out)
    return res, human


def test_imap_terminal_escapes(make_peer, pki, check):
    replies = {"greeting": b"* OK " + EVIL + b"\r\n",
               "login": b"* OK [ALERT] " + EVIL + b"\r\nA1 NO "
                        b"[AUTHENTICATIONFAILED] " + EVIL + b"\r\n"}
    peers = [tls_peer(make_peer, pki, [("call", imap_serve(replies))])
             for _ in range(2)]
    res = check(peers[0].port)
    human = check(peers[1].port, json_out=False)
    for out in (res.stdout, res.stderr, human.stdout, human.stderr):
        assert_terminal_safe(out)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    assert "OVERWRITTEN" in res.json["server_reply"]
    assert b"OVERWRITTEN" in human.stdout


def test_smtp_terminal_escapes(make_peer, pki, check):
    replies = {"capability": b"250-peer " + EVIL + b"\r\n250-X-" + EVIL +
               b"\r\n250 AUTH PLAIN\r\n",
               "authenticate": b"535-5.7.8 " + EVIL + b"\r\n535 5.7.8 "
                               b"Error: authentication failed: " + EVIL +
                               b"\r\n"}
    peers = []
    for _ in range(2):
        peers.append((good_imap(make_peer, pki), tls_peer(
            make_peer, pki, [("call", smtp_serve(replies))])))
    res = check(peers[0][0].port, peers[0][1].port)
    human = check(peers[1][0].port, peers[1][1].port, json_out=False)
    for out in (res.stdout, res.stderr, human.stdout, human.stderr):
        assert_terminal_safe(out)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 4)
    caps = res.json["stages"][2]["capabilities"]
    assert any("OVERWRITTEN" in c for c in caps), caps


@pytest.mark.parametrize("lines", [1, 40])
def test_imap_long_alert(make_peer, pki, check, lines):
    alert = b"* OK [ALERT] " + b"Your account needs attention! " * 250 + \
        b"\r\n"
    replies = {"login": alert * lines + b"A1 NO [ALERT] " +
               b"x" * 8000 + b"\r\n"}
    peers = [tls_peer(make_peer, pki, [("call", imap_serve(replies))])
             for _ in range(3)]
    res = check(peers[0].port)
    human = check(peers[1].port, json_out=False, verbose=False)
    transcript = check(peers[2].port, json_out=False)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    for key in ("server_reply", "detail", "hint"):
        value = res.json[key] or ""
        assert len(value.encode()) <= 4100, (key, len(value))
    # The result as printed, and each transcript line, stay bounded.
    assert len(human.stdout) < 16384, len(human.stdout)
    out_lines = transcript.stdout.split(b"\n")
    said = [x for x in out_lines if re.match(rb"  \[\d (imap|smtp)\] ", x)]
    assert len(said) > lines, transcript
    assert max(len(x) for x in said) <= 2100
    assert max(len(x) for x in out_lines) <= 4200
    for out in (human.stdout, transcript.stdout):
        assert_terminal_safe(out)


def test_imap_alert_line_too_long(make_peer, pki, check):
    replies = {"login": b"A1 NO [ALERT] " + b"y" * 20000 + b"\r\n"}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert_result(res, "IMAP_VALIDATION", "LINE_TOO_LONG", 2)
    assert len(res.json["server_reply"].encode()) <= 4100


# ---- TLS faults -------------------------------------------------------

CERT_FAULTS = {
    # certificate: (cause, context options)
    "expired": ("CERT_EXPIRED", {}),
    "notyet": ("CERT_NOT_YET_VALID", {}),
    "selfsigned": ("CERT_UNTRUSTED", {}),
    "sha1": ("CERT_INSECURE_ALGORITHM", {"weak": True}),
    "clientonly": ("CERT_PURPOSE", {}),
    "partialwild": ("CERT_HOSTNAME", {}),
    "cnonly": ("CERT_HOSTNAME", {}),
    "wronghost": ("CERT_HOSTNAME", {}),
}


def test_sha1_certificate_is_flagged_by_gnutls(pki):
    assert "insecure algorithm" in pki.verify_status("sha1")


@pytest.mark.parametrize("cert", sorted(CERT_FAULTS))
def test_imap_certificate_fault(make_peer, pki, check, cert):
    cause, opts = CERT_FAULTS[cert]
    peer = tls_peer(make_peer, pki, [("call", imap_serve())], cert=cert,
                    **opts)
    res = check(peer.port)
    assert_result(res, "UNTRUSTED_CERT", cause, 1)
    assert res.json["stages"][0]["cert_sha256"], res
    assert_no_secret(peer)
    # Nothing at all went over the untrusted connection.
    assert peer.received_tls == b"", peer.describe()


@pytest.mark.parametrize("cert", sorted(CERT_FAULTS))
def test_allow_untrusted_relaxes_certificate(make_peer, pki, check, cert):
    _, opts = CERT_FAULTS[cert]
    imap = tls_peer(make_peer, pki, [("call", imap_serve())], cert=cert,
                    **opts)
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port, allow_untrusted=True)
    assert res.rc == 0, res


def cert_sha256(pki, cert, colons=True, lower=False):
    """The fingerprint of a fixture certificate, as the fact shows it."""
    with open(pki.path(cert, "pem"), encoding="ascii") as f:
        pem = f.read()
    end = "-----END CERTIFICATE-----"
    der = ssl.PEM_cert_to_DER_cert(pem[:pem.index(end) + len(end)] + "\n")
    digest = hashlib.sha256(der).hexdigest()
    digest = digest if lower else digest.upper()
    if colons:
        return ":".join(digest[i:i + 2] for i in range(0, 64, 2))
    return digest


@pytest.mark.parametrize("cert", ["selfsigned", "expired", "wronghost"])
def test_pinned_certificate_accepted_despite_fault(make_peer, pki, check,
                                                   cert):
    # Both spellings of the fingerprint, each on one protocol.
    imap = tls_peer(make_peer, pki, [("call", imap_serve())], cert=cert)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve())], cert=cert)
    res = check(imap.port, smtp.port, extra=[
        "--imap-cert-sha256", cert_sha256(pki, cert),
        "--smtp-cert-sha256", cert_sha256(pki, cert, colons=False,
                                          lower=True)])
    assert res.rc == 0, res
    assert res.json["stages"][0]["cert_sha256"] == cert_sha256(pki, cert)
    assert b"pinned SHA-256" in res.stderr, res


@pytest.mark.parametrize("allow_untrusted", [False, True])
def test_pin_mismatch_fails_even_for_a_trusted_certificate(
        make_peer, pki, check, allow_untrusted):
    # The peer's certificate verifies, but it is not the one pinned: a
    # changed certificate must fail whatever else is allowed.
    pinned = cert_sha256(pki, "selfsigned")
    peer = good_imap(make_peer, pki)
    res = check(peer.port, allow_untrusted=allow_untrusted,
                extra=["--imap-cert-sha256", pinned])
    assert_result(res, "UNTRUSTED_CERT", "CERT_PIN_MISMATCH", 1)
    assert pinned in res.json["detail"], res
    assert cert_sha256(pki, "good") in res.json["detail"], res
    assert res.json["hint_id"] == "UNTRUSTED_CERT.CERT_PIN_MISMATCH", res
    assert_no_secret(peer)
    assert peer.received_tls == b"", peer.describe()


def test_smtp_pin_mismatch_over_starttls(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = make_peer([("call", smtp_serve(starttls=True))],
                     tls_context=pki.context("good"))
    res = check(imap.port, smtp.port, smtp_security="starttls",
                extra=["--smtp-cert-sha256", cert_sha256(pki, "expired")])
    assert_result(res, "UNTRUSTED_CERT", "CERT_PIN_MISMATCH", 3)
    assert_no_secret(smtp)


def test_pin_does_not_lower_the_tls_floor(make_peer, pki, check):
    peer = old_tls_peer(make_peer, pki, "TLSv1_1")
    res = check(peer.port, extra=["--imap-cert-sha256",
                                  cert_sha256(pki, "good")])
    assert res.error == "IMAP_VALIDATION" and res.stage == 1, res
    assert peer.tls_version is None, "the old handshake completed"


def test_smtp_certificate_fault(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve())],
                    cert="expired")
    res = check(imap.port, smtp.port)
    assert_result(res, "UNTRUSTED_CERT", "CERT_EXPIRED", 3)
    assert_no_secret(smtp)


def test_smtp_starttls_certificate_fault(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = make_peer([("call", smtp_serve(starttls=True))],
                     tls_context=pki.context("selfsigned"))
    res = check(imap.port, smtp.port, smtp_security="starttls")
    assert_result(res, "UNTRUSTED_CERT", "CERT_UNTRUSTED", 3)
    assert_no_secret(smtp)


@pytest.mark.parametrize("host", ["imap.example.com", "imap.example.com."])
def test_certificate_positive_controls(make_peer, pki, check, host):
    # The good and the proper-wildcard certificates pass, also for a
    # trailing-dot host name: the faults above fail for their fault only.
    imap = tls_peer(make_peer, pki, [("call", imap_serve())],
                    cert="wildcard")
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port, imap_host=host)
    assert res.rc == 0, res


def test_wildcard_covers_one_label_only(make_peer, pki, check):
    peer = tls_peer(make_peer, pki, [("call", imap_serve())],
                    cert="wildcard")
    res = check(peer.port, imap_host="a.imap.example.com")
    assert_result(res, "UNTRUSTED_CERT", "CERT_HOSTNAME", 1)


def old_tls_peer(make_peer, pki, version):
    v = getattr(ssl.TLSVersion, version)
    return tls_peer(make_peer, pki, [("call", imap_serve())], weak=True,
                    min_version=v, max_version=v)


@pytest.mark.parametrize("allow_untrusted", [False, True])
@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_old_tls_versions_refused(make_peer, pki, check, version,
                                  allow_untrusted):
    # The floor is TLS 1.2, and allow-untrusted does not lower it.
    peer = old_tls_peer(make_peer, pki, version)
    res = check(peer.port, allow_untrusted=allow_untrusted)
    assert res.error == "IMAP_VALIDATION" and res.stage == 1, res
    assert res.cause in ("TLS_VERSION", "TLS_HANDSHAKE"), res
    assert_no_secret(peer)
    assert peer.tls_version is None, "the old handshake completed"
    assert "unsupported protocol" in (peer.error or "").lower(), \
        peer.describe()


def test_old_tls_version_named_as_such(make_peer, pki, check):
    peer = old_tls_peer(make_peer, pki, "TLSv1_1")
    res = check(peer.port)
    assert res.cause == "TLS_VERSION", res


def test_old_tls_server_really_speaks_tls10(pki):
    # The scenario above only means something if the peer can do TLS 1.0.
    import socket
    import threading
    ctx = pki.context(weak=True, min_version=ssl.TLSVersion.TLSv1,
                      max_version=ssl.TLSVersion.TLSv1)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    out = {}

    def serve():
        c, _ = srv.accept()
        c.settimeout(10)
        try:
            with ctx.wrap_socket(c, server_side=True) as s:
                out["v"] = s.version()
        except (OSError, ssl.SSLError) as e:
            out["e"] = e
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cctx.minimum_version = ssl.TLSVersion.TLSv1
        cctx.maximum_version = ssl.TLSVersion.TLSv1
    cctx.load_verify_locations(pki.ca)
    with socket.create_connection(srv.getsockname(), timeout=10) as raw:
        with cctx.wrap_socket(raw, server_hostname="localhost") as s:
            assert s.version() == "TLSv1"
    t.join(10)
    srv.close()
    assert out.get("v") == "TLSv1", out


# A server that hangs up before any TLS byte is a settings problem (maybe
# not a TLS port at all); one that starts a ServerHello and breaks off is a
# server fault.
@pytest.mark.parametrize("cut,error", [("close", "IMAP_SETTINGS"),
                                       ("reset", "IMAP_SETTINGS"),
                                       ("partial-record", "IMAP_VALIDATION")])
def test_truncated_handshake(make_peer, pki, check, cut, error):
    steps = [("read",)]
    if cut == "partial-record":
        steps.append(("send", b"\x16\x03\x03\x00\x7a\x02\x00\x00"))
    steps.append(("reset",) if cut == "reset" else ("close",))
    peer = make_peer(steps)
    res = check(peer.port)
    assert_result(res, error, "TLS_HANDSHAKE", 1)


def test_client_certificate_requested_optional(make_peer, pki, check):
    imap = tls_peer(make_peer, pki, [("call", imap_serve())],
                    request_client_cert=ssl.CERT_OPTIONAL)
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res


@pytest.mark.parametrize("version,error,cause", [
    ("TLSv1_2", "IMAP_VALIDATION", "TLS_HANDSHAKE"),
    ("TLSv1_3", "IMAP_VALIDATION", "TLS_HANDSHAKE")])
def test_client_certificate_required(make_peer, pki, check, version, error,
                                     cause):
    # We have no client certificate, so a server that insists on one must
    # make the stage fail, with a TLS reason and before any login. With
    # TLS 1.3 the server's refusal arrives after the client's handshake
    # has finished, as an alert on the first read; both are named as a
    # TLS failure.
    v = getattr(ssl.TLSVersion, version)
    peer = tls_peer(make_peer, pki, [("call", imap_serve())],
                    request_client_cert=ssl.CERT_REQUIRED, max_version=v)
    res = check(peer.port)
    assert_result(res, error, cause, 1)
    assert "TLS" in res.json["detail"], res
    assert_no_secret(peer)


def test_client_certificate_required_named_as_such(make_peer, pki, check):
    peer = tls_peer(make_peer, pki, [("call", imap_serve())],
                    request_client_cert=ssl.CERT_REQUIRED)
    res = check(peer.port)
    assert res.cause == "TLS_HANDSHAKE", res
    assert "certificate" in res.json["detail"], res


# ---- nothing from before TLS survives into the TLS session -----------

@pytest.mark.parametrize("where", ["capability", "greeting-code"])
def test_plaintext_capabilities_not_trusted_after_starttls(make_peer, pki,
                                                           check, where):
    # Before TLS the server lists AUTH=PLAIN and SASL-IR; after TLS only
    # IMAP4rev1. A client that kept the old list would AUTHENTICATE.
    plain_caps = b"IMAP4rev1 STARTTLS AUTH=PLAIN SASL-IR"

    def caps_reply(p):
        c = b"IMAP4rev1" if p.tls_active else plain_caps
        return b"* CAPABILITY " + c + b"\r\n" + p.last_tag + b" OK done\r\n"
    replies = {"capability": caps_reply}
    if where == "greeting-code":
        replies["greeting"] = b"* OK [CAPABILITY " + plain_caps + b"] hi\r\n"
    imap = make_peer([("call", imap_serve(replies))],
                     tls_context=pki.context())
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port, imap_security="starttls")
    assert res.rc == 0, res
    tls_cmds = [c for tls, c in imap.commands if tls]
    assert tls_cmds[:2] == [b"CAPABILITY", b"LOGIN"], imap.commands
    assert_secret_only_over_tls(imap)


def test_plaintext_alert_not_shown_after_tls(make_peer, pki, check):
    replies = {
        "greeting": b"* OK [ALERT] PLAINTEXT-GREETING-ALERT ready\r\n",
        "capability": lambda p: (
            b"* CAPABILITY IMAP4rev1" +
            (b"" if p.tls_active else b" STARTTLS LOGINDISABLED") +
            b"\r\n" +
            (b"" if p.tls_active else
             b"* OK [ALERT] PLAINTEXT-CAPABILITY-ALERT\r\n") +
            p.last_tag + b" OK done\r\n"),
        "starttls": b"* OK [ALERT] PLAINTEXT-STARTTLS-ALERT\r\n"
                    b"* NO [ALERT] PLAINTEXT-NO-ALERT\r\n"
                    b"A1 OK Begin TLS\r\n",
        "login": b"* OK [ALERT] TLS-ALERT-MARKER\r\nA1 NO "
                 b"[AUTHENTICATIONFAILED] Invalid credentials\r\n",
    }
    peer = make_peer([("call", imap_serve(replies))],
                     tls_context=pki.context())
    res = check(peer.port, imap_security="starttls")
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    shown = " ".join(str(res.json[k]) for k in ("server_reply", "detail",
                                                "hint"))
    assert "TLS-ALERT-MARKER" in shown, shown
    assert "PLAINTEXT" not in shown, shown
    assert_secret_only_over_tls(peer)


def test_smtp_plaintext_ehlo_not_trusted_after_starttls(make_peer, pki,
                                                        check):
    # Plaintext EHLO offers PLAIN; the TLS one only LOGIN.
    imap = good_imap(make_peer, pki)
    smtp = make_peer([("call", smtp_serve(
        {"capability": lambda p: (
            b"250-peer\r\n250 AUTH LOGIN\r\n" if p.tls_active else
            b"250-peer\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")}))],
        tls_context=pki.context())
    res = check(imap.port, smtp.port, smtp_security="starttls")
    assert res.rc == 0, res
    # The check may end before the peer has read its QUIT: wait for the
    # scenario to see the connection close.
    assert smtp.wait()
    assert [c for _, c in smtp.commands] == [
        b"EHLO", b"STARTTLS", b"EHLO", b"AUTH", b"MAIL", b"RCPT", b"DATA",
        b"QUIT"], smtp.commands
    assert res.json["stages"][3]["mechanism"] == "LOGIN", res
    assert_secret_only_over_tls(smtp)


def test_password_never_in_transcript_or_results(make_peer, pki, check):
    # The server echoes the password back in its refusal.
    replies = {"login": b"A1 NO [AUTHENTICATIONFAILED] bad password " +
               PASSWORD.encode() + b"\r\n"}
    peer = tls_peer(make_peer, pki, [("call", imap_serve(replies))])
    res = check(peer.port)
    assert res.error == "UNAUTHORIZED", res
    assert PASSWORD not in res.stdout.decode()
    assert PASSWORD not in res.stderr.decode()
    assert "[redacted]" in res.json["server_reply"]


def test_smtp_password_echo_is_redacted(make_peer, pki, check):
    # Some servers quote the failed command or credentials back.
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve(
        {"authenticate": b"535-5.7.8 you sent " + PASSWORD.encode() +
         b"\r\n535 5.7.8 Error: authentication failed\r\n"}))])
    res = check(imap.port, smtp.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 4)
    assert "[redacted]" in res.json["server_reply"], res


@pytest.mark.parametrize("login", ["LOGIN", "PLAIN"])
def test_smtp_sasl_continuations_are_redacted(make_peer, pki, check,
                                              login):
    # Only one mechanism offered, without initial response for LOGIN: the
    # password travels in a 334 continuation, which the transcript must
    # hide in every form.
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve(
        ehlo=b"250-peer\r\n250 AUTH " + login.encode() + b"\r\n"))])
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res
    assert res.json["stages"][3]["mechanism"] == login
    assert secret_sent(bytes(smtp.received_tls)), smtp.describe()
    assert not secret_sent(res.stderr), res


@pytest.mark.parametrize("mech", ["LOGIN", "PLAIN"])
def test_imap_sasl_continuations_are_redacted(make_peer, pki, check, mech):
    # LOGINDISABLED makes the client use SASL (LOGIN, or PLAIN without
    # SASL-IR), whose secret travels in a continuation; otherwise the
    # LOGIN command would be preferred.
    caps = b"IMAP4rev1 AUTH=" + mech.encode() + b" LOGINDISABLED"
    imap = tls_peer(make_peer, pki, [("call", imap_serve(caps=caps))])
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res
    assert res.json["stages"][1]["mechanism"] == mech, res
    assert secret_sent(bytes(imap.received_tls)), imap.describe()
    assert not secret_sent(res.stderr), res


def test_imap_scram_accepted_without_proof(make_peer, pki, check):
    # An impostor that cannot know the password says OK at once. SCRAM is
    # what the client chooses where an impostor is possible: behind a
    # certificate accepted only because the user allowed it.
    peer = tls_peer(make_peer, pki, [
        ("send", b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256 AUTH=PLAIN "
                 b"SASL-IR] ready\r\n"),
        ("expect", rb"^\S+ AUTHENTICATE SCRAM-SHA-256"),
        ("send", tagged(b"OK [CAPABILITY IMAP4rev1] welcome"))],
        cert="selfsigned")
    res = check(peer.port, allow_untrusted=True)
    assert_result(res, "IMAP_VALIDATION", "AUTH_SERVER_SIGNATURE", 2)
    assert_no_secret(peer)


def test_smtp_scram_accepted_without_proof(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve(
        ehlo=b"250-peer\r\n250 AUTH SCRAM-SHA-256 PLAIN\r\n"))],
        cert="selfsigned")
    res = check(imap.port, smtp.port, allow_untrusted=True)
    assert_result(res, "SMTP_SETTINGS", "AUTH_SERVER_SIGNATURE", 4)
    assert_no_secret(smtp)


@pytest.mark.parametrize("caps", [
    pytest.param(b"IMAP4rev1", id="LOGIN"),
    pytest.param(b"IMAP4rev1 AUTH=PLAIN SASL-IR", id="AUTHENTICATE")])
def test_imap_command_echo_is_redacted(make_peer, pki, check, caps):
    # The refusal quotes the whole login command back, base64 and all.
    def echo(p):
        sent = [line for _, line in p.lines][-1]
        return p.last_tag + b" NO [AUTHENTICATIONFAILED] you sent: " + \
            sent + b"\r\n"
    peer = tls_peer(make_peer, pki, [("call", imap_serve({"login": echo},
                                                         caps=caps))])
    res = check(peer.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    assert "[redacted]" in res.json["server_reply"], res


# ---- sub-second timeouts, through the library itself -----------------

def run_library(pki, imap_port, stage_timeout_ms):
    """A minimal ctypes run of libmailconn (the CLI's --timeout counts
    whole seconds). Returns (outcome, cause, stage, seconds)."""
    import ctypes
    import os
    from conftest import BCC, EMAIL, ROOT, closed_port
    path = os.environ.get("MAILCONN_LIBRARY") or os.path.join(
        ROOT, "build", "lib", "libmailconn.so.1")
    lib = ctypes.CDLL(path)
    lib.mailconn_config_new.restype = ctypes.c_void_p
    lib.mailconn_config_set_string.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                               ctypes.c_char_p]
    lib.mailconn_config_set_int.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                            ctypes.c_int64]
    lib.mailconn_config_free.argtypes = [ctypes.c_void_p]
    lib.mailconn_session_new.argtypes = [ctypes.c_void_p,
                                         ctypes.POINTER(ctypes.c_void_p)]
    for name in ("run", "outcome", "cause", "stage"):
        getattr(lib, "mailconn_session_" + name).argtypes = [ctypes.c_void_p]
    lib.mailconn_session_free.argtypes = [ctypes.c_void_p]
    cfg = lib.mailconn_config_new()
    strings = {1: EMAIL, 2: PASSWORD, 7: IMAP_HOST, 8: SMTP_HOST, 9: BCC,
               12: pki.ca, 14: "127.0.0.1", 15: "127.0.0.1"}
    ints = {100: imap_port, 101: 1, 102: closed_port(), 103: 1,
            105: stage_timeout_ms}
    try:
        for k, v in strings.items():
            assert lib.mailconn_config_set_string(cfg, k, v.encode()) == 0
        for k, v in ints.items():
            assert lib.mailconn_config_set_int(cfg, k, v) == 0
        s = ctypes.c_void_p()
        assert lib.mailconn_session_new(cfg, ctypes.byref(s)) == 0
        start = time.monotonic()
        lib.mailconn_session_run(s)     # ctypes drops the GIL meanwhile
        took = time.monotonic() - start
        got = (lib.mailconn_session_outcome(s), lib.mailconn_session_cause(s),
               lib.mailconn_session_stage(s), took)
        lib.mailconn_session_free(s)
        return got
    finally:
        lib.mailconn_config_free(cfg)


@pytest.mark.parametrize("steps,want", [
    ([("drip", b"* OK this greeting trickles in one byte at a time\r\n",
       0.02)], (1, 59, 1)),
    ([("send", b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
      ("expect", rb"^\S+ LOGIN "), ("sleep_forever",)], (3, 26, 2))],
    ids=["slowloris-greeting", "silent-after-login"])
def test_subsecond_stage_timeout(make_peer, pki, steps, want):
    # want: (outcome, cause, stage) as numbers: 1 IMAP_SETTINGS,
    # 3 IMAP_VALIDATION; 26 MAILCONN_CAUSE_TIMEOUT (a command's reply),
    # 59 MAILCONN_CAUSE_GREETING_TIMEOUT.
    peer = tls_peer(make_peer, pki, steps)
    outcome, cause, stage, took = run_library(pki, peer.port, 300)
    assert (outcome, cause, stage) == want
    assert 0.25 <= took < 1.5, took
    if stage == 1:
        assert_no_secret(peer)


# ---- mechanism policy and the one retry after a refused -PLUS ----------

SCRAM_CAPS = (b"IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 "
              b"AUTH=PLAIN")
SCRAM_EHLO = (b"250-peer.example.com\r\n250-AUTH SCRAM-SHA-256-PLUS "
              b"SCRAM-SHA-256 PLAIN\r\n250 ENHANCEDSTATUSCODES\r\n")
# How real servers refuse a -PLUS they cannot check, a right password
# notwithstanding: Cyrus SASL (tls-unique only, we bind tls-exporter on
# TLS 1.3) and GNU imap4d with GNU SASL (no binding provided at all).
PLUS_REFUSALS = {
    "cyrus": b"NO bad protocol / cancel",
    "imap4d": b"NO AUTHENTICATE SCRAM-SHA-256-PLUS authentication failed",
}
FALLBACK = "SCRAM-SHA-256 (after SCRAM-SHA-256-PLUS was refused)"
WRONG_PASSWORD = "Wrong-0000-password"


def commands(peer, name):
    return [c for _, c in peer.commands if c == name]


def test_verified_certificate_logs_in_with_plain(make_peer, pki, check):
    # SCRAM and -PLUS offered, but the certificate is verified: PLAIN in
    # one round trip, and no SCRAM exchange at all.
    scram_imap, scram_smtp = ScramServer(PASSWORD), ScramServer(PASSWORD)
    imap = tls_peer(make_peer, pki, [("call", imap_serve(
        caps=SCRAM_CAPS, scram=scram_imap, refuse_plus=b"NO no"))])
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve(
        ehlo=SCRAM_EHLO, scram=scram_smtp, refuse_plus=b"535 5.7.8 no"))])
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res
    assert res.json["stages"][1]["mechanism"] == "PLAIN", res
    assert res.json["stages"][3]["mechanism"] == "PLAIN", res
    assert scram_imap.gs2_headers == [] and scram_smtp.gs2_headers == []
    assert len(commands(imap, b"AUTHENTICATE")) == 1, imap.describe()
    assert len(commands(smtp, b"AUTH")) == 1, smtp.describe()


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
@pytest.mark.parametrize("server", sorted(PLUS_REFUSALS))
def test_imap_plus_refused_retried_once(make_peer, pki, check, server,
                                        right):
    # Behind a certificate the user allowed, -PLUS goes first; its refusal
    # proves nothing, so one SCRAM-SHA-256 attempt follows ("n,,": "y,,"
    # would be refused as a downgrade), and only that one's verdict counts.
    scram = ScramServer(PASSWORD)
    imap = tls_peer(make_peer, pki, [("call", imap_serve(
        caps=SCRAM_CAPS, scram=scram, refuse_plus=PLUS_REFUSALS[server]))],
        cert="selfsigned")
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port, allow_untrusted=True,
                password=PASSWORD if right else WRONG_PASSWORD)
    assert len(commands(imap, b"AUTHENTICATE")) == 2, imap.describe()
    assert scram.gs2_headers == [b"n,,"], scram.gs2_headers
    assert b"trying once more with SCRAM-SHA-256" in res.stderr, res
    if right:
        assert res.rc == 0, res
        assert res.json["stages"][1]["mechanism"] == FALLBACK, res
    else:
        assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
        assert b"SCRAM-SHA-256 authentication failed" in \
            res.json["server_reply"].encode(), res
    assert_no_secret(imap)


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
def test_smtp_plus_refused_retried_once(make_peer, pki, check, right):
    scram = ScramServer(PASSWORD)
    imap = good_imap(make_peer, pki)
    smtp = tls_peer(make_peer, pki, [("call", smtp_serve(
        ehlo=SCRAM_EHLO, scram=scram,
        refuse_plus=b"535 5.7.8 bad protocol / cancel"))], cert="selfsigned")
    res = check(imap.port, smtp.port, allow_untrusted=True,
                password=PASSWORD if right else WRONG_PASSWORD)
    assert len(commands(smtp, b"AUTH")) == 2, smtp.describe()
    assert scram.gs2_headers == [b"n,,"], scram.gs2_headers
    if right:
        assert res.rc == 0, res
        assert res.json["stages"][3]["mechanism"] == FALLBACK, res
    else:
        # The refused retry is the auth outcome, not a send failure.
        assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 4)
        assert commands(smtp, b"MAIL") == [], smtp.describe()
    assert_no_secret(smtp)


def test_mechanism_list_fixes_the_order(make_peer, pki, check):
    # The caller's list over a verified certificate: SCRAM, as asked.
    scram = ScramServer(PASSWORD)
    imap = tls_peer(make_peer, pki, [("call", imap_serve(
        caps=SCRAM_CAPS, scram=scram))])
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port,
                extra=("--mechanisms", "SCRAM-SHA-256,PLAIN"))
    assert res.rc == 0, res
    assert res.json["stages"][1]["mechanism"] == "SCRAM-SHA-256", res
    assert res.json["stages"][3]["mechanism"] == "PLAIN", res


# ---- IMAP: login, EXAMINE and LOGOUT in one flight ---------------------

def one_flight_imap(make_peer, pki, answer):
    # Each expect is met before the server says anything after the
    # greeting: a client that waited for the login's reply would stall.
    return tls_peer(make_peer, pki, [
        ("send", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
        ("expect", rb"^A1 LOGIN \S+ \S+$"),
        ("expect", rb"^A2 EXAMINE INBOX$"),
        ("expect", rb"^A3 LOGOUT$"),
        ("send", answer), ("close",)])


def test_imap_login_examine_logout_in_one_flight(make_peer, pki, check):
    imap = one_flight_imap(make_peer, pki,
                           b"A1 OK [CAPABILITY IMAP4rev1] in\r\n"
                           b"* 0 EXISTS\r\nA2 OK [READ-ONLY] done\r\n"
                           b"* BYE\r\nA3 OK bye\r\n")
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res


def test_imap_one_flight_refused_login_keeps_its_text(make_peer, pki,
                                                      check):
    # The pipelined EXAMINE is answered too, and must not be mistaken for
    # the verdict.
    imap = one_flight_imap(make_peer, pki,
                           b"A1 NO [AUTHENTICATIONFAILED] Authentication "
                           b"failed.\r\nA2 BAD Error in IMAP command "
                           b"EXAMINE: Not logged in\r\n* BYE\r\nA3 OK\r\n")
    res = check(imap.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 2)
    assert res.json["server_reply"] == \
        "A1 NO [AUTHENTICATIONFAILED] Authentication failed.", res


def test_imap_one_flight_examine_answer_first_is_refused(make_peer, pki,
                                                         check):
    # An injected answer to EXAMINE ahead of the login's: never success.
    imap = one_flight_imap(make_peer, pki,
                           b"A2 OK [READ-ONLY] done\r\nA1 OK in\r\n")
    smtp = good_smtp(make_peer, pki)
    res = check(imap.port, smtp.port)
    assert_result(res, "IMAP_VALIDATION", "PROTOCOL_ERROR", 2)


# ---- SMTP: AUTH PLAIN, MAIL, RCPT and DATA in one flight ---------------

PIPE_EHLO = (b"250-peer.example.com\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n"
             b"250 ENHANCEDSTATUSCODES\r\n")


def one_flight_smtp(make_peer, pki, answer, rest=()):
    return tls_peer(make_peer, pki, [
        ("send", b"220 peer.example.com ESMTP\r\n"),
        ("expect", rb"^EHLO "), ("send", PIPE_EHLO),
        ("expect", rb"^AUTH PLAIN \S+$"),
        ("expect", rb"^MAIL FROM:<"),
        ("expect", rb"^RCPT TO:<"),
        ("expect", rb"^DATA$"),
        ("send", answer)] + list(rest) + [("close",)])


def test_smtp_auth_and_envelope_in_one_flight(make_peer, pki, check):
    imap = good_imap(make_peer, pki)
    smtp = one_flight_smtp(make_peer, pki,
                           b"235 2.7.0 ok\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
                           b"354 go ahead\r\n",
                           [("expect", rb"^\.$"),
                            ("send", b"250 2.0.0 queued\r\n"),
                            ("expect", rb"^QUIT$")])
    res = check(imap.port, smtp.port)
    assert res.rc == 0, res


def test_smtp_one_flight_refused_auth_is_the_auth_outcome(make_peer, pki,
                                                          check):
    # Even a 354 to the pipelined DATA must not send the message: the
    # refused AUTH ends it, with its own text, at stage 4.
    imap = good_imap(make_peer, pki)
    smtp = one_flight_smtp(make_peer, pki,
                           b"535 5.7.8 Error: authentication failed\r\n"
                           b"530 5.7.0 Authentication required\r\n"
                           b"554 5.5.1 Error: no valid recipients\r\n"
                           b"354 go ahead\r\n")
    res = check(imap.port, smtp.port)
    assert_result(res, "UNAUTHORIZED", "AUTH_REJECTED", 4)
    assert res.json["server_reply"] == \
        "535 5.7.8 Error: authentication failed", res
    assert b"Subject:" not in smtp.received_tls, smtp.describe()
