# SPDX-License-Identifier: LGPL-2.1-or-later
"""mailconn-check is a contract others script against: its JSON fields,
its exit codes and its usage errors are checked here against the real
Dovecot and Postfix that tests/servers/mailservers.py starts."""

import json
import os
import re
import socket
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
import mailservers  # noqa: E402

CHECK = os.environ.get("MAILCONN_CHECK",
                       os.path.join(HERE, "..", "..", "build", "examples",
                                    "mailconn-check"))
EIGHT = {"IMAP_SETTINGS", "IMAP_AUTH", "IMAP_VALIDATION", "SMTP_SETTINGS",
         "TEST_SEND", "UNAUTHORIZED", "APP_PASSWORD", "UNTRUSTED_CERT"}
STAGE_NAMES = ["imap_connect", "imap_login", "smtp_connect", "smtp_login",
               "test_send"]


@pytest.fixture(scope="module")
def servers():
    try:
        s = mailservers.MailServers()
        s.start()
    except mailservers.MailServersUnavailable as e:
        pytest.skip(str(e))
    try:
        yield s.env
    finally:
        s.stop()


def base_args(env, **override):
    args = {
        "--email": env["MAILCONN_TEST_USER"],
        "--password-env": "CLI_TEST_PASSWORD",
        "--imap-host": env["MAILCONN_TEST_HOSTNAME"],
        "--imap-port": env["MAILCONN_TEST_IMAP_TLS_PORT"],
        "--smtp-host": env["MAILCONN_TEST_HOSTNAME"],
        "--smtp-port": env["MAILCONN_TEST_SMTP_STARTTLS_PORT"],
        "--smtp-security": "starttls",
        "--bcc": env["MAILCONN_TEST_BCC"],
        "--ca-file": env["MAILCONN_TEST_CA_FILE"],
    }
    args.update(override)
    out = []
    for k, v in args.items():
        if v is None:
            continue
        out += [k] if v is True else [k, str(v)]
    return out


def run(env, *extra, password=None, **override):
    environ = dict(os.environ)
    environ["CLI_TEST_PASSWORD"] = password or env["MAILCONN_TEST_PASSWORD"]
    proc = subprocess.run([CHECK] + base_args(env, **override) + list(extra),
                          capture_output=True, env=environ, timeout=120,
                          stdin=subprocess.DEVNULL)
    return proc


def run_json(env, *extra, **kw):
    proc = run(env, "--json", *extra, **kw)
    doc = json.loads(proc.stdout.decode("utf-8"))
    validate(doc)
    return proc.returncode, doc


def validate(doc):
    """The documented shape, for success and failure alike."""
    assert set(doc) >= {"error", "stage", "stage_name", "cause",
                        "server_reply", "detail", "hint", "hint_id",
                        "provider", "message", "language", "stages",
                        "local_address"}
    assert doc["language"] in ("en", "nb")
    assert doc["message"]
    assert doc["provider"] is None or doc["provider"].islower()
    assert doc["error"] is None or doc["error"] in EIGHT
    assert doc["stage"] in range(1, 6)
    assert doc["stage_name"] == STAGE_NAMES[doc["stage"] - 1]
    assert len(doc["stages"]) == 5
    for i, st in enumerate(doc["stages"], 1):
        assert st["stage"] == i and st["name"] == STAGE_NAMES[i - 1]
        assert st["status"] in ("passed", "failed", "not_run")
        assert isinstance(st["ms"], int)
        assert isinstance(st["capabilities"], list)
        for key in ("address", "local_address", "tls_version", "tls_cipher",
                    "cert_sha256", "mechanism", "message_id"):
            assert st[key] is None or isinstance(st[key], str)
    if doc["error"] is None:
        assert doc["local_address"] is None
        assert doc["stage"] == 5
        assert all(st["status"] == "passed" for st in doc["stages"])
        assert doc["hint"] is None and doc["hint_id"] is None
    else:
        assert doc["stages"][doc["stage"] - 1]["status"] == "failed"
        assert doc["hint"]
        # "OUTCOME.CAUSE[.provider]"; the cause is the advice's, which may
        # be the outcome's general one.
        parts = doc["hint_id"].split(".")
        assert parts[0] == doc["error"] and len(parts) in (2, 3)
        assert parts[1] in (doc["cause"], "NONE")
        if len(parts) == 3:
            assert parts[2] == doc["provider"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_success_json(servers):
    rc, doc = run_json(servers)
    assert rc == 0
    assert doc["error"] is None
    imap, _, smtp, smtp_login, send = doc["stages"]
    assert imap["address"].startswith("127.0.0.1:")
    # Every connection says where it came from; the other stages do not.
    for st in (imap, smtp):
        assert re.fullmatch(r"127\.0\.0\.1:\d+", st["local_address"]), st
    assert imap["local_address"] != smtp["local_address"]
    assert doc["stages"][1]["local_address"] is None
    assert imap["tls_version"].startswith("TLS1.")
    assert len(imap["cert_sha256"]) == 95
    assert "IMAP4rev1" in imap["capabilities"]
    assert any(c.startswith("AUTH") for c in smtp["capabilities"])
    assert smtp_login["mechanism"]
    assert send["message_id"]


def test_success_human_ascii_when_piped(servers):
    proc = run(servers)
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 0
    assert out.count("[ok]") == 5
    # Not a terminal: no UTF-8 check marks.
    assert "\u2713" not in out
    assert "All five stages passed" in out


def test_overlap_flag(servers):
    rc, doc = run_json(servers, "--overlap")
    assert rc == 0 and doc["error"] is None


@pytest.mark.parametrize("case, override, password, error, stage, cause", [
    ("wrong password", {}, "not-the-password", "UNAUTHORIZED", 2,
     "AUTH_REJECTED"),
    ("closed port", {"--imap-port": "CLOSED"}, None, "IMAP_SETTINGS", 1,
     "CONNECT_REFUSED"),
    ("smtp tls on plaintext port", {"--smtp-security": "tls"}, None,
     "SMTP_SETTINGS", 3, "TLS_MODE_MISMATCH"),
    ("relay denied", {"--bcc": "someone@example.org"}, None, "TEST_SEND", 5,
     "RELAY_DENIED"),
    ("untrusted certificate", {"--ca-file": None}, None, "UNTRUSTED_CERT", 1,
     "CERT_UNTRUSTED"),
    # Plaintext chosen explicitly works (Dovecot counts a loopback client
    # as secure), and then no TLS is reported for the stage.
    ("explicit plaintext imap", {"--imap-security": "plain",
                                 "--imap-port": "STARTTLS"},
     None, None, None, None),
])
def test_failure_json(servers, case, override, password, error, stage, cause):
    override = dict(override)
    if override.get("--imap-port") == "CLOSED":
        override["--imap-port"] = free_port()
    if override.get("--imap-port") == "STARTTLS":
        override["--imap-port"] = servers["MAILCONN_TEST_IMAP_STARTTLS_PORT"]
    rc, doc = run_json(servers, password=password, **override)
    if error is None:
        assert rc == 0 and doc["error"] is None, doc
        assert doc["stages"][0]["tls_version"] is None
        assert doc["stages"][2]["tls_version"].startswith("TLS1.")
        return
    assert rc == 1, doc
    assert doc["error"] == error, doc
    assert doc["stage"] == stage
    assert doc["cause"] == cause
    # Beside the hint: this side of the failed connection, once there was one.
    connect = doc["stages"][0 if stage <= 2 else 2]
    assert doc["local_address"] == connect["local_address"], doc
    assert (doc["local_address"] is None) == (cause == "CONNECT_REFUSED"), doc
    for st in doc["stages"][stage:]:
        assert st["status"] == "not_run"


def test_starttls_on_the_tls_port_is_a_greeting_timeout(servers):
    # Dovecot's TLS port waits for a ClientHello while a STARTTLS client
    # waits for the greeting: the timeout says so, and the hint says TLS.
    port = servers["MAILCONN_TEST_IMAP_TLS_PORT"]
    rc, doc = run_json(servers, "--timeout", "1", "--lang", "en",
                       **{"--imap-security": "starttls"})
    assert rc == 1, doc
    assert (doc["error"], doc["cause"]) == ("IMAP_SETTINGS",
                                            "GREETING_TIMEOUT"), doc
    assert "waiting for the server's greeting" in doc["detail"], doc
    assert "the server sent nothing" in doc["detail"], doc
    assert f"port {port}" in doc["hint"] and "choose TLS" in doc["hint"]


def test_tls_mode_mismatch_hint_names_the_port_used(servers):
    port = servers["MAILCONN_TEST_SMTP_STARTTLS_PORT"]
    rc, doc = run_json(servers, "--lang", "en", **{"--smtp-security": "tls"})
    assert rc == 1 and doc["cause"] == "TLS_MODE_MISMATCH", doc
    assert doc["hint_id"] == "SMTP_SETTINGS.TLS_MODE_MISMATCH"
    assert f"port {port}, which needs STARTTLS" in doc["hint"], doc["hint"]
    # The detail is its own field, not repeated inside the advice.
    assert doc["detail"] not in doc["hint"]


@pytest.mark.parametrize("lang, hint, message", [
    ("nb", "Ingenting tar imot tilkoblinger på port",
     "får ikke koblet til IMAP-serveren"),
    ("en", "Nothing accepts connections on port",
     "cannot connect to the IMAP server"),
])
def test_lang_flag(servers, lang, hint, message):
    port = free_port()
    rc, doc = run_json(servers, "--lang", lang, **{"--imap-port": port})
    assert rc == 1
    assert doc["language"] == lang
    assert doc["hint_id"] == "IMAP_SETTINGS.CONNECT_REFUSED"
    assert f"{hint} {port}" in doc["hint"]
    assert message in doc["message"]
    proc = run(servers, "--lang", lang, **{"--imap-port": port})
    out = proc.stdout.decode("utf-8")
    assert f"{hint} {port}" in out and message in out


def test_lang_default_from_environment(servers):
    environ = dict(os.environ, LANG="nb_NO.UTF-8",
                   CLI_TEST_PASSWORD=servers["MAILCONN_TEST_PASSWORD"])
    environ.pop("LC_ALL", None)
    environ.pop("LC_MESSAGES", None)
    proc = subprocess.run([CHECK, "--json"] + base_args(servers, **{
        "--imap-port": free_port()}), capture_output=True, env=environ,
        stdin=subprocess.DEVNULL, timeout=120)
    doc = json.loads(proc.stdout.decode("utf-8"))
    assert doc["language"] == "nb"
    assert "Ingenting tar imot" in doc["hint"]


def test_password_never_printed(servers):
    secret = "Cli-Secret-Value-42"
    proc = run(servers, "--json", "--verbose", password=secret)
    assert proc.returncode == 1
    assert secret.encode() not in proc.stdout
    assert secret.encode() not in proc.stderr
    assert b"[redacted]" in proc.stderr


@pytest.mark.parametrize("args, names", [
    (["--imap-port", "70000"], "--imap-port"),
    (["--imap-port", "x"], "--imap-port"),
    (["--imap-security", "ssl"], "--imap-security"),
    (["--email", "no-at-sign"], "--email"),
    (["--bcc", "a@b.example\r\nRCPT TO:<x@y.z>"], "--bcc"),
    (["--imap-host", "exa mple.com"], "--imap-host"),
    (["--resolve", "nonsense"], "--resolve"),
    (["--no-such-option"], "--no-such-option"),
    (["--timeout", "0"], "--timeout"),
    (["--lang", "nb NO"], "--lang"),
    (["--imap-cert-sha256", "AB:CD"], "--imap-cert-sha256"),
    (["--smtp-cert-sha256", "g" * 64], "--smtp-cert-sha256"),
])
def test_usage_errors(servers, args, names):
    proc = run(servers, *args)
    assert proc.returncode == 2
    assert names.encode() in proc.stderr
    assert proc.stdout == b""


def test_password_env_missing(servers):
    environ = {k: v for k, v in os.environ.items() if k != "NOT_SET_VAR"}
    proc = subprocess.run([CHECK] + base_args(servers, **{
        "--password-env": "NOT_SET_VAR"}), capture_output=True, env=environ,
        stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2
    assert b"--password-env" in proc.stderr


def test_password_file(servers, tmp_path):
    f = tmp_path / "pw"
    f.write_text(servers["MAILCONN_TEST_PASSWORD"] + "\n")
    rc, doc = run_json(servers, **{"--password-env": None,
                                   "--password-file": str(f)})
    assert rc == 0 and doc["error"] is None


# ---- --resolve, as curl users write it ----------------------------------

def resolve_entry(env, which, addresses, host=None):
    port = env["MAILCONN_TEST_IMAP_TLS_PORT" if which == "imap"
               else "MAILCONN_TEST_SMTP_STARTTLS_PORT"]
    return f"{host or env['MAILCONN_TEST_HOSTNAME']}:{port}:{addresses}"


@pytest.mark.parametrize("fault", ["selfsigned", "expired", "wronghost"])
def test_pin_the_certificate_a_failed_check_reported(servers, fault):
    # The user's path: a check fails on the certificate, shows its
    # fingerprint, and the user accepts exactly that certificate.
    to_fault = ["--resolve", resolve_entry(
        servers, "imap", servers[f"MAILCONN_TEST_IMAP_{fault.upper()}_ADDR"])]
    rc, doc = run_json(servers, *to_fault)
    assert rc == 1 and doc["error"] == "UNTRUSTED_CERT", doc
    seen = doc["stages"][0]["cert_sha256"]
    assert seen, doc
    rc, doc = run_json(servers, *to_fault, "--imap-cert-sha256",
                       seen.lower().replace(":", ""))
    assert rc == 0, doc
    assert doc["stages"][0]["cert_sha256"] == seen
    # The good listener's certificate is trusted, but not the one pinned.
    rc, doc = run_json(servers, "--imap-cert-sha256", seen)
    assert rc == 1, doc
    assert (doc["error"], doc["cause"]) == ("UNTRUSTED_CERT",
                                            "CERT_PIN_MISMATCH"), doc
    assert seen in doc["detail"] and doc["stages"][0]["cert_sha256"] in \
        doc["detail"], doc


def test_resolve_entry_for_another_server_is_ignored(servers):
    other = "other.example:25:192.0.2.1"
    entries = ["--resolve", other,
               "--resolve", resolve_entry(servers, "imap", "127.0.0.1")]
    rc, doc = run_json(servers, *entries)
    assert rc == 0, doc
    proc = run(servers, "--json", "--verbose", *entries)
    assert proc.returncode == 0
    # (Under valgrind, stderr also holds its own lines, the command too.)
    note = [line for line in proc.stderr.decode().splitlines()
            if line.startswith("mailconn-check:")]
    assert len(note) == 1, proc.stderr
    assert other in note[0] and "ignored" in note[0]
    # Without --verbose the note is not printed.
    assert b"ignored" not in run(servers, "--json", *entries).stderr


def test_resolve_compares_hosts_after_idna(servers):
    # The IMAP host is a U-label and its entry the A-label, the SMTP host
    # the reverse; neither name exists in DNS, so only an applied entry
    # can reach the servers. Their certificate names neither.
    u_label, a_label = "b\u00fccher.example", "xn--bcher-kva.example"
    rc, doc = run_json(
        servers,
        "--resolve", resolve_entry(servers, "imap", "127.0.0.1", a_label),
        "--resolve", resolve_entry(servers, "smtp", "127.0.0.1",
                                   u_label.upper()),
        "--allow-untrusted-cert",
        **{"--imap-host": u_label, "--smtp-host": a_label})
    assert rc == 0, doc
    assert doc["stages"][0]["address"].startswith("127.0.0.1:")
    assert doc["stages"][2]["address"].startswith("127.0.0.1:")


@pytest.mark.parametrize("imap, smtp", [
    ("[::1],127.0.0.1", "127.0.0.1,[::1]"),
    ("192.0.2.1,127.0.0.1", "[::1],[::1],127.0.0.1"),
])
def test_resolve_several_addresses_all_tried(servers, imap, smtp):
    # The servers listen on 127.0.0.1 only: [::1] is refused at once (and
    # 192.0.2.1, TEST-NET-1, never answers), so success means the next
    # address was tried; the transcript shows each attempt.
    proc = run(servers, "--json", "--verbose",
               "--resolve", resolve_entry(servers, "imap", imap),
               "--resolve", resolve_entry(servers, "smtp", smtp))
    doc = json.loads(proc.stdout.decode("utf-8"))
    validate(doc)
    assert proc.returncode == 0, doc
    assert doc["stages"][0]["address"].startswith("127.0.0.1:")
    assert doc["stages"][2]["address"].startswith("127.0.0.1:")
    transcript = proc.stderr.decode()
    for port, addresses in ((servers["MAILCONN_TEST_IMAP_TLS_PORT"], imap),
                            (servers["MAILCONN_TEST_SMTP_STARTTLS_PORT"],
                             smtp)):
        items = addresses.split(",")
        # Every address up to the one that answers is attempted.
        for a in items[:items.index("127.0.0.1") + 1]:
            assert f"connecting to {a}:{port}" in transcript, transcript


@pytest.mark.parametrize("addresses", [
    "127.0.0.1,", "[127.0.0.1]", "127.0.0.1;::1", "localhost", "",
])
def test_resolve_bad_address_list_is_usage_error(servers, addresses):
    proc = run(servers, "--resolve",
               resolve_entry(servers, "imap", addresses))
    assert proc.returncode == 2, proc.stderr
    assert b"--resolve" in proc.stderr
    assert proc.stdout == b""


# ---- secrets are used exactly as given, or refused ----------------------

def assert_refused_before_connecting(servers, proc, listener, option, words):
    """Exit 2 naming the option and the problem, never the secret, and no
    connection made (the IMAP port is `listener`, which nothing accepted
    from)."""
    assert proc.returncode == 2, proc
    assert proc.stdout == b""
    err = proc.stderr.decode("utf-8", "replace")
    assert option in err and words in err, err
    for part in (b"Sekret", b"Value77"):
        assert part not in proc.stderr
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()[0].close()


@pytest.fixture
def listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    yield s
    s.close()


@pytest.mark.parametrize("content, words", [
    (b"Sekret\0Value77\n", "NUL byte"),
    (b"Sekret\0", "NUL byte"),
    (b"Sekret\nValue77\n", "line break"),
    (b"Sekret-Value77\n\n", "line break"),
    (b"Sekret-Value77\r\n", "carriage return"),
    (b"Sekret\rValue77", "carriage return"),
    (b"", "empty"),
    (b"\n", "empty"),
])
def test_password_file_altered_secret_refused(servers, tmp_path, listener,
                                              content, words):
    f = tmp_path / "pw"
    f.write_bytes(content)
    proc = run(servers, **{"--password-env": None, "--password-file": str(f),
                           "--imap-port": listener.getsockname()[1]})
    assert_refused_before_connecting(servers, proc, listener,
                                     "--password-file", words)


def test_password_file_is_read_whole(servers, tmp_path):
    # Exactly the file's bytes; no trailing newline needed.
    f = tmp_path / "pw"
    f.write_bytes(servers["MAILCONN_TEST_PASSWORD"].encode())
    rc, doc = run_json(servers, **{"--password-env": None,
                                   "--password-file": str(f)})
    assert rc == 0 and doc["error"] is None


@pytest.mark.parametrize("option", ["--password-env", "--oauth2-token-env"])
@pytest.mark.parametrize("value, words", [
    ("Sekret\nValue77", "line break"),
    ("Sekret-Value77\n", "line break"),
    ("Sekret\rValue77", "carriage return"),
])
def test_secret_env_with_line_break_refused(servers, listener, option, value,
                                            words):
    environ = dict(os.environ, CLI_SECRET_VAR=value)
    proc = subprocess.run(
        [CHECK] + base_args(servers, **{
            "--password-env": None, option: "CLI_SECRET_VAR",
            "--imap-port": listener.getsockname()[1]}),
        capture_output=True, env=environ, stdin=subprocess.DEVNULL,
        timeout=60)
    assert_refused_before_connecting(servers, proc, listener, option, words)
