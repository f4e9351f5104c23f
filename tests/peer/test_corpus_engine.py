# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every row of the shared corpus of real server replies, through the whole
engine: a scripted peer plays a normal conversation up to the row's stage,
answers there with the row's exact bytes, and mailconn-check must report the
row's expected outcome (for OK rows: carry on and pass all five stages).

The configured host is the provider's real host name, taken from the same
table as tests/unit/test-corpus.c (which also holds the rows where we argue
with the corpus); the connection goes to the peer through --resolve."""

import os

import pytest

from conftest import CORPUS, corpus_tables, secret_sent
from peer import imap_serve, smtp_serve

HOSTS, OURS, FALLBACK_HOST = corpus_tables()

IMAP_STAGES = {"greeting": 1, "capability": 1, "login": 2,
               "authenticate": 2, "select": 2}
SMTP_STAGES = {"greeting": 3, "capability": 3, "starttls": 3,
               "authenticate": 4, "mail_from": 5, "rcpt_to": 5, "data": 5,
               "end_of_data": 5}


def load_rows():
    with open(CORPUS, encoding="utf-8") as f:
        lines = f.read().split("\n")
    rows = []
    for n, line in enumerate(lines):
        line = line.rstrip("\r")
        if n == 0 or not line:
            continue  # the header, blank lines
        cols = line.split("\t")
        assert len(cols) >= 8, f"malformed corpus line {n + 1}: {line[:60]}"
        rows.append(dict(zip(("id", "protocol", "stage", "provider", "wire",
                              "expected", "why", "source"), cols)))
    return rows


ROWS = load_rows() if os.path.exists(CORPUS) else []


def test_corpus_is_there():
    # A missing corpus must fail loudly, not skip every row silently.
    assert ROWS, f"no corpus rows read from {CORPUS} (set MAILCONN_CORPUS)"


def host_for(provider, protocol):
    for label, imap, smtp in HOSTS:
        if label in provider:
            return imap if protocol == "imap" else smtp
    return FALLBACK_HOST


def wire_bytes(text):
    """The row's reply as sent: each \\n marker a CRLF, and a final CRLF."""
    return text.replace("\\n", "\r\n").encode("utf-8") + b"\r\n"


def imap_peer(row, make_peer, pki):
    stage, wire = row["stage"], wire_bytes(row["wire"])
    caps = b"IMAP4rev1 LITERAL+ ID"
    if stage == "authenticate":
        # Make the client use AUTHENTICATE, in one line.
        caps += b" AUTH=PLAIN SASL-IR"
    return make_peer([("tls_start",), ("call", imap_serve({stage: wire},
                                                          caps=caps))],
                     tls_context=pki.context(), name=f"imap-{row['id']}")


def smtp_peer(row, make_peer, pki):
    stage, wire = row["stage"], wire_bytes(row["wire"])
    # A STARTTLS reply, and an EHLO reply that offers STARTTLS, belong to
    # the plaintext part of a STARTTLS session: play them there.
    starttls = stage == "starttls" or (stage == "capability" and
                                       b"STARTTLS" in wire.upper())
    steps = [("call", smtp_serve({stage: wire}, starttls=starttls))]
    if not starttls:
        steps.insert(0, ("tls_start",))
    return make_peer(steps, tls_context=pki.context(),
                     name=f"smtp-{row['id']}"), starttls


def good_peer(protocol, make_peer, pki):
    serve = imap_serve() if protocol == "imap" else smtp_serve()
    return make_peer([("tls_start",), ("call", serve)],
                     tls_context=pki.context(), name=f"good-{protocol}")


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_corpus_row_through_engine(make_peer, pki, check, row):
    protocol, stage = row["protocol"], row["stage"]
    stages = IMAP_STAGES if protocol == "imap" else SMTP_STAGES
    assert stage in stages, f"{row['id']}: unknown stage {stage}"
    want = OURS.get(row["id"], row["expected"])

    imap_host = host_for(row["provider"], "imap")
    smtp_host = host_for(row["provider"], "smtp")
    kw = {}
    if protocol == "imap":
        tested = imap_peer(row, make_peer, pki)
        other = good_peer("smtp", make_peer, pki)
        ports = (tested.port, other.port)
    else:
        tested, starttls = smtp_peer(row, make_peer, pki)
        other = good_peer("imap", make_peer, pki)
        ports = (other.port, tested.port)
        if starttls:
            kw["smtp_security"] = "starttls"
    res = check(*ports, imap_host=imap_host, smtp_host=smtp_host, **kw)
    tested.wait(10)

    context = (f"{row['id']} {protocol} {stage} ({row['provider']}): "
               f"{row['why']}\n{tested.describe()}\n{res!r}")
    # The row's bytes really reached the client.
    assert stage in tested.played, context
    if want == "OK":
        assert res.error is None and res.rc == 0, context
        return
    assert res.error == want, context
    # The failure is decided by the row, not earlier.
    assert res.stage >= stages[stage], context
    # A refusal before the login leaves the password with the client.
    if res.stage < (2 if protocol == "imap" else 4):
        assert not secret_sent(tested.received), context
