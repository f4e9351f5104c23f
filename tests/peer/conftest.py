# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the scripted-peer tests: a throwaway PKI made with certtool,
a runner for mailconn-check, and peers that always stop at teardown.

Environment: MAILCONN_CHECK (the CLI), MAILCONN_LIBRARY (libmailconn.so.1),
MAILCONN_CORPUS (the corpus TSV); MAILCONN_PEER_TRACE=1 with pytest -s
prints every run's outcome."""

import base64
import datetime
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from peer import Peer  # noqa: E402

# With an ASan build, meson preloads the ASan runtime into this Python for
# the ctypes tests; certtool and other children must not inherit it (it
# hangs under it), so it leaves the environment once loaded.
_preload = os.environ.get("LD_PRELOAD", "")
if "libasan" in _preload:
    _kept = [p for p in _preload.split() if "libasan" not in p]
    if _kept:
        os.environ["LD_PRELOAD"] = " ".join(_kept)
    else:
        del os.environ["LD_PRELOAD"]

CHECK = os.environ.get("MAILCONN_CHECK") or os.path.join(
    ROOT, "build", "examples", "mailconn-check")
CORPUS = os.environ.get("MAILCONN_CORPUS") or os.path.join(
    ROOT, "..", "shared", "corpus", "server-replies.tsv")

EMAIL = "tester@example.com"
BCC = "copy@example.net"
# Recognisable, printable ASCII (so IMAP LOGIN sends it as a quoted
# string), and long enough that no accident can produce it.
PASSWORD = "Pw-9f3Kq7-Zx2Lm8-hostile-peer"

OUTCOMES = {"IMAP_SETTINGS", "IMAP_AUTH", "IMAP_VALIDATION", "SMTP_SETTINGS",
            "TEST_SEND", "UNAUTHORIZED", "APP_PASSWORD", "UNTRUSTED_CERT"}

# Every host name a test configures must be in the good certificate.
PROVIDER_HOSTS = [
    "imap.gmail.com", "smtp.gmail.com", "outlook.office365.com",
    "smtp.office365.com", "imap.mail.yahoo.com", "smtp.mail.yahoo.com",
    "imap.mail.me.com", "smtp.mail.me.com", "imap.zoho.com", "smtp.zoho.com",
    "imap.fastmail.com", "smtp.fastmail.com", "imap.yandex.com",
    "smtp.yandex.com", "imap.gmx.net", "mail.gmx.net", "imap.qq.com",
    "smtp.qq.com", "imap.163.com", "smtp.163.com", "imap.ionos.com",
    "smtp.ionos.com", "smtp.protonmail.ch", "mail.example.net",
]
TEST_HOSTS = ["localhost", "imap.example.com", "smtp.example.com"]
CORPUS_UNIT_TEST = os.path.join(ROOT, "tests", "unit", "test-corpus.c")


def _c_block(text, start):
    """The initialiser of the C array declared at `start` ... "};"."""
    i = text.index(start)
    return text[i:text.index("};", i)]


def corpus_tables():
    """The provider host table and the argued disagreements, read from
    tests/unit/test-corpus.c so that the classifier test and this one
    configure the same host names and hold the same answers."""
    with open(CORPUS_UNIT_TEST, encoding="utf-8") as f:
        text = f.read()
    hosts = re.findall(r'\{\s*"([^"]+)",\s*"([^"]+)",\s*"([^"]+)"\s*\}',
                       _c_block(text, "} hosts[] = {"))
    ours = dict(re.findall(r'\{\s*"(R\d+)",\s*"([A-Z_]+)"',
                           _c_block(text, "} disagreements[] = {")))
    if not hosts:
        raise RuntimeError(f"no host table found in {CORPUS_UNIT_TEST}")
    return hosts, ours, "mail.example.net"


# ---- PKI --------------------------------------------------------------

class Pki:
    """CA, certificates and TLS server contexts, all in one directory."""

    def __init__(self, directory):
        self.dir = directory
        self.certtool = shutil.which("certtool")
        self.ca = os.path.join(directory, "ca.pem")

    def path(self, name, kind):
        return os.path.join(self.dir, f"{name}.{kind}")

    def _run(self, argv):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {r.stderr}")

    def _key(self, name):
        self._run([self.certtool, "--generate-privkey", "--key-type=ecdsa",
                   "--curve=secp256r1", "--no-text",
                   "--outfile", self.path(name, "key")])

    def _template(self, name, lines):
        p = self.path(name, "tmpl")
        with open(p, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return p

    @staticmethod
    def _date(when):
        return when.strftime('"%Y-%m-%d %H:%M:%S"')

    def make(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            microsecond=0)
        day = datetime.timedelta(days=1)
        self._key("ca")
        ca_tmpl = self._template("ca", [
            'cn = "mailconn hostile-peer test CA"', "ca", "cert_signing_key",
            "activation_date = " + self._date(now - 30 * day),
            "expiration_date = " + self._date(now + 365 * day)])
        self._run([self.certtool, "--generate-self-signed",
                   "--load-privkey", self.path("ca", "key"),
                   "--template", ca_tmpl, "--no-text", "--outfile", self.ca])
        hosts, _, fallback = corpus_tables()
        good = sorted(set(TEST_HOSTS + PROVIDER_HOSTS + [fallback] +
                          [h for _, i, s in hosts for h in (i, s)
                           if not re.match(r"^[0-9.]+$", h)]))
        valid = (now - day, now + 30 * day)
        # name: (cn, dns names, ip names, validity, purposes, options)
        specs = {
            "good": ("localhost", good, ["127.0.0.1"], valid,
                     ["tls_www_server"], {}),
            "expired": ("imap.example.com", TEST_HOSTS, [],
                        (now - 60 * day, now - 2 * day),
                        ["tls_www_server"], {}),
            "notyet": ("imap.example.com", TEST_HOSTS, [],
                       (now + 2 * day, now + 60 * day),
                       ["tls_www_server"], {}),
            "selfsigned": ("imap.example.com", TEST_HOSTS, [], valid,
                           ["tls_www_server"], {"self": True}),
            "sha1": ("imap.example.com", TEST_HOSTS, [], valid,
                     ["tls_www_server"], {"hash": "SHA1"}),
            "clientonly": ("imap.example.com", TEST_HOSTS, [], valid,
                           ["tls_www_client"], {}),
            "partialwild": ("mail.example.org", ["*ap.example.com",
                                                 "*tp.example.com"], [],
                            valid, ["tls_www_server"], {}),
            "wildcard": ("mail.example.org", ["*.example.com"], [], valid,
                         ["tls_www_server"], {}),
            "cnonly": ("imap.example.com", [], [], valid,
                       ["tls_www_server"], {}),
            "wronghost": ("mail.example.org", ["mail.example.org"], [],
                          valid, ["tls_www_server"], {}),
        }
        for name, (cn, dns, ips, (start, end), purposes, opts) in \
                specs.items():
            self._key(name)
            lines = [f'cn = "{cn}"', "signing_key", "encryption_key",
                     "activation_date = " + self._date(start),
                     "expiration_date = " + self._date(end)] + purposes
            lines += [f'dns_name = "{d}"' for d in dns]
            lines += [f'ip_address = "{ip}"' for ip in ips]
            tmpl = self._template(name, lines)
            if opts.get("self"):
                argv = [self.certtool, "--generate-self-signed"]
            else:
                argv = [self.certtool, "--generate-certificate",
                        "--load-ca-certificate", self.ca,
                        "--load-ca-privkey", self.path("ca", "key")]
            if "hash" in opts:
                argv += ["--hash", opts["hash"]]
            self._run(argv + ["--load-privkey", self.path(name, "key"),
                              "--template", tmpl, "--no-text",
                              "--outfile", self.path(name, "pem")])
        return self

    def verify_status(self, name):
        """certtool's own verdict on a certificate against the CA."""
        r = subprocess.run([self.certtool, "--verify", "--load-ca-certificate",
                            self.ca, "--infile", self.path(name, "pem")],
                           capture_output=True, text=True, timeout=60)
        return r.stdout + r.stderr

    def context(self, name="good", weak=False, max_version=None,
                min_version=None, request_client_cert=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if weak:
            # OpenSSL refuses SHA-1 certificates and old protocols at the
            # default security level, even on the server side.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            # TLS 1.0 and 1.1 are deprecated: that is the point here.
            warnings.simplefilter("ignore", DeprecationWarning)
            if min_version is not None:
                ctx.minimum_version = min_version
            if max_version is not None:
                ctx.maximum_version = max_version
        ctx.load_cert_chain(self.path(name, "pem"), self.path(name, "key"))
        if request_client_cert is not None:
            ctx.load_verify_locations(self.ca)
            ctx.verify_mode = request_client_cert
        return ctx


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    if not shutil.which("certtool"):
        pytest.skip("certtool (gnutls-bin) is not installed")
    return Pki(str(tmp_path_factory.mktemp("pki"))).make()


# ---- peers ------------------------------------------------------------

@pytest.fixture
def make_peer():
    peers = []

    def make(steps, **kw):
        p = Peer(steps, **kw).start()
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.stop()


def closed_port():
    """A loopback port nobody listens on: connecting is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- the CLI ----------------------------------------------------------

class CheckResult:
    def __init__(self, argv, proc, rss_kb):
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.rss_kb = rss_kb
        self.json = None
        if "--json" in argv:
            try:
                self.json = json.loads(proc.stdout)
            except ValueError:
                self.json = None

    @property
    def error(self):
        return self.json["error"]

    @property
    def cause(self):
        return self.json["cause"]

    @property
    def stage(self):
        return self.json["stage"]

    def stage_status(self, n):
        return self.json["stages"][n - 1]["status"]

    def sent_lines(self, protocol=None):
        """Client lines of the --verbose transcript ("C:" lines)."""
        out = []
        for line in self.stderr.decode("utf-8", "replace").splitlines():
            m = re.match(r"\s*\[(\d) (imap|smtp)\] C: (.*)$", line)
            if m and (protocol is None or m.group(2) == protocol):
                out.append(m.group(3))
        return out

    def __repr__(self):
        return (f"rc={self.rc}\nstdout={self.stdout[:3000]!r}\n"
                f"stderr={self.stderr[-4000:]!r}")


def run_check(imap_port, smtp_port=None, *, imap_host="imap.example.com",
              smtp_host="smtp.example.com", imap_security="tls",
              smtp_security="tls", password=PASSWORD, email=EMAIL,
              timeout_s=5, json_out=True, verbose=True, ca_file=None,
              allow_untrusted=False, extra=(), run_timeout=90,
              measure_rss=False):
    """Run mailconn-check against local peers; both hosts resolve to
    127.0.0.1 whatever their names."""
    if not os.access(CHECK, os.X_OK):
        pytest.fail(f"mailconn-check not found at {CHECK} (set "
                    "MAILCONN_CHECK)")
    if smtp_port is None:
        smtp_port = closed_port()
    argv = [CHECK, "--email", email, "--bcc", BCC,
            "--imap-host", imap_host, "--imap-port", str(imap_port),
            "--imap-security", imap_security,
            "--smtp-host", smtp_host, "--smtp-port", str(smtp_port),
            "--smtp-security", smtp_security,
            "--password-env", "MAILCONN_TEST_SECRET",
            "--timeout", str(timeout_s),
            "--resolve", f"{imap_host}:{imap_port}:127.0.0.1",
            "--resolve", f"{smtp_host}:{smtp_port}:127.0.0.1"]
    if ca_file:
        argv += ["--ca-file", ca_file]
    if allow_untrusted:
        argv.append("--allow-untrusted-cert")
    if json_out:
        argv.append("--json")
    if verbose:
        argv.append("--verbose")
    argv += list(extra)
    env = dict(os.environ, MAILCONN_TEST_SECRET=password, LC_ALL="C.UTF-8")
    cmd = argv
    rss_file = None
    if measure_rss:
        rss_file = os.path.join("/tmp", f"mailconn-rss-{os.getpid()}-"
                                f"{imap_port}.txt")
        cmd = ["/usr/bin/time", "-v", "-o", rss_file] + argv
    proc = subprocess.run(cmd, capture_output=True, env=env,
                          timeout=run_timeout, stdin=subprocess.DEVNULL)
    rss_kb = None
    if rss_file:
        with open(rss_file, encoding="utf-8") as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                          f.read())
        os.unlink(rss_file)
        rss_kb = int(m.group(1)) if m else None
    res = CheckResult(argv, proc, rss_kb)
    if os.environ.get("MAILCONN_PEER_TRACE") and res.json:
        print(f"\n[{os.environ.get('PYTEST_CURRENT_TEST', '?')}] "
              f"rc={res.rc} error={res.error} cause={res.cause} "
              f"stage={res.stage} rss={rss_kb} "
              f"detail={(res.json['detail'] or '')[:160]!r}")
    check_output_sane(res, password)
    return res


@pytest.fixture
def check(pki):
    """run_check with the test CA trusted by default."""
    def run(*args, **kw):
        kw.setdefault("ca_file", pki.ca)
        return run_check(*args, **kw)
    return run


# ---- invariants every run must keep ----------------------------------

BAD_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e"
                       "\u2066-\u2069]")


def walk_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_strings(v)


def check_output_sane(res, password):
    """No crash, the documented exit codes, valid JSON, no secret on any
    output, no control character in any result string."""
    assert res.rc in (0, 1), f"unexpected exit status\n{res!r}"
    for stream in (res.stdout, res.stderr):
        assert not secret_sent(stream, password), \
            f"password (or its base64) printed\n{res!r}"
    if "--json" not in res.argv:
        return
    assert res.json is not None, f"stdout is not one JSON object\n{res!r}"
    err = res.json["error"]
    assert err is None or err in OUTCOMES, f"unknown error {err!r}"
    assert (err is None) == (res.rc == 0), f"exit status vs error\n{res!r}"
    for s in walk_strings(res.json):
        assert not BAD_CHARS.search(s), f"control character in {s!r}"
        assert len(s.encode()) <= 8192, f"unbounded string ({len(s)})"


def secret_forms(password=PASSWORD, user=EMAIL):
    """Byte strings whose presence means the secret left the client."""
    p, u = password.encode(), user.encode()
    forms = {p, base64.b64encode(p), base64.b64encode(b"\0" + u + b"\0" + p),
             base64.b64encode(u + b"\0" + u + b"\0" + p)}
    return forms


def secret_sent(data, password=PASSWORD):
    """True when `data` holds the password, raw or in any base64 token."""
    p = password.encode()
    if any(f in data for f in secret_forms(password)):
        return True
    for token in re.findall(rb"[A-Za-z0-9+/=]{8,}", data):
        for pad in (b"", b"=", b"=="):
            try:
                if p in base64.b64decode(token + pad, validate=True):
                    return True
            except ValueError:
                continue
    return False
