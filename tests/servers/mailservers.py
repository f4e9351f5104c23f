#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throwaway Dovecot (IMAP) + Postfix (SMTP submission) pair on loopback.

Everything lives in one directory: a test CA and certificates made with
certtool, self-contained Dovecot and Postfix configurations, logs, queues and
Maildirs. No system configuration is used or changed, and every port is
picked at run time, so several instances can run side by side. Needs root,
Debian's dovecot-imapd, dovecot-lmtpd, postfix and gnutls-bin. Python stdlib
only.

What runs (names below are MAILCONN_TEST_* variables in DIR/env):
  IMAP (Dovecot)   127.0.0.1:IMAP_TLS_PORT       implicit TLS, good cert
                   127.0.0.1:IMAP_STARTTLS_PORT  plaintext, STARTTLS
                   IMAP_SELFSIGNED_ADDR, IMAP_EXPIRED_ADDR, IMAP_WRONGHOST_ADDR
                   (127.0.0.2-4) on IMAP_FAULT_PORT (= IMAP_TLS_PORT):
                   implicit TLS with one bad certificate each
  SMTP (Postfix)   127.0.0.1:SMTP_TLS_PORT       implicit TLS (465-style)
                   127.0.0.1:SMTP_STARTTLS_PORT  STARTTLS required (587-style)
                   127.0.0.1:SMTP_{EXPIRED,SELFSIGNED,WRONGHOST}_PORT
                   implicit TLS with that bad certificate
                   127.0.0.1:SMTP_PLAIN_PORT     AUTH offered without TLS
  Users of DOMAIN (mail.test): USER/PASSWORD (alice), BCC/BCC_PASSWORD (bob,
  Maildir at MAILDIR_BCC), AWKWARD_USER/AWKWARD_PASSWORD (quotes, backslash,
  space, braces, %, UTF-8), CUSTOM_LOGIN/CUSTOM_PASSWORD (login name differs
  from CUSTOM_ADDRESS). Auth: PLAIN, LOGIN, SCRAM-SHA-256. The good
  certificate names HOSTNAME (localhost), mail.test and 127.0.0.1; trust
  CA_FILE.

Command line:
  mailservers.py start --dir DIR   start, write DIR/env and DIR/env.json, exit
  mailservers.py stop --dir DIR    stop the servers and remove DIR
  mailservers.py run -- CMD ARG..  start in a fresh temporary directory, run
                                   CMD with the MAILCONN_TEST_* variables in
                                   its environment, always stop and clean up,
                                   exit with CMD's status
  mailservers.py selftest          start, check everything end to end, stop

Exit status 77 means "cannot run here" (not root, packages missing); meson
counts that as a skipped test.

Cyrus IMAP, Exim and GNU imap4d run beside the pair from sibling modules
(privserver.py, cyrus.py, exim.py, imap4d.py), in directories inside it.

From Python (pytest):
  with MailServers() as servers:
      port = int(servers.env["MAILCONN_TEST_IMAP_TLS_PORT"])
"""

import argparse
import base64
import contextlib
import datetime
import grp
import hashlib
import hmac
import imaplib
import json
import os
import pty
import pwd
import re
import secrets
import select
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

DOMAIN = "mail.test"
HOSTNAME = "localhost"          # the name in the good certificate
ADDR = "127.0.0.1"              # every good listener; also the client source
START_TIMEOUT = 30.0            # overall bound for "start" to become ready
STOP_TIMEOUT = 10.0             # bound for masters to exit after SIGTERM
EXIT_UNAVAILABLE = 77           # meson's "skipped"
# Where tools/install-deps.sh unpacks Cyrus, Exim and imap4d.
PRIVATE_SERVER_ROOT = os.path.abspath(os.environ.get(
    "MAILCONN_TEST_SERVER_ROOT", "/opt/mailconn-test-servers"))

# Dovecot picks a certificate only per local address, so each certificate
# fault gets its own loopback address (Linux routes all of 127/8 to lo).
FAULT_ADDRS = {
    "selfsigned": "127.0.0.2",
    "expired": "127.0.0.3",
    "wronghost": "127.0.0.4",
}

# (env prefix, login name, mail address, password). No ':' or newline in a
# login or password: the passwd-file format splits fields on ':' only.
USERS = [
    ("", "alice@" + DOMAIN, "alice@" + DOMAIN, "alice-secret-1"),
    ("BCC_", "bob@" + DOMAIN, "bob@" + DOMAIN, "bob-secret-2"),
    ("AWKWARD_", "awkward@" + DOMAIN, "awkward@" + DOMAIN,
     'p"a\\s s{3}%*()ÆøÅ~'),
    # The login name differs from the address: Dovecot's passdb "user="
    # field renames the user after authentication.
    ("CUSTOM_", "custom-login", "custom@" + DOMAIN, "custom-secret-4"),
]

# Only these characters may appear in the directory path: Postfix's
# "-o name=value" options may not contain spaces, smtpd_tls_chain_files is
# split on commas, and '%' would be expanded by Dovecot.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+-]+$")
# sun_path holds 108 bytes; Dovecot's longest socket name below base_dir is
# about 25 characters ("token-login/tokenlogin", "anvil-auth-penalty").
_MAX_SOCKET_PATH = 107
_LONGEST_DOVECOT_SOCKET = 26

MARKER = ".mailservers"         # marks a directory this script may delete


class MailServersError(RuntimeError):
    """The servers could not be started or stopped."""


class MailServersUnavailable(MailServersError):
    """This machine cannot run the servers (not root, package missing)."""


def _log(msg):
    print("mailservers: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- layout


class Layout:
    """Every path inside the instance directory, in one place."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        j = os.path.join
        self.marker = j(self.root, MARKER)
        self.env_file = j(self.root, "env")
        self.env_json = j(self.root, "env.json")
        self.certs = j(self.root, "certs")
        self.dovecot = j(self.root, "dovecot")
        self.dovecot_conf = j(self.dovecot, "dovecot.conf")
        self.dovecot_run = j(self.dovecot, "run")      # base_dir: sockets
        self.dovecot_state = j(self.dovecot, "state")
        self.dovecot_log = j(self.dovecot, "dovecot.log")
        self.dovecot_out = j(self.dovecot, "start.out")
        self.dovecot_pid = j(self.dovecot_run, "master.pid")
        self.passdb = j(self.dovecot, "passdb")
        self.userdb = j(self.dovecot, "userdb")
        self.auth_socket = j(self.dovecot_run, "auth-postfix")
        self.lmtp_socket = j(self.dovecot_run, "lmtp-postfix")
        self.postfix = j(self.root, "postfix")
        # Apart from the log, the configuration directory holds only root's
        # files: "postfix start" checks ownership of everything in it.
        self.postfix_conf = j(self.postfix, "conf")
        self.postfix_queue = j(self.postfix, "queue")
        self.postfix_data = j(self.postfix, "data")
        self.postfix_log = j(self.postfix, "postfix.log")
        self.postfix_pid = j(self.postfix_queue, "pid", "master.pid")
        self.vmailbox = j(self.postfix_conf, "vmailbox")
        self.mail = j(self.root, "mail")

    def cert(self, name):
        return os.path.join(self.certs, name + ".pem")

    def key(self, name):
        return os.path.join(self.certs, name + "-key.pem")

    def home(self, address):
        return os.path.join(self.mail, address)

    def maildir(self, address):
        return os.path.join(self.home(address), "Maildir")


# ---------------------------------------------------------------- checks


def check_prerequisites():
    """Raise MailServersUnavailable unless this machine can run the pair."""
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (Postfix and Dovecot drop "
                        "privileges to their own users)")
    for tool in ("dovecot", "postfix", "certtool"):
        if _which(tool) is None:
            problems.append(f"{tool} not found (apt-get install "
                            "dovecot-imapd dovecot-lmtpd postfix gnutls-bin)")
    if not os.path.exists("/usr/lib/dovecot/lmtp"):
        problems.append("Dovecot LMTP missing (dovecot-lmtpd)")
    for user in ("postfix", "dovecot", "dovenull", "mail"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            problems.append(f"system user {user} missing")
    if not os.path.exists("/proc/net/tcp"):
        problems.append("/proc/net/tcp not readable")
    if problems:
        raise MailServersUnavailable("; ".join(problems))


def _which(tool):
    # Root's PATH normally has the sbin directories; a test harness's may not.
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return shutil.which(tool, path=path)


def _check_dir_path(root):
    if not _SAFE_PATH.match(root):
        raise MailServersError(
            f"{root}: only letters, digits and _ . / + - may appear in the "
            "directory path (Postfix and Dovecot configuration syntax)")
    longest = len(os.path.join(root, "dovecot", "run")) + 1 \
        + _LONGEST_DOVECOT_SOCKET
    if longest > _MAX_SOCKET_PATH:
        raise MailServersError(
            f"{root}: path too long for Unix socket names below it; use a "
            "shorter --dir or TMPDIR")
    # The daemons run as postfix, dovecot, dovenull and mail, and must reach
    # their sockets and Maildirs through every parent directory.
    parent = os.path.dirname(root)
    while True:
        mode = os.stat(parent).st_mode
        if not mode & 0o001:
            raise MailServersError(
                f"{parent} is not searchable by other users (mode "
                f"{mode & 0o7777:o}), so the mail daemons cannot reach "
                f"{root}; choose a directory under /tmp")
        if parent == "/":
            break
        parent = os.path.dirname(parent)


# ---------------------------------------------------------------- ports


def _pick_ports(count, also_on=()):
    """Return count distinct free TCP ports on 127.0.0.1.

    The first one is also free on every address in also_on, so the fault
    listeners can share the IMAP TLS port number. The sockets are held until
    all ports are chosen (so no port is handed out twice), then released for
    the servers to bind. Another process could take one in between; start()
    then fails with "Address already in use" and retries once.
    """
    held = []
    ports = []
    try:
        while len(ports) < count:
            if len(held) > 20 * count:
                raise MailServersError(
                    "no port free on all of 127.0.0.1-4; can this machine "
                    f"bind {', '.join(also_on)}?")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.bind((ADDR, 0))
            port = s.getsockname()[1]
            if not ports and also_on:
                try:
                    for addr in also_on:
                        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        held.append(t)
                        t.bind((addr, port))
                except OSError:
                    continue        # taken there; keep holding, try another
            ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


def _listening():
    """(address, port) of every IPv4 TCP socket in LISTEN state."""
    found = set()
    with open("/proc/net/tcp", encoding="ascii") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] != "0A":           # TCP_LISTEN
                continue
            hexaddr, hexport = fields[1].split(":")
            addr = socket.inet_ntoa(struct.pack("<I", int(hexaddr, 16)))
            found.add((addr, int(hexport, 16)))
    return found


# ---------------------------------------------------------------- certificates


def _run(argv, what, **kwargs):
    """Run a short helper command; raise with its output when it fails."""
    kwargs.setdefault("timeout", 30)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, check=False, **kwargs)
    if p.returncode != 0:
        raise MailServersError(f"{what} failed (exit {p.returncode}): "
                               f"{' '.join(argv)}\n{p.stdout}{p.stderr}")
    return p


def _certtool_date(when):
    return when.strftime('"%Y-%m-%d %H:%M:%S"')


def make_certificates(layout):
    """A throwaway CA and four server certificates, each with one property.

    good       signed by the CA, valid now, names localhost, mail.test,
               127.0.0.1
    selfsigned self-signed (not from the CA), otherwise like good, plus
               127.0.0.2
    expired    signed by the CA, validity entirely in the past, plus
               127.0.0.3
    wronghost  signed by the CA, valid now, but names only wrong.example
    The self-signed and expired ones name every address they are served on,
    so each bad certificate has exactly one fault.
    """
    os.makedirs(layout.certs, mode=0o755)
    certtool = _which("certtool")
    # Wall-clock dates: only whole days matter, so the time zone that
    # certtool assumes for them does not.
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    day = datetime.timedelta(days=1)
    valid_now = (now - day, now + 30 * day)
    names = {
        "good": (["localhost", DOMAIN], [ADDR], valid_now),
        "selfsigned": (["localhost", DOMAIN],
                       [ADDR, FAULT_ADDRS["selfsigned"]], valid_now),
        "expired": (["localhost", DOMAIN], [ADDR, FAULT_ADDRS["expired"]],
                    (now - 60 * day, now - 30 * day)),
        "wronghost": (["wrong.example"], [], valid_now),
    }

    def genkey(name):
        # ECDSA P-256: generating it takes milliseconds, RSA far longer.
        _run([certtool, "--generate-privkey", "--key-type=ecdsa",
              "--curve=secp256r1", "--no-text",
              "--outfile", layout.key(name)], "certtool key generation")

    def template(name, lines):
        path = os.path.join(layout.certs, name + ".tmpl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path

    genkey("ca")
    ca_tmpl = template("ca", [
        'cn = "libmailconn test CA"', "ca", "cert_signing_key",
        "activation_date = " + _certtool_date(now - 365 * day),
        "expiration_date = " + _certtool_date(now + 365 * day)])
    _run([certtool, "--generate-self-signed", "--load-privkey",
          layout.key("ca"), "--template", ca_tmpl, "--no-text",
          "--outfile", layout.cert("ca")], "certtool CA")

    for name, (dns, ips, (start, end)) in names.items():
        genkey(name)
        lines = [f'cn = "{dns[0]}"', "tls_www_server", "signing_key",
                 "activation_date = " + _certtool_date(start),
                 "expiration_date = " + _certtool_date(end)]
        lines += [f'dns_name = "{d}"' for d in dns]
        lines += [f'ip_address = "{ip}"' for ip in ips]
        tmpl = template(name, lines)
        if name == "selfsigned":
            argv = [certtool, "--generate-self-signed"]
        else:
            argv = [certtool, "--generate-certificate",
                    "--load-ca-certificate", layout.cert("ca"),
                    "--load-ca-privkey", layout.key("ca")]
        _run(argv + ["--load-privkey", layout.key(name), "--template", tmpl,
                     "--no-text", "--outfile", layout.cert(name)],
             f"certtool {name} certificate")
    # The CA key is not needed any more; nobody should sign with it.
    os.unlink(layout.key("ca"))


# ---------------------------------------------------------------- configs


def _write(path, text, mode=0o644, owner=None):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, *owner)


def _dovecot_conf(layout, ports, instance):
    fault_port = ports["imap_fault"]
    locals_ = "".join(
        f"local {addr} {{\n"
        f"  ssl_cert = <{layout.cert(name)}\n"
        f"  ssl_key = <{layout.key(name)}\n"
        f"}}\n" for name, addr in FAULT_ADDRS.items())
    fault_addrs = ", ".join(FAULT_ADDRS.values())
    mail = pwd.getpwnam("mail")
    return f"""\
# Generated by mailservers.py. Self-contained: nothing from /etc/dovecot.
instance_name = {instance}
base_dir = {layout.dovecot_run}
state_dir = {layout.dovecot_state}
log_path = {layout.dovecot_log}
protocols = imap lmtp
listen = {ADDR}

ssl = yes
ssl_cert = <{layout.cert("good")}
ssl_key = <{layout.key("good")}
ssl_min_protocol = TLSv1.2
# Certificates can be chosen only per local address (or SNI), not per port.
{locals_}
# Plaintext LOGIN stays refused except where Dovecot counts the connection as
# secured: TLS, or client address == server address (127.0.0.1 to itself).
disable_plaintext_auth = yes
auth_mechanisms = plain login scram-sha-256
# Wrong-password tests must be fast: no failure delay, and no anvil penalty
# (mode 0 on its socket is the documented way to turn the penalty off).
# Dovecot still answers failures from a 500 ms timer, so a wrong password
# takes up to 0.5 s.
auth_failure_delay = 0
auth_verbose = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {layout.passdb}
}}
userdb {{
  driver = passwd-file
  args = {layout.userdb}
}}

mail_uid = {mail.pw_uid}
mail_gid = {mail.pw_gid}
# mail is uid 8; Dovecot refuses uids below first_valid_uid (default 500).
first_valid_uid = {mail.pw_uid}
last_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
last_valid_gid = {mail.pw_gid}
mail_location = maildir:~/Maildir

service imap-login {{
  # Tests run hundreds of checks at once (asyncio, bulk benchmarks). A
  # process per login (the default) forks hundreds of processes at once,
  # which on a loaded 2-core machine outlasts the connect timeout; a few
  # long-lived login processes (Dovecot's high-performance mode) do not.
  process_limit = 400
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
  inet_listener imap {{
    address = {ADDR}
    port = {ports["imap_starttls"]}
  }}
  inet_listener imaps {{
    address = {ADDR}
    port = {ports["imap_tls"]}
    ssl = yes
  }}
  inet_listener imaps_faults {{
    address = {fault_addrs}
    port = {fault_port}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp-postfix {{
    mode = 0600
    user = postfix
    group = postfix
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@{DOMAIN}
}}
# Every test logs in as the same user from 127.0.0.1; the default of 10
# concurrent connections per user and IP would refuse the concurrency
# tests with [LIMIT].
protocol imap {{
  mail_max_userip_connections = 1000
}}
"""


def _postfix_main_cf(layout):
    return f"""\
# Generated by mailservers.py. Private instance, started with
#   postfix -c {layout.postfix_conf} start
compatibility_level = 3.6
queue_directory = {layout.postfix_queue}
data_directory = {layout.postfix_data}
mail_owner = postfix
# No syslog here: log to a file (which must sit under one of the prefixes).
maillog_file_prefixes = {layout.root}
maillog_file = {layout.postfix_log}

myhostname = {HOSTNAME}
mydomain = {DOMAIN}
myorigin = $mydomain
mydestination =
inet_interfaces = {ADDR}
inet_protocols = ipv4
mynetworks = {ADDR}/32
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtpd_banner = $myhostname ESMTP libmailconn test server

# {DOMAIN} is the only domain; its users are delivered to Dovecot over LMTP.
# Nothing ever leaves this machine.
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{layout.vmailbox}
virtual_transport = lmtp:unix:{layout.lmtp_socket}
local_transport = error:5.1.1 local delivery is disabled
default_transport = error:5.7.1 the test server delivers no outside mail
relay_transport = $default_transport

smtpd_tls_chain_files = {layout.key("good")},{layout.cert("good")}
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {layout.auth_socket}
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
# Without permit_sasl_authenticated in front, even an authenticated client
# gets "554 5.7.1 Relay access denied" for an outside recipient. Unknown
# users of {DOMAIN} get "550 5.1.1" (smtpd_reject_unlisted_recipient).
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject

# Fast failures for tests; no reverse DNS for 127.0.0.1.
smtpd_error_sleep_time = 0
smtpd_peername_lookup = no
"""


def _postfix_master_cf(layout, ports):
    def chain(name):
        return (f"-o smtpd_tls_chain_files={layout.key(name)},"
                f"{layout.cert(name)}")

    wrap = "-o smtpd_tls_wrappermode=yes"
    smtpd = [
        (ports["smtp_tls"], wrap),
        (ports["smtp_starttls"], ""),
        (ports["smtp_expired"], f"{wrap} {chain('expired')}"),
        (ports["smtp_selfsigned"], f"{wrap} {chain('selfsigned')}"),
        (ports["smtp_wronghost"], f"{wrap} {chain('wronghost')}"),
        # AUTH offered without TLS, for "never send a password in clear".
        (ports["smtp_plain"], "-o smtpd_tls_security_level=none "
         "-o smtpd_tls_auth_only=no"),
    ]
    # Chroot is off ("n") everywhere: a chroot would need a populated copy of
    # /etc inside the queue directory.
    lines = ["# Generated by mailservers.py.",
             "# service type private unpriv chroot wakeup maxproc command"]
    lines += [f"{ADDR}:{port} inet n - n - - smtpd {opts}".rstrip()
              for port, opts in smtpd]
    lines += [
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "proxywrite unix - - n - 1 proxymap",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "lmtp unix - - n - - lmtp",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
    ]
    return "\n".join(lines) + "\n"


def _write_users(layout):
    mail = pwd.getpwnam("mail")
    dovecot = pwd.getpwnam("dovecot")
    passdb, userdb, vmailbox = [], [], []
    for _prefix, login, address, password in USERS:
        assert ":" not in login + password and "\n" not in login + password
        # passwd-file: user:password:uid:gid:gecos:home:shell:extra_fields.
        # Only ':' separates fields, so the password needs no escaping.
        extra = f"user={address}" if login != address else ""
        passdb.append(f"{login}:{{PLAIN}}{password}::::::{extra}")
        home = layout.home(address)
        userdb.append(f"{address}::{mail.pw_uid}:{mail.pw_gid}::{home}::")
        vmailbox.append(f"{address} ok")
        # Pre-made Maildirs let tests look at new/ before the first delivery.
        for sub in ("", "Maildir", "Maildir/cur", "Maildir/new",
                    "Maildir/tmp"):
            path = os.path.join(home, sub)
            os.makedirs(path, mode=0o700, exist_ok=True)
            os.chown(path, mail.pw_uid, mail.pw_gid)
    _write(layout.passdb, "\n".join(passdb) + "\n", 0o640,
           (0, dovecot.pw_gid))
    _write(layout.userdb, "\n".join(userdb) + "\n", 0o644)
    _write(layout.vmailbox, "\n".join(vmailbox) + "\n", 0o644)


def _make_postfix_dirs(layout):
    """Create the queue and data directories the way post-install would.

    "postfix start" on a fresh queue runs post-install create-missing and a
    round of find(1) checks, which takes about 2 s here. Creating the
    directories from Postfix's own list (postfix-files) and leaving the
    "quick-start" file that postfix-script honours skips both: the start
    then takes a few milliseconds. Returns False (and changes nothing) if
    the list cannot be read; "postfix start" then does the slow thing.
    """
    try:
        with open("/etc/postfix/postfix-files", encoding="utf-8") as f:
            entries = [line.strip().split(":") for line in f]
        postfix = pwd.getpwnam("postfix")
        postdrop = grp.getgrnam("postdrop")
    except (OSError, KeyError):
        return False
    where = {"$queue_directory": layout.postfix_queue,
             "$data_directory": layout.postfix_data}
    users = {"root": 0, "$mail_owner": postfix.pw_uid}
    groups = {"-": 0, "$setgid_group": postdrop.gr_gid}
    dirs = []
    for e in entries:
        if len(e) < 5 or e[1] != "d":
            continue
        top, _, rest = e[0].partition("/")
        if top not in where or e[2] not in users or e[3] not in groups:
            continue
        path = os.path.join(where[top], rest) if rest else where[top]
        dirs.append((path, users[e[2]], groups[e[3]], int(e[4], 8)))
    if not any(p == layout.postfix_data for p, *_ in dirs):
        return False
    for path, uid, gid, mode in sorted(dirs):
        os.makedirs(path, exist_ok=True)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    open(os.path.join(layout.postfix_queue, "quick-start"), "w").close()
    return True


# ---------------------------------------------------------------- processes


def _proc_stat(pid):
    """(state, ppid) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii",
                  errors="replace") as f:
            data = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain anything.
    fields = data[data.rfind(")") + 2:].split()
    return fields[0], int(fields[1])


def _gone(pid):
    # A zombie has stopped running; reaping it is its parent's (here often
    # PID 1's, later) business.
    st = _proc_stat(pid)
    return st is None or st[0] in ("Z", "X")


def _readlink(path):
    try:
        link = os.readlink(path)
    except OSError:
        return None
    return link[:-len(" (deleted)")] if link.endswith(" (deleted)") else link


def _inside(path, root):
    return path is not None and (path == root or path.startswith(root + "/"))


def _server_binary(exe):
    if exe is None:
        return False
    if exe.startswith(("/usr/lib/dovecot/", "/usr/libexec/dovecot/",
                       "/usr/lib/postfix/", "/usr/libexec/postfix/")):
        return True
    # Cyrus, Exim and imap4d (privserver.py) run from here, in directories
    # inside the pair's: the watchdog's cleanup ends them too.
    if exe.startswith(PRIVATE_SERVER_ROOT + "/"):
        return True
    return os.path.basename(exe) in ("dovecot", "postfix", "postlog")


def _ancestors():
    pids = set()
    pid = os.getpid()
    while pid > 0 and pid not in pids:
        pids.add(pid)
        st = _proc_stat(pid)
        pid = st[1] if st else 0
    return pids


def _leftovers(root):
    """Live Dovecot/Postfix processes working inside root, found by PID."""
    spare = _ancestors()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in spare:
            continue
        pid = int(entry)
        if _gone(pid) or not _server_binary(_readlink(f"/proc/{pid}/exe")):
            continue
        if _inside(_readlink(f"/proc/{pid}/cwd"), root) or \
                _inside(_readlink(f"/proc/{pid}/root"), root):
            found.append(pid)
    return found


def _read_pid(path):
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _master_pid(pidfile, root):
    """The master's PID from its pid file, if that process is still ours."""
    pid = _read_pid(pidfile)
    if pid is None or _gone(pid):
        return None
    if not _server_binary(_readlink(f"/proc/{pid}/exe")):
        return None                 # stale pid file, PID reused
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode("utf-8", "replace")
    except OSError:
        cmdline = ""
    if any(_inside(arg, root) for arg in cmdline.split("\0")) or \
            _inside(_readlink(f"/proc/{pid}/cwd"), root):
        return pid
    return None


def _wait_for(condition, timeout, interval=0.02):
    """Poll condition() until it is true or timeout passes; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def _kill(pid, sig):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop_servers(root, fast=False, remove=True):
    """Stop the instance in root and (by default) delete root.

    Graceful: SIGTERM to both masters at once (Dovecot alone needs 1-3 s),
    wait for them by PID, then SIGKILL whatever Dovecot/Postfix process still
    works inside root. fast=True sends SIGKILL straight away, for cleanup
    after a signal, where a test runner gives only a short grace period.
    Returns the number of seconds taken. Safe to call more than once.
    """
    t0 = time.monotonic()
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        return 0.0
    if not os.path.exists(os.path.join(root, MARKER)):
        raise MailServersError(f"{root} was not made by mailservers.py "
                               f"(no {MARKER}); not touching it")
    layout = Layout(root)
    masters = [pid for pid in (_master_pid(layout.dovecot_pid, root),
                               _master_pid(layout.postfix_pid, root))
               if pid is not None]
    if not fast:
        for pid in masters:
            _kill(pid, signal.SIGTERM)
        # Postfix's daemons exit when they see their master gone.
        _wait_for(lambda: all(_gone(p) for p in masters), STOP_TIMEOUT)
        _wait_for(lambda: not _leftovers(root), 2.0)
    for _ in range(3):
        left = set(_leftovers(root)) | {p for p in masters if not _gone(p)}
        if not left:
            break
        for pid in left:
            _kill(pid, signal.SIGKILL)
        _wait_for(lambda: all(_gone(p) for p in left), 3.0)
    else:
        left = _leftovers(root)
        if left:
            raise MailServersError(
                f"processes {left} inside {root} survived SIGKILL")
    if remove:
        shutil.rmtree(root)
    return time.monotonic() - t0


def _tail(path, lines=25):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.readlines()[-lines:]
    except OSError:
        return ""
    return f"--- last lines of {path}:\n" + "".join(text) if text else ""


def _log_tails(layout, lines=25):
    return "".join(_tail(p, lines) for p in (layout.dovecot_out,
                                             layout.dovecot_log,
                                             layout.postfix_log))


def _run_on_tty(argv, timeout):
    """Run argv with its output on a pseudo-terminal; return (status, text).

    "postfix start" reports fatal errors only to a terminal or to its log,
    and the early ones never reach the log. A daemon it starts might keep
    the terminal open, so reading stops once the command has exited and
    nothing is left to read, rather than waiting for end-of-file.
    """
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, start_new_session=True)
    finally:
        os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:         # EIO: every writer has closed it
                    data = b""
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        try:
            status = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = "timeout"
    finally:
        os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return status, text


# ---------------------------------------------------------------- the pair


class MailServers:
    """A running Dovecot + Postfix pair; also a context manager.

    with MailServers() as s:          # fresh temporary directory
        s.env["MAILCONN_TEST_IMAP_TLS_PORT"]

    MailServers(dir=...) uses (and finally removes) the given directory,
    which must not exist yet or be empty. start() raises
    MailServersUnavailable when the machine cannot run servers at all (skip
    the tests), MailServersError when starting failed (with log excerpts).
    With watchdog=True (the default) a small detached process stops the
    servers if this Python process dies without calling stop(), e.g. from a
    test runner's SIGKILL.
    """

    def __init__(self, dir=None, timeout=START_TIMEOUT, watchdog=True):
        self._requested_dir = dir
        self.timeout = timeout
        self.watchdog = watchdog
        self.dir = None
        self.layout = None
        self.env = {}
        self.facts = {}
        self.ports = {}
        self.start_seconds = None
        self.stop_seconds = None
        self._watchdog_pipe = None

    # -- public

    def start(self):
        if self.dir is not None:
            raise MailServersError("already started")
        check_prerequisites()
        t0 = time.monotonic()
        root = self._make_dir()
        self.dir = root
        self.layout = Layout(root)
        try:
            if self.watchdog:
                self._start_watchdog()
            self._start_servers()
        except BaseException:
            # Stop whatever did start; the exception says what went wrong.
            with _signals_deferred():
                self._cleanup(fast=True)
            raise
        self.start_seconds = time.monotonic() - t0
        self.facts["start_seconds"] = round(self.start_seconds, 3)
        self._write_env()
        return self

    def stop(self, fast=False):
        """Stop the servers and remove the directory. Idempotent."""
        if self.dir is None:
            return
        with _signals_deferred():
            self._cleanup(fast=fast)

    def log_tails(self, lines=25):
        return _log_tails(self.layout, lines) if self.layout else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(fast=exc_type is not None)
        return False

    # -- internals

    def _make_dir(self):
        if self._requested_dir is None:
            root = tempfile.mkdtemp(prefix="mailconn-")
        else:
            root = os.path.abspath(self._requested_dir)
            if os.path.exists(os.path.join(root, MARKER)):
                raise MailServersError(
                    f"{root} already holds an instance; stop it first")
            os.makedirs(root, exist_ok=True)
            if os.listdir(root):
                raise MailServersError(f"{root} exists and is not empty")
        try:
            _check_dir_path(root)
            # mkdtemp makes it 0700; the daemons' users must get in.
            os.chmod(root, 0o755)
            with open(os.path.join(root, MARKER), "w", encoding="ascii") as f:
                f.write("mailservers.py instance directory\n")
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return root

    def _start_watchdog(self):
        # The watchdog reads a pipe whose only write end we hold. If we die
        # without saying "done", it sees end-of-file and cleans up. It runs
        # in its own session so that a runner killing our process group does
        # not kill it too, and it holds none of our stdio open.
        r, w = os.pipe()
        try:
            subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "_watchdog",
                 "--dir", self.dir, "--fd", str(r)],
                pass_fds=[r], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
        except BaseException:
            os.close(w)
            raise
        finally:
            os.close(r)
        self._watchdog_pipe = w

    def _release_watchdog(self):
        if self._watchdog_pipe is not None:
            with contextlib.suppress(OSError):
                os.write(self._watchdog_pipe, b"done")
            os.close(self._watchdog_pipe)
            self._watchdog_pipe = None

    def _cleanup(self, fast):
        try:
            self.stop_seconds = stop_servers(self.dir, fast=fast)
        finally:
            self._release_watchdog()
            self.dir = None

    def _start_servers(self, attempts=2):
        layout = self.layout
        make_certificates(layout)
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return
            except MailServersError as e:
                # A port picked a moment ago may have been taken by someone
                # else since; then try once more with fresh ports.
                if attempt == attempts or "in use" not in str(e):
                    raise
                _log("a port was taken meanwhile; retrying with new ports")
                stop_servers(layout.root, fast=True, remove=False)
                for path in (layout.dovecot, layout.postfix, layout.mail):
                    shutil.rmtree(path, ignore_errors=True)

    def _start_once(self):
        layout = self.layout
        names = ["imap_tls", "imap_starttls", "smtp_tls", "smtp_starttls",
                 "smtp_expired", "smtp_selfsigned", "smtp_wronghost",
                 "smtp_plain"]
        ports = dict(zip(names, _pick_ports(len(names),
                                            FAULT_ADDRS.values())))
        # The fault listeners on 127.0.0.2-4 share the IMAP TLS port number.
        ports["imap_fault"] = ports["imap_tls"]
        self.ports = ports
        # Shown in process titles (dovecot-INSTANCE/imap); the directory
        # name keeps concurrent instances apart.
        instance = os.path.basename(layout.root)
        if not instance.startswith("mailconn"):
            instance = "mailconn-" + instance

        for d in (layout.dovecot, layout.dovecot_state, layout.postfix,
                  layout.postfix_conf, layout.postfix_queue):
            os.makedirs(d, mode=0o755, exist_ok=True)
        # The Maildirs' parent: only the mail user (and root) go in there.
        mail = pwd.getpwnam("mail")
        os.makedirs(layout.mail, mode=0o700, exist_ok=True)
        os.chown(layout.mail, mail.pw_uid, mail.pw_gid)
        _make_postfix_dirs(layout)
        _write_users(layout)
        _write(layout.dovecot_conf, _dovecot_conf(layout, ports, instance))
        _write(os.path.join(layout.postfix_conf, "main.cf"),
               _postfix_main_cf(layout))
        _write(os.path.join(layout.postfix_conf, "master.cf"),
               _postfix_master_cf(layout, ports))
        # Postfix re-reads a file modified within the last second until it
        # has "cooled down" (util/load_file.c, 300 ms naps): backdating the
        # new files saves 1-2 s per start.
        cool = time.time() - 60
        for name in os.listdir(layout.postfix_conf):
            os.utime(os.path.join(layout.postfix_conf, name), (cool, cool))

        deadline = time.monotonic() + self.timeout

        # Dovecot first: Postfix uses its auth and LMTP sockets.
        with open(layout.dovecot_out, "w", encoding="utf-8") as out:
            try:
                status = subprocess.run(
                    [_which("dovecot"), "-c", layout.dovecot_conf],
                    stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                    timeout=self.timeout, check=False).returncode
            except subprocess.TimeoutExpired:
                status = "timeout"
        if status != 0:
            self._fail(f"dovecot did not start (exit status {status})")

        status, text = _run_on_tty(
            [_which("postfix"), "-c", layout.postfix_conf, "start"],
            max(1.0, deadline - time.monotonic()))
        if status != 0:
            hint = ""
            if "master" not in _tail(layout.postfix_log):
                hint = ("\n(the Postfix master reports errors it meets "
                        "before its logging is up, such as a bad master.cf "
                        "service, only to syslog)")
            self._fail(f"postfix did not start (exit status {status}):\n"
                       + text.strip() + hint)

        wanted = {(ADDR, p) for k, p in ports.items() if k != "imap_fault"}
        wanted |= {(a, ports["imap_fault"]) for a in FAULT_ADDRS.values()}

        def ready():
            if not (os.path.exists(layout.auth_socket)
                    and os.path.exists(layout.lmtp_socket)):
                return False
            return wanted <= _listening()

        # Readiness from /proc/net/tcp rather than probe connections, which
        # would show up in the servers' logs as aborted sessions.
        while not ready():
            for what, pidfile in (("dovecot", layout.dovecot_pid),
                                  ("postfix", layout.postfix_pid)):
                if os.path.exists(pidfile) and \
                        _master_pid(pidfile, layout.root) is None:
                    self._fail(f"the {what} master exited during start-up")
            if time.monotonic() >= deadline:
                missing = sorted(wanted - _listening())
                self._fail(f"not ready after {self.timeout:.0f} s; "
                           f"not listening: {missing}")
            time.sleep(0.02)

    def _fail(self, message):
        raise MailServersError(message + "\n" + self.log_tails())

    def _write_env(self):
        layout, ports = self.layout, self.ports
        env = {
            "MAILCONN_TEST_DIR": layout.root,
            "MAILCONN_TEST_CA_FILE": layout.cert("ca"),
            "MAILCONN_TEST_DOMAIN": DOMAIN,
            "MAILCONN_TEST_HOSTNAME": HOSTNAME,
            "MAILCONN_TEST_ADDR": ADDR,
            "MAILCONN_TEST_IMAP_TLS_PORT": ports["imap_tls"],
            "MAILCONN_TEST_IMAP_STARTTLS_PORT": ports["imap_starttls"],
            "MAILCONN_TEST_IMAP_SELFSIGNED_ADDR": FAULT_ADDRS["selfsigned"],
            "MAILCONN_TEST_IMAP_EXPIRED_ADDR": FAULT_ADDRS["expired"],
            "MAILCONN_TEST_IMAP_WRONGHOST_ADDR": FAULT_ADDRS["wronghost"],
            "MAILCONN_TEST_IMAP_FAULT_PORT": ports["imap_fault"],
            "MAILCONN_TEST_SMTP_TLS_PORT": ports["smtp_tls"],
            "MAILCONN_TEST_SMTP_STARTTLS_PORT": ports["smtp_starttls"],
            "MAILCONN_TEST_SMTP_EXPIRED_PORT": ports["smtp_expired"],
            "MAILCONN_TEST_SMTP_SELFSIGNED_PORT": ports["smtp_selfsigned"],
            "MAILCONN_TEST_SMTP_WRONGHOST_PORT": ports["smtp_wronghost"],
            "MAILCONN_TEST_SMTP_PLAIN_PORT": ports["smtp_plain"],
        }
        for prefix, login, address, password in USERS:
            if prefix == "":
                env["MAILCONN_TEST_USER"] = login
                env["MAILCONN_TEST_PASSWORD"] = password
                env["MAILCONN_TEST_MAILDIR_USER"] = layout.maildir(address)
            elif prefix == "BCC_":
                env["MAILCONN_TEST_BCC"] = address
                env["MAILCONN_TEST_BCC_PASSWORD"] = password
                env["MAILCONN_TEST_MAILDIR_BCC"] = layout.maildir(address)
            elif prefix == "CUSTOM_":
                env["MAILCONN_TEST_CUSTOM_LOGIN"] = login
                env["MAILCONN_TEST_CUSTOM_ADDRESS"] = address
                env["MAILCONN_TEST_CUSTOM_PASSWORD"] = password
            else:
                env[f"MAILCONN_TEST_{prefix}USER"] = login
                env[f"MAILCONN_TEST_{prefix}PASSWORD"] = password
        env["MAILCONN_TEST_DOVECOT_LOG"] = layout.dovecot_log
        env["MAILCONN_TEST_POSTFIX_LOG"] = layout.postfix_log
        self.env = {k: str(v) for k, v in env.items()}

        self.facts.update({
            "env": self.env,
            "pids": {"dovecot": _read_pid(layout.dovecot_pid),
                     "postfix": _read_pid(layout.postfix_pid)},
            "certificates": {n: layout.cert(n) for n in
                             ("ca", "good", "selfsigned", "expired",
                              "wronghost")},
            "users": [{"login": login, "address": address,
                       "password": password}
                      for _, login, address, password in USERS],
        })
        lines = ["# Generated by mailservers.py. To export into a shell:",
                 f"#   set -a; . {shlex.quote(layout.env_file)}; set +a"]
        lines += [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        _write(layout.env_file, "\n".join(lines) + "\n")
        _write(layout.env_json,
               json.dumps(self.facts, indent=2, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- signals


class _Terminated(BaseException):
    """SIGTERM/SIGHUP arrived; unwinds like KeyboardInterrupt does."""

    def __init__(self, signum):
        super().__init__(f"signal {signum}")
        self.signum = signum


def _raise_on_signal(signum, _frame):
    raise _Terminated(signum)


def _install_signal_handlers():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_on_signal)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM/SIGHUP back while cleaning up, re-raise after."""
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---------------------------------------------------------------- commands


def cmd_start(args):
    servers = MailServers(args.dir, timeout=args.timeout, watchdog=False)
    servers.start()
    _log(f"started in {servers.start_seconds:.2f} s; "
         f"set -a; . {servers.layout.env_file}; set +a")
    return 0


def cmd_stop(args):
    root = os.path.abspath(args.dir)
    if not os.path.isdir(root):
        _log(f"{root} does not exist; nothing to stop")
        return 0
    with _signals_deferred():
        seconds = stop_servers(root)
    _log(f"stopped and removed {root} in {seconds:.2f} s")
    return 0


def cmd_run(args):
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise SystemExit("mailservers.py run: no command given "
                         "(mailservers.py run -- CMD ARGS...)")
    servers = MailServers(args.dir, timeout=args.timeout)
    child = None
    signalled = []

    def forward(signum, _frame):
        # While the command runs, pass signals on and keep waiting for it;
        # cleanup follows once it has exited.
        signalled.append(signum)
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)
        else:
            raise _Terminated(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    try:
        servers.start()
        env = dict(os.environ)
        env.update(servers.env)
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as e:
            _log(f"cannot run {command[0]}: {e}")
            return 127
        status = child.wait()
        if status != 0 and not signalled:
            print(servers.log_tails(15), file=sys.stderr, end="")
        return status if status >= 0 else 128 - status
    finally:
        # After a signal the runner may allow only a short grace period
        # (meson: 0.5 s before SIGKILL), so then kill instead of waiting.
        servers.stop(fast=bool(signalled))


def cmd_watchdog(args):
    # Detached helper of MailServers: wait until the parent says "done" or
    # dies (end-of-file), then clean up in the second case.
    data = b""
    with contextlib.suppress(OSError):
        while True:
            chunk = os.read(args.fd, 64)
            if not chunk:
                break
            data += chunk
    if data.startswith(b"done"):
        return 0
    with contextlib.suppress(MailServersError, OSError):
        stop_servers(args.dir, fast=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Throwaway Dovecot + Postfix pair on loopback.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start and leave running")
    p.add_argument("--dir", required=True)
    p.add_argument("--timeout", type=float, default=START_TIMEOUT)
    p = sub.add_parser("stop", help="stop and remove the directory")
    p.add_argument("--dir", required=True)
    p = sub.add_parser("run", help="start, run a command, stop")
    p.add_argument("--dir", help="instance directory (default: mktemp)")
    p.add_argument("--timeout", type=float, default=START_TIMEOUT)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("selftest", help="start, check end to end, stop")
    p.add_argument("--dir", help="instance directory (default: mktemp)")
    p = sub.add_parser("_watchdog")
    p.add_argument("--dir", required=True)
    p.add_argument("--fd", type=int, required=True)
    args = parser.parse_args(argv)

    if args.cmd == "_watchdog":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return cmd_watchdog(args)
    if args.cmd != "run":
        _install_signal_handlers()
    try:
        if args.cmd == "start":
            return cmd_start(args)
        if args.cmd == "stop":
            return cmd_stop(args)
        if args.cmd == "run":
            return cmd_run(args)
        return selftest(args.dir)
    except MailServersUnavailable as e:
        _log(f"cannot run here: {e}")
        return EXIT_UNAVAILABLE
    except MailServersError as e:
        _log(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        _log("interrupted; cleaned up")
        return 128 + signal.SIGINT
    except _Terminated as e:
        _log(f"terminated by signal {e.signum}; cleaned up")
        return 128 + e.signum


# ---------------------------------------------------------------- selftest


class ScramClient:
    """Client side of SCRAM-SHA-256 (RFC 7677), without channel binding."""

    def __init__(self, user, password):
        self.password = password.encode("utf-8")
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.first_bare = f"n={name},r={self.nonce}"
        self.server_signature = None

    def first(self):
        return ("n,," + self.first_bare).encode("utf-8")

    def final(self, server_first):
        server_first = server_first.decode("utf-8")
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise ValueError("server nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha256", self.password,
                                     base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=" + base64.b64encode(b"n,,").decode() \
            + ",r=" + attrs["r"]
        message = ",".join([self.first_bare, server_first,
                            without_proof]).encode("utf-8")
        signature = hmac.digest(stored_key, message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self.server_signature = hmac.digest(server_key, message, "sha256")
        return (without_proof + ",p="
                + base64.b64encode(proof).decode()).encode("utf-8")

    def check(self, server_final):
        expected = b"v=" + base64.b64encode(self.server_signature)
        if server_final != expected:
            raise ValueError(f"bad server signature {server_final!r}")


def _imap_scram(imap, user, password):
    scram = ScramClient(user, password)
    steps = iter([lambda _: scram.first(), scram.final,
                  lambda data: (scram.check(data), b"")[1]])
    return imap.authenticate("SCRAM-SHA-256", lambda data: next(steps)(data))


def _smtp_expect(reply, code, *fragments):
    got, text = reply
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) \
        else text
    if got != code or any(f not in text for f in fragments):
        raise AssertionError(f"expected {code} {' '.join(fragments)}, "
                             f"got {got} {text}")
    return text


def _smtp_auth_plain(smtp, user, password):
    # smtplib encodes credentials as ASCII; this sends UTF-8 as RFC 4616 says.
    blob = b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")
    return smtp.docmd("AUTH", "PLAIN " + base64.b64encode(blob).decode())


def _smtp_scram(smtp, user, password):
    scram = ScramClient(user, password)
    code, text = smtp.docmd("AUTH", "SCRAM-SHA-256 "
                            + base64.b64encode(scram.first()).decode())
    _smtp_expect((code, text), 334)
    code, text = smtp.docmd(base64.b64encode(
        scram.final(base64.b64decode(text))).decode())
    _smtp_expect((code, text), 334)
    scram.check(base64.b64decode(text))
    return smtp.docmd("")


def _tls_handshake(addr, port, ctx, server_hostname):
    with socket.create_connection((addr, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.getpeercert(binary_form=True)


def _certtool_verdict(ca_file, der, hostname):
    """GnuTLS's view: the set of reasons certtool gives for rejecting der."""
    pem = ssl.DER_cert_to_PEM_cert(der)
    p = subprocess.run([_which("certtool"), "--verify",
                        "--load-ca-certificate", ca_file,
                        "--verify-hostname", hostname],
                       input=pem, capture_output=True, text=True,
                       timeout=30, check=False)
    line = next((text for text in p.stdout.splitlines()
                 if text.startswith("Chain verification output:")), "")
    sentences = {s.strip() for s in
                 line.split(":", 1)[-1].strip().rstrip(".").split(". ")}
    return sentences - {"Not verified", "The certificate is NOT trusted",
                        "Verified", "The certificate is trusted", ""}


class _Checker:
    def __init__(self):
        self.failures = 0
        self.count = 0

    def __call__(self, name, fn):
        self.count += 1
        t0 = time.monotonic()
        try:
            detail = fn()
        except Exception as e:   # noqa: BLE001 - report and carry on
            self.failures += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.2f} s): "
                  f"{type(e).__name__}: {e}", flush=True)
            return
        extra = f": {detail}" if detail else ""
        print(f"PASS {name} ({time.monotonic() - t0:.2f} s){extra}",
              flush=True)


def selftest(root=None):
    """Start, check every listener and user end to end, stop. Exit status."""
    t0 = time.monotonic()
    servers = MailServers(root)
    servers.start()
    check = _Checker()
    print(f"PASS start ({servers.start_seconds:.2f} s) in {servers.dir}",
          flush=True)
    try:
        _selftest_checks(servers, check)
        layout = servers.layout
    finally:
        servers.stop()
    check("stop", lambda: f"{servers.stop_seconds:.2f} s")
    check("no processes left", lambda: _assert_no_leftovers(layout.root))
    check("directory removed", lambda: _assert_removed(layout.root))
    print(f"{check.count - check.failures} passed, {check.failures} failed "
          f"({time.monotonic() - t0:.1f} s)", flush=True)
    return 1 if check.failures else 0


def _assert_removed(root):
    if os.path.exists(root):
        raise AssertionError(f"{root} still exists")


def _assert_no_leftovers(root):
    left = _leftovers(root)
    if left:
        raise AssertionError(f"still running: {left}")


def _selftest_checks(servers, check):
    env = servers.env
    ca = env["MAILCONN_TEST_CA_FILE"]
    host = env["MAILCONN_TEST_HOSTNAME"]
    user, password = env["MAILCONN_TEST_USER"], env["MAILCONN_TEST_PASSWORD"]
    bcc = env["MAILCONN_TEST_BCC"]
    awkward = env["MAILCONN_TEST_AWKWARD_USER"]
    awkward_pw = env["MAILCONN_TEST_AWKWARD_PASSWORD"]
    imaps = int(env["MAILCONN_TEST_IMAP_TLS_PORT"])
    imap_plain = int(env["MAILCONN_TEST_IMAP_STARTTLS_PORT"])
    smtps = int(env["MAILCONN_TEST_SMTP_TLS_PORT"])
    submission = int(env["MAILCONN_TEST_SMTP_STARTTLS_PORT"])
    ctx = ssl.create_default_context(cafile=ca)
    token = secrets.token_hex(8)

    def imap_tls():
        return imaplib.IMAP4_SSL(host, imaps, ssl_context=ctx, timeout=10)

    def imap_login_examine():
        with imap_tls() as m:
            m.login(user, password)
            typ, data = m.select("INBOX", readonly=True)   # EXAMINE
            assert typ == "OK", data
            return f"EXAMINE INBOX: {data[0].decode()} messages"
    check("imap implicit TLS: LOGIN alice, EXAMINE INBOX", imap_login_examine)

    def imap_starttls():
        with imaplib.IMAP4(host, imap_plain, timeout=10) as m:
            assert "STARTTLS" in m.capabilities, m.capabilities
            m.starttls(ssl_context=ctx)
            m.login(user, password)
            typ, data = m.select("INBOX", readonly=True)
            assert typ == "OK", data
    check("imap STARTTLS: LOGIN alice, EXAMINE INBOX", imap_starttls)

    def imap_awkward_login():
        with imap_tls() as m:
            m._encoding = "utf-8"     # imaplib sends ASCII-only by default
            typ, _ = m.login(awkward, awkward_pw)   # quoted string
            assert typ == "OK"
    check("imap LOGIN awkward password (quoted, UTF-8)", imap_awkward_login)

    def imap_awkward_literal():
        with imap_tls() as m:
            m.literal = awkward_pw.encode("utf-8")
            typ, _ = m._simple_command("LOGIN", awkward)
            assert typ == "OK"
    check("imap LOGIN awkward password (literal)", imap_awkward_literal)

    def imap_awkward_plain():
        with imap_tls() as m:
            blob = b"\0" + awkward.encode() + b"\0" + awkward_pw.encode()
            typ, _ = m.authenticate("PLAIN", lambda _: blob)
            assert typ == "OK"
    check("imap AUTHENTICATE PLAIN awkward password", imap_awkward_plain)

    for who, pw in ((user, password), (awkward, awkward_pw)):
        def imap_scram(who=who, pw=pw):
            with imap_tls() as m:
                assert "AUTH=SCRAM-SHA-256" in m.capabilities, m.capabilities
                typ, _ = _imap_scram(m, who, pw)
                assert typ == "OK"
        check(f"imap AUTHENTICATE SCRAM-SHA-256 {who}", imap_scram)

    def imap_custom():
        with imap_tls() as m:
            m.login(env["MAILCONN_TEST_CUSTOM_LOGIN"],
                    env["MAILCONN_TEST_CUSTOM_PASSWORD"])
    check("imap LOGIN custom-login (login != address)", imap_custom)

    def imap_wrong_password():
        times = []
        for _ in range(3):      # the auth penalty would grow per attempt
            with imap_tls() as m:
                t = time.monotonic()
                try:
                    m.login(user, "wrong-password")
                except imaplib.IMAP4.error as e:
                    times.append(time.monotonic() - t)
                    assert "AUTHENTICATIONFAILED" in str(e), e
                else:
                    raise AssertionError("wrong password accepted")
        assert max(times) < 1.5, times
        return "refused in " + ", ".join(f"{t:.2f}" for t in times) + " s"
    check("imap wrong password refused quickly (3 times)",
          imap_wrong_password)

    # -- SMTP

    def message(subject):
        return (f"From: <{user}>\r\nTo: <{bcc}>\r\nSubject: {subject}\r\n"
                f"Message-ID: <{subject}@{DOMAIN}>\r\n\r\nbody {subject}\r\n")

    def smtp_tls():
        s = smtplib.SMTP_SSL(host, smtps, context=ctx, timeout=10)
        s.ehlo("client.test")
        return s

    def smtp_send_tls():
        with smtp_tls() as s:
            s.login(user, password)
            s.sendmail(user, [bcc], message(f"tls-{token}"))
    check("smtp implicit TLS: AUTH alice, send to bob", smtp_send_tls)

    def smtp_send_starttls():
        with smtplib.SMTP(host, submission, timeout=10) as s:
            s.ehlo("client.test")
            assert not s.has_extn("auth"), "AUTH offered before TLS"
            assert s.has_extn("starttls")
            _smtp_expect(s.docmd("MAIL", f"FROM:<{user}>"), 530, "5.7.0")
            s.starttls(context=ctx)
            s.ehlo("client.test")
            auth = s.esmtp_features.get("auth", "")
            assert "SCRAM-SHA-256" in auth and "PLAIN" in auth, auth
            s.login(user, password)
            s.sendmail(user, [bcc], message(f"starttls-{token}"))
            return "AUTH " + auth.strip()
    check("smtp STARTTLS (required): AUTH alice, send to bob",
          smtp_send_starttls)

    def delivered():
        new = os.path.join(env["MAILCONN_TEST_MAILDIR_BCC"], "new")
        wanted = {f"tls-{token}", f"starttls-{token}"}

        def found():
            seen = set()
            for name in os.listdir(new):
                with open(os.path.join(new, name), "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                seen |= {w for w in wanted if f"Subject: {w}" in text}
            return seen == wanted
        t = time.monotonic()
        if not _wait_for(found, 15.0, 0.05):
            raise AssertionError(f"not in {new} after 15 s")
        return f"in bob's Maildir after {time.monotonic() - t:.2f} s"
    check("LMTP delivery of both messages to bob's Maildir", delivered)

    def imap_bob_sees():
        with imap_tls() as m:
            m.login(bcc, env["MAILCONN_TEST_BCC_PASSWORD"])
            m.select("INBOX", readonly=True)
            typ, data = m.search(None, "SUBJECT", f'"{token}"')
            assert typ == "OK" and len(data[0].split()) == 2, data
    check("imap bob sees both messages", imap_bob_sees)

    def smtp_awkward_plain():
        with smtp_tls() as s:
            _smtp_expect(_smtp_auth_plain(s, awkward, awkward_pw), 235)
    check("smtp AUTH PLAIN awkward password (UTF-8)", smtp_awkward_plain)

    for who, pw in ((user, password), (awkward, awkward_pw)):
        def smtp_scram(who=who, pw=pw):
            with smtp_tls() as s:
                _smtp_expect(_smtp_scram(s, who, pw), 235)
        check(f"smtp AUTH SCRAM-SHA-256 {who}", smtp_scram)

    def smtp_custom():
        with smtp_tls() as s:
            s.login(env["MAILCONN_TEST_CUSTOM_LOGIN"],
                    env["MAILCONN_TEST_CUSTOM_PASSWORD"])
    check("smtp AUTH custom-login", smtp_custom)

    def smtp_wrong_password():
        with smtp_tls() as s:
            t = time.monotonic()
            text = _smtp_expect(_smtp_auth_plain(s, user, "wrong-password"),
                                535, "5.7.8")
            took = time.monotonic() - t
            assert took < 1.5, took
            return f"{took:.2f} s: 535 {text}"
    check("smtp wrong password refused quickly", smtp_wrong_password)

    def smtp_relay_denied():
        with smtp_tls() as s:
            s.login(user, password)
            _smtp_expect(s.docmd("MAIL", f"FROM:<{user}>"), 250)
            return "554 " + _smtp_expect(
                s.docmd("RCPT", "TO:<someone@example.com>"), 554, "5.7.1",
                "Relay access denied")
    check("smtp outside recipient: Relay access denied", smtp_relay_denied)

    def smtp_unknown_user():
        with smtp_tls() as s:
            s.login(user, password)
            _smtp_expect(s.docmd("MAIL", f"FROM:<{user}>"), 250)
            return "550 " + _smtp_expect(
                s.docmd("RCPT", f"TO:<nobody@{DOMAIN}>"), 550, "5.1.1")
    check("smtp unknown local recipient rejected at RCPT", smtp_unknown_user)

    def smtp_unauthenticated():
        with smtp_tls() as s:
            _smtp_expect(s.docmd("MAIL", f"FROM:<{user}>"), 250)
            return "554 " + _smtp_expect(s.docmd("RCPT", f"TO:<{bcc}>"),
                                         554, "5.7.1")
    check("smtp unauthenticated client may not send", smtp_unauthenticated)

    def smtp_plain_port():
        with smtplib.SMTP(ADDR, int(env["MAILCONN_TEST_SMTP_PLAIN_PORT"]),
                          timeout=10) as s:
            s.ehlo("client.test")
            assert not s.has_extn("starttls")
            assert "PLAIN" in s.esmtp_features.get("auth", "")
            s.login(user, password)
    check("smtp plaintext port offers AUTH without TLS", smtp_plain_port)

    # -- certificates: the good one passes OpenSSL and GnuTLS checks; each
    # bad one fails with exactly the intended fault and nothing else.

    no_verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    no_verify.check_hostname = False
    no_verify.verify_mode = ssl.CERT_NONE

    def good_cert(port):
        def run():
            _tls_handshake(ADDR, port, ctx, host)
            _tls_handshake(ADDR, port, ctx, ADDR)
            der = _tls_handshake(ADDR, port, no_verify, None)
            for name in (host, DOMAIN, ADDR):
                left = _certtool_verdict(ca, der, name)
                assert not left, f"{name}: {left}"
            return "trusted for localhost, mail.test, 127.0.0.1 " \
                "(OpenSSL, certtool)"
        return run
    check("certificate good on IMAP TLS port", good_cert(imaps))
    check("certificate good on SMTP TLS port", good_cert(smtps))

    faults = {
        "selfsigned": (18, "The certificate issuer is unknown"),
        "expired": (10, "The certificate chain uses expired certificate"),
        "wronghost": (62, "The name in the certificate does not match "
                      "the expected"),
    }
    fault_port = int(env["MAILCONN_TEST_IMAP_FAULT_PORT"])
    listeners = [("imap", name, FAULT_ADDRS[name], fault_port)
                 for name in faults]
    listeners += [("smtp", name, ADDR,
                   int(env[f"MAILCONN_TEST_SMTP_{name.upper()}_PORT"]))
                  for name in faults]
    for proto, fault, addr, port in listeners:
        def cert_fault(fault=fault, addr=addr, port=port):
            code, gnutls_reason = faults[fault]
            # Use the host name, and for the IP-named ones the address too.
            names = [host] if fault == "wronghost" else [host, addr]
            for name in names:
                try:
                    _tls_handshake(addr, port, ctx, name)
                except ssl.SSLCertVerificationError as e:
                    assert e.verify_code == code, \
                        f"{name}: {e.verify_code} {e.verify_message}"
                else:
                    raise AssertionError(f"{name}: certificate accepted")
                der = _tls_handshake(addr, port, no_verify, None)
                reasons = _certtool_verdict(ca, der, name)
                assert reasons == {gnutls_reason}, f"{name}: {reasons}"
            # Control: take the one fault away and the handshake succeeds.
            if fault == "selfsigned":
                trust_it = ssl.create_default_context(
                    cadata=ssl.DER_cert_to_PEM_cert(der))
                _tls_handshake(addr, port, trust_it, host)
            elif fault == "expired":
                timeless = ssl.create_default_context(cafile=ca)
                timeless.verify_flags |= 0x200000  # X509_V_FLAG_NO_CHECK_TIME
                _tls_handshake(addr, port, timeless, host)
            else:
                any_name = ssl.create_default_context(cafile=ca)
                any_name.check_hostname = False
                _tls_handshake(addr, port, any_name, None)
            return f"{addr}:{port} OpenSSL error {code}; certtool: " \
                f"{gnutls_reason}; nothing else"
        check(f"certificate {fault} on {proto}", cert_fault)

    gnutls_cli = _which("gnutls-cli")
    if gnutls_cli:
        def gnutls_good():
            for port in (imaps, smtps):
                p = subprocess.run([gnutls_cli, "--x509cafile", ca, "-p",
                                    str(port), host],
                                   stdin=subprocess.DEVNULL,
                                   capture_output=True, text=True,
                                   timeout=30, check=False)
                assert "Handshake was completed" in p.stdout, \
                    p.stdout[-500:] + p.stderr[-500:]
                assert "The certificate is trusted" in p.stdout
            return "handshake completed, certificate trusted"
        check("gnutls-cli accepts the good certificate", gnutls_good)


if __name__ == "__main__":
    sys.exit(main())
