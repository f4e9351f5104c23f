# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private Exim 4.96 submission server on loopback (see privserver.py).

Listeners on 127.0.0.1 (MAILCONN_TEST_EXIM_*_PORT):
  TLS       implicit TLS (465-style)
  STARTTLS  plaintext, STARTTLS, AUTH only after it (587-style)
  TLS12     implicit TLS, TLS 1.2 at most
  WRONGHOST implicit TLS with the pair's certificate for wrong.example
AUTH PLAIN and LOGIN check a private lsearch file holding the pair's simple
users (alice, bob, custom-login). The RCPT ACL refuses unauthenticated
clients, a sender the login does not own ("Sender address <...> not owned
by user ...") and any recipient outside mail.test ("Relaying denied").
queue_only keeps accepted messages in the spool; queued_messages() reads
their headers back.

The Debian binary is built for the user Debian-exim, which exists only when
the package is installed: nss_wrapper gives it a private passwd and group
file naming it with the uid and gid of the system user mail.
"""

import os
import pwd
import shutil

import mailservers
from privserver import PrivateServer, SERVER_ROOT, need, write

EXIM = os.path.join(SERVER_ROOT, "usr/sbin/exim4")
NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"


def simple_users():
    """The pair's users whose passwords need no quoting in lsearch."""
    return [u for u in mailservers.USERS
            if all(c.isalnum() or c in "-@._" for c in u[1] + u[3])]


# @NAME@ are replaced by configure().
CONF = r"""
primary_hostname = @HOST@
domainlist local_domains = @DOMAIN@
local_interfaces = <; @ADDR@
daemon_smtp_ports = @TLS@ : @STARTTLS@ : @TLS12@ : @WRONGHOST@
tls_on_connect_ports = @TLS@ : @TLS12@ : @WRONGHOST@
tls_advertise_hosts = *
tls_certificate = ${if eq{$received_port}{@WRONGHOST@}\
  {@DIR@/wronghost.pem}{@DIR@/cert.pem}}
tls_privatekey = ${if eq{$received_port}{@WRONGHOST@}\
  {@DIR@/wronghost-key.pem}{@DIR@/key.pem}}
tls_require_ciphers = ${if eq{$received_port}{@TLS12@}\
  {NORMAL:-VERS-TLS1.3}{NORMAL}}
auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}
spool_directory = @DIR@/spool
log_file_path = @DIR@/log/%slog
pid_file_path = @DIR@/exim.pid
host_lookup =
rfc1413_hosts =
keep_environment =
queue_only
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  deny    !authenticated = *
          message = 5.7.1 Authentication required
  deny    condition = ${if eq{${lc:$sender_address}}\
            {${lookup{$authenticated_id}lsearch{@DIR@/owners}}}{no}{yes}}
          message = 5.7.1 Sender address <$sender_address> not owned \
            by user $authenticated_id
  deny    !domains = +local_domains
          message = 5.7.1 Relaying denied
  accept

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if eq{$auth3}\
    {${lookup{$auth2}lsearch{@DIR@/passwords}{$value}{*no such user*}}}}
  server_set_id = $auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if eq{$auth2}\
    {${lookup{$auth1}lsearch{@DIR@/passwords}{$value}{*no such user*}}}}
  server_set_id = $auth1
"""


class Exim(PrivateServer):
    NAME = "exim"
    PORTS = ("tls", "starttls", "tls12", "wronghost")

    def check(self):
        need(EXIM, "Exim (exim4-daemon-light)")
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
        write(self.path("passwd"),
              "root:x:0:0:root:/root:/bin/sh\n"
              f"Debian-exim:x:{uid}:{gid}:Exim:/nonexistent:/bin/false\n")
        write(self.path("group"), f"root:x:0:\nDebian-exim:x:{gid}:\n")
        for d in ("spool", "log"):
            os.mkdir(self.path(d), 0o750)
            os.chown(self.path(d), uid, gid)
        # The certificate and key, readable by the exim user.
        layout = self.pair.layout
        for src, dst in ((layout.cert("good"), "cert.pem"),
                         (layout.key("good"), "key.pem"),
                         (layout.cert("wronghost"), "wronghost.pem"),
                         (layout.key("wronghost"), "wronghost-key.pem")):
            shutil.copyfile(src, self.path(dst))
            os.chown(self.path(dst), uid, gid)
            os.chmod(self.path(dst), 0o600)
        users = simple_users()
        write(self.path("passwords"),
              "".join(f"{login}: {pw}\n" for _, login, _, pw in users),
              mode=0o600, uid=uid, gid=gid)
        write(self.path("owners"),
              "".join(f"{login}: {addr}\n" for _, login, addr, _ in users),
              mode=0o600, uid=uid, gid=gid)
        p = self.ports
        subst = {
            "@HOST@": mailservers.HOSTNAME, "@DOMAIN@": mailservers.DOMAIN,
            "@ADDR@": mailservers.ADDR, "@TLS@": str(p["tls"]),
            "@STARTTLS@": str(p["starttls"]), "@TLS12@": str(p["tls12"]),
            "@WRONGHOST@": str(p["wronghost"]),
            "@DIR@": self.dir,
        }
        conf = CONF
        for k, v in subst.items():
            conf = conf.replace(k, v)
        write(self.path("exim.conf"), conf)
        self.log_files += [self.path("log", "mainlog"),
                           self.path("log", "paniclog"),
                           self.path("log", "rejectlog")]
        return [EXIM, "-C", self.path("exim.conf"), "-bdf"]

    def queued_messages(self):
        """The header files of the messages in the spool, as text."""
        found = []
        for base, _, files in os.walk(self.path("spool", "input")):
            for name in sorted(files):
                if name.endswith("-H"):
                    with open(os.path.join(base, name), encoding="utf-8",
                              errors="replace") as f:
                        found.append(f.read())
        return found
