# SPDX-License-Identifier: LGPL-2.1-or-later
"""The binding against the real Dovecot and Postfix of tests/servers: a full
check whose test mail is read back over IMAP, a wrong password, and 200
concurrent checks in one asyncio loop."""

import asyncio
import base64
import imaplib
import re
import ssl
import sys
import time

import pytest

import mailconn

# Each test mail is read back within this many IDLE rounds; every round
# ends with a new message in the mailbox, or fails the socket timeout.
READBACK_ROUNDS = 30
READBACK_TIMEOUT = 20.0

CONCURRENT_CHECKS = 200


@pytest.fixture(scope="module")
def env(mail_servers):
    return mail_servers.env


def config(env, **changes):
    cfg = dict(
        email=env["MAILCONN_TEST_USER"],
        password=env["MAILCONN_TEST_PASSWORD"],
        imap_host=env["MAILCONN_TEST_HOSTNAME"],
        imap_port=int(env["MAILCONN_TEST_IMAP_TLS_PORT"]),
        imap_security="tls",
        smtp_host=env["MAILCONN_TEST_HOSTNAME"],
        smtp_port=int(env["MAILCONN_TEST_SMTP_STARTTLS_PORT"]),
        smtp_security="starttls",
        bcc=env["MAILCONN_TEST_BCC"],
        ca_file=env["MAILCONN_TEST_CA_FILE"],
        stage_timeout_ms=20000,
    )
    cfg.update(changes)
    return cfg


def every_string(result):
    """Every piece of text a Result carries."""
    yield result.server_reply
    yield result.detail
    yield result.hint
    yield result.message
    for st in result.stages:
        yield from (st.name, st.address, st.tls_version, st.tls_cipher,
                    st.cert_sha256, st.cert_subject, st.mechanism,
                    st.message_id)
        yield from st.capabilities
    for line in result.transcript or ():
        yield line.line


def assert_no_secret(result, login, password):
    # The password itself, and the AUTH PLAIN blob that would carry it.
    blob = base64.b64encode(f"\0{login}\0{password}".encode()).decode()
    for text in every_string(result):
        if text:
            assert password not in text, text
            assert blob not in text, text


def assert_all_passed(result):
    assert result.error == mailconn.Error.OK, (result.error, result.cause,
                                                result.detail,
                                                result.server_reply)
    assert result.ok
    assert result.cause == mailconn.Cause.NONE
    assert result.stage == mailconn.Stage.TEST_SEND
    assert result.hint == ""
    assert [s.status for s in result.stages] == ["passed"] * 5
    assert all(s.ms is not None and s.ms >= 0 for s in result.stages)


def _search(imap, message_id):
    # HEADER matches substrings, so the id works with or without its <>.
    typ, data = imap.search(None, "HEADER", "Message-ID",
                            '"' + message_id.strip("<>") + '"')
    assert typ == "OK", data
    return data[0].split()


def _idle_for_news(imap):
    """One IMAP IDLE round: return once the server reports a new message
    (EXISTS or RECENT); the socket timeout bounds the wait."""
    tag = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    line = imap.readline()
    assert line.startswith(b"+"), line
    while not re.match(rb"\* \d+ (EXISTS|RECENT)", imap.readline()):
        pass
    imap.send(b"DONE\r\n")
    while True:
        line = imap.readline()
        if line.startswith(tag + b" "):
            assert line.split()[1] == b"OK", line
            return


def read_back(env, message_id):
    """Log in as the BCC user and wait (bounded) for the test mail."""
    ctx = ssl.create_default_context(cafile=env["MAILCONN_TEST_CA_FILE"])
    with imaplib.IMAP4_SSL(env["MAILCONN_TEST_HOSTNAME"],
                           int(env["MAILCONN_TEST_IMAP_TLS_PORT"]),
                           ssl_context=ctx,
                           timeout=READBACK_TIMEOUT) as imap:
        imap.login(env["MAILCONN_TEST_BCC"], env["MAILCONN_TEST_BCC_PASSWORD"])
        typ, data = imap.select("INBOX")
        assert typ == "OK", data
        assert "IDLE" in imap.capabilities, imap.capabilities
        # LMTP delivery is asynchronous: search, and if it is not there
        # yet, IDLE until the mailbox grows, then search again.
        for _ in range(READBACK_ROUNDS):
            found = _search(imap, message_id)
            if found:
                typ, data = imap.fetch(found[0], "(BODY.PEEK[HEADER])")
                assert typ == "OK", data
                return data[0][1].decode("utf-8", "replace")
            _idle_for_news(imap)
    raise AssertionError(f"{message_id} not delivered after "
                         f"{READBACK_ROUNDS} new messages")


def test_full_check_and_read_back(env):
    events = []
    cfg = config(env)
    result = mailconn.verify(**cfg, transcript=True,
                             progress=lambda *e: events.append(e))
    assert_all_passed(result)
    assert_no_secret(result, cfg["email"], cfg["password"])

    expected = []
    for stage in list(mailconn.Stage)[1:]:
        expected += [(stage, False, mailconn.Error.OK),
                     (stage, True, mailconn.Error.OK)]
    assert events == expected

    imap_connect, imap_login, smtp_connect, smtp_login, send = result.stages
    port = env["MAILCONN_TEST_IMAP_TLS_PORT"]
    assert imap_connect.address == f"127.0.0.1:{port}"
    assert imap_connect.tls_version in ("TLS1.2", "TLS1.3")
    assert imap_connect.tls_cipher
    assert re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}",
                        imap_connect.cert_sha256)
    assert "IMAP4rev1" in imap_connect.capabilities + imap_login.capabilities
    assert imap_login.mechanism
    smtp_port = env["MAILCONN_TEST_SMTP_STARTTLS_PORT"]
    assert smtp_connect.address == f"127.0.0.1:{smtp_port}"
    assert smtp_connect.tls_version in ("TLS1.2", "TLS1.3")
    smtp_caps = smtp_connect.capabilities + smtp_login.capabilities
    assert any(c.startswith("AUTH") for c in smtp_caps), smtp_caps
    assert all("\n" not in c for c in smtp_caps)
    assert smtp_login.mechanism
    message_id = send.message_id
    assert re.fullmatch(r"<?[^<>\s]+@[^<>\s]+>?", message_id), message_id

    directions = {line.direction for line in result.transcript}
    assert directions >= {mailconn.Direction.SENT,
                          mailconn.Direction.RECEIVED}
    assert {line.protocol for line in result.transcript} >= {
        mailconn.Protocol.IMAP, mailconn.Protocol.SMTP}

    header = read_back(env, message_id)
    assert message_id in header
    assert env["MAILCONN_TEST_USER"] in header      # the From


def test_wrong_password(env):
    password = "Wrong-Password-7f3a"
    cfg = config(env, password=password)
    result = mailconn.verify(**cfg, transcript=True)
    assert result.error == mailconn.Error.UNAUTHORIZED
    assert result.stage == mailconn.Stage.IMAP_LOGIN
    assert result.protocol == mailconn.Protocol.IMAP
    assert result.cause == mailconn.Cause.AUTH_REJECTED
    assert result.hint
    assert [s.status for s in result.stages] == \
        ["passed", "failed", "not_run", "not_run", "not_run"]
    assert result.transcript
    assert_no_secret(result, cfg["email"], password)


@pytest.mark.parametrize("language, hint, message", [
    ("nb", "påloggingsopplysningene er feil",
     "serveren sier at påloggingsopplysningene er feil"),
    ("en", "login details are wrong",
     "the server says the credentials are wrong"),
])
def test_wrong_password_in_a_language(env, language, hint, message):
    password = "Wrong-Password-In-" + language
    cfg = config(env, password=password, language=language)
    result = mailconn.verify(**cfg)
    assert result.error == mailconn.Error.UNAUTHORIZED
    assert result.language == language
    assert result.hint_id == "UNAUTHORIZED.NONE"
    assert result.provider == ""
    assert hint in result.hint
    assert "certificate" not in result.hint and "sertifikat" not in result.hint
    assert result.message == message
    assert_no_secret(result, cfg["email"], password)


def test_wrong_password_async(env):
    password = "Another-Wrong-One-91c2"
    cfg = config(env, password=password)
    result = asyncio.run(mailconn.verify_async(**cfg, transcript=True))
    assert result.error == mailconn.Error.UNAUTHORIZED
    assert result.stage == mailconn.Stage.IMAP_LOGIN
    assert_no_secret(result, cfg["email"], password)


def test_concurrent_checks(env, capsys):
    cfg = config(env)

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        results = await asyncio.gather(*(mailconn.verify_async(**cfg)
                                         for _ in range(CONCURRENT_CHECKS)))
        return results, loop.time() - t0

    t0 = time.monotonic()
    results, elapsed = asyncio.run(main())
    failures = [(r.error.name, r.cause.name, r.stage_name, r.detail,
                 r.server_reply) for r in results if not r.ok]
    with capsys.disabled():
        print(f"\n{CONCURRENT_CHECKS} concurrent verify_async checks: "
              f"{elapsed:.2f} s ({len(failures)} failed)", file=sys.stderr)
    assert not failures, failures[:5]
    for r in results:
        assert_all_passed(r)
    ids = {r.stages[4].message_id for r in results}
    assert len(ids) == CONCURRENT_CHECKS
    assert time.monotonic() - t0 < 240
