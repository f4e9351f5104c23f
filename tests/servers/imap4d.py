# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private GNU mailutils 3.15 imap4d on loopback (see privserver.py).

Listeners on 127.0.0.1 (MAILCONN_TEST_IMAP4D_*_PORT, or IMAP4D_PLAIN_*
for the instance with GNU SASL off):
  TLS       implicit TLS
  STARTTLS  plaintext, STARTTLS required before login
  TLS12     implicit TLS, TLS 1.2 at most
Imap4d(pair, gsasl=True) is imap4d's default: GNU SASL offers every
mechanism it has, SCRAM-SHA-256-PLUS included (whose channel binding
imap4d never provides). gsasl=False leaves LOGIN only.

Users are the pair's simple ones, looked up with getpwnam through
nss_wrapper (a private passwd file with crypt hashes; uid and gid of the
system user mail) and checked by the "generic" module; GNU SASL reads
their clear passwords from a private cram-passwd file. Mail lives in
Maildirs in a private mail spool (mail-spool, not mailbox-pattern: a
URL pattern would read the '@' in the user name as URL syntax).
"""

import os
import pwd
import shutil
import warnings

import mailservers
from exim import NSS_WRAPPER, simple_users
from privserver import PrivateServer, SERVER_ROOT, need, write

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

IMAP4D = os.path.join(SERVER_ROOT, "usr/sbin/imap4d")


class Imap4d(PrivateServer):
    NAME = "imap4d"
    PORTS = ("tls", "starttls", "tls12")

    def __init__(self, pair, gsasl=True):
        super().__init__(pair)
        self.gsasl = gsasl
        if not gsasl:
            self.NAME = "imap4d_plain"

    def check(self):
        need(IMAP4D, "GNU imap4d (mailutils-imap4d)")
        need(NSS_WRAPPER, "nss_wrapper (libnss-wrapper)")

    def child_env(self):
        env = super().child_env()
        env.update({"LD_PRELOAD": NSS_WRAPPER,
                    "NSS_WRAPPER_PASSWD": self.path("passwd"),
                    "NSS_WRAPPER_GROUP": self.path("group")})
        return env

    def configure(self):
        mail = pwd.getpwnam("mail")
        uid, gid = mail.pw_uid, mail.pw_gid
        users = simple_users()
        lines = ["root:x:0:0:root:/root:/bin/sh\n"]
        os.mkdir(self.path("mail"), 0o755)
        for _, login, _, password in users:
            home = self.path("mail", login)
            for sub in ("", "cur", "new", "tmp"):
                os.mkdir(os.path.join(home, sub), 0o700)
                os.chown(os.path.join(home, sub), uid, gid)
            hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
            lines.append(f"{login}:{hashed}:{uid}:{gid}::{home}:/bin/false\n")
        write(self.path("passwd"), "".join(lines), mode=0o600)
        write(self.path("group"), f"root:x:0:\nmail:x:{gid}:\n")
        write(self.path("cram-passwd"),
              "".join(f"{login}\t{pw}\n" for _, login, _, pw in users),
              mode=0o600)
        layout = self.pair.layout
        shutil.copyfile(layout.cert("good"), self.path("cert.pem"))
        shutil.copyfile(layout.key("good"), self.path("key.pem"))
        os.chmod(self.path("key.pem"), 0o600)
        p = self.ports
        d = self.dir
        conf = f"""\
mode daemon;
foreground yes;
pidfile {d}/imap4d.pid;
logging {{ syslog no; }};
auth {{ authorization system; authentication generic; }};
gsasl {{ enable {'yes' if self.gsasl else 'no'}; \
cram-passwd {d}/cram-passwd; }};
tls-file-checks {{ key-file none; cert-file none; ca-file none; }};
tls {{ ssl-certificate-file {d}/cert.pem; ssl-key-file {d}/key.pem; }};
mailbox {{ mail-spool "{d}/mail"; mailbox-type maildir; }};
server {mailservers.ADDR}:{p['tls']} {{ tls-mode connection; }};
server {mailservers.ADDR}:{p['starttls']} {{ tls-mode required; }};
server {mailservers.ADDR}:{p['tls12']} {{
  tls-mode connection;
  tls {{ ssl-certificate-file {d}/cert.pem; ssl-key-file {d}/key.pem;
         ssl-priorities "NORMAL:-VERS-TLS1.3"; }};
}};
"""
        write(self.path("imap4d.conf"), conf)
        return [IMAP4D, "--config-file=" + self.path("imap4d.conf"),
                "--daemon", "--foreground"]
