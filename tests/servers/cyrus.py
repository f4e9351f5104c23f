# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private Cyrus IMAP 3.6.1 (Cyrus SASL 2.1.28) on loopback (see
privserver.py).

One master (foreground, -D) with these services on 127.0.0.1
(MAILCONN_TEST_CYRUS_*_PORT):
  TLS       implicit TLS, every mechanism Cyrus offers by default
            (SCRAM-SHA-256-PLUS included)
  STARTTLS  plaintext, STARTTLS
  TLS12     implicit TLS, TLS 1.2 only (SCRAM -PLUS binds with tls-unique)
  PLAIN     implicit TLS, mechanisms PLAIN and LOGIN only
  WRONGHOST, EXPIRED  implicit TLS with the pair's certificate of that
            fault (per-service tls_server_cert)
Users (the pair's simple ones) live in a private sasldb; with virtdomains
Cyrus asks SASL for several spellings of a name, so each is created. INBOX
is created on the first login (autocreate_quota). Cyrus waits 3 s after
every failed login. cyrus_user is the system user mail.
"""

import os
import pwd
import shutil
import subprocess

import mailservers
from exim import simple_users
from privserver import PrivateServer, SERVER_ROOT, need, write

BIN = os.path.join(SERVER_ROOT, "usr/lib/cyrus/bin")
MASTER = os.path.join(BIN, "master")
SASLPASSWD2 = "/usr/sbin/saslpasswd2"


class Cyrus(PrivateServer):
    NAME = "cyrus"
    PORTS = ("tls", "starttls", "tls12", "plain", "wronghost", "expired")

    def check(self):
        need(MASTER, "Cyrus IMAP (cyrus-imapd)")
        need(SASLPASSWD2, "saslpasswd2 (sasl2-bin)")

    def _sasldb(self, uid, gid):
        db = self.path("sasldb2")
        host, domain = mailservers.HOSTNAME, mailservers.DOMAIN
        for _, login, _, password in simple_users():
            local, _, dom = login.partition("@")
            spellings = [(login, host)]
            if dom:
                spellings += [(local, dom), (local, host)]
            for name, realm in spellings:
                subprocess.run([SASLPASSWD2, "-c", "-p", "-f", db,
                                "-u", realm, name],
                               input=password.encode(), check=True,
                               capture_output=True, timeout=30)
        os.chown(db, uid, gid)
        os.chmod(db, 0o600)

    def configure(self):
        mail = pwd.getpwnam("mail")
        uid, gid = mail.pw_uid, mail.pw_gid
        for d in ("conf", "spool", "socket", "conf/proc", "conf/log"):
            os.mkdir(self.path(d), 0o750)
            os.chown(self.path(d), uid, gid)
        for name in ("good", "wronghost", "expired"):
            for src, dst in ((self.pair.layout.cert(name), name + ".pem"),
                             (self.pair.layout.key(name), name + "-key.pem")):
                shutil.copyfile(src, self.path(dst))
                os.chown(self.path(dst), uid, gid)
                os.chmod(self.path(dst), 0o600)
        self._sasldb(uid, gid)
        d = self.dir
        conf = f"""\
configdirectory: {d}/conf
partition-default: {d}/spool
servername: {mailservers.HOSTNAME}
defaultdomain: {mailservers.DOMAIN}
virtdomains: userid
cyrus_user: mail
lmtpsocket: {d}/socket/lmtp
idlesocket: {d}/socket/idle
notifysocket: {d}/socket/notify
allowplaintext: yes
autocreate_quota: 0
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {d}/sasldb2
tls_server_cert: {d}/good.pem
tls_server_key: {d}/good-key.pem
wronghost_tls_server_cert: {d}/wronghost.pem
wronghost_tls_server_key: {d}/wronghost-key.pem
expired_tls_server_cert: {d}/expired.pem
expired_tls_server_key: {d}/expired-key.pem
tls12_tls_versions: tls1_2
plain_sasl_mech_list: PLAIN LOGIN
"""
        write(self.path("imapd.conf"), conf)
        a = mailservers.ADDR  # d (the directory) is set above
        p = self.ports
        services = f"""\
START {{
  recover cmd="{BIN}/ctl_cyrusdb -C {d}/imapd.conf -r"
}}
SERVICES {{
  tls      cmd="{BIN}/imapd -C {d}/imapd.conf -s" listen="{a}:{p['tls']}" prefork=0
  starttls cmd="{BIN}/imapd -C {d}/imapd.conf" listen="{a}:{p['starttls']}" prefork=0
  tls12    cmd="{BIN}/imapd -C {d}/imapd.conf -s" listen="{a}:{p['tls12']}" prefork=0
  plain    cmd="{BIN}/imapd -C {d}/imapd.conf -s" listen="{a}:{p['plain']}" prefork=0
  wronghost cmd="{BIN}/imapd -C {d}/imapd.conf -s" listen="{a}:{p['wronghost']}" prefork=0
  expired  cmd="{BIN}/imapd -C {d}/imapd.conf -s" listen="{a}:{p['expired']}" prefork=0
}}
EVENTS {{
}}
DAEMON {{
}}
"""
        write(self.path("cyrus.conf"), services)
        return [MASTER, "-C", self.path("imapd.conf"),
                "-M", self.path("cyrus.conf"),
                "-p", self.path("master.pid"), "-D"]
