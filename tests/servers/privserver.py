# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers for the servers that run from a private root: Cyrus IMAP,
Exim and GNU imap4d (exim.py, cyrus.py, imap4d.py).

Debian packages these so that they conflict with dovecot-imapd and postfix,
so tools/install-deps.sh unpacks them with dpkg -x into SERVER_ROOT
($MAILCONN_TEST_SERVER_ROOT, default /opt/mailconn-test-servers) and
installs only their libraries. Each server runs in the foreground as a
child of the test process (its own session, SIGKILLed should the test
process die), from its own configuration in a directory inside the pair's
(so the pair's watchdog removes it too), on
ports picked at run time; nothing in /etc is read or changed. Certificates
come from a running mailservers.MailServers pair, so one CA serves all.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time

import mailservers
from mailservers import (MailServersError, MailServersUnavailable,
                         _listening, _pick_ports, _tail, _wait_for)

SERVER_ROOT = mailservers.PRIVATE_SERVER_ROOT
LIBDIRS = [os.path.join(SERVER_ROOT, "usr/lib/x86_64-linux-gnu"),
           os.path.join(SERVER_ROOT, "usr/lib")]
STOP_TIMEOUT = 10.0

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child between fork and exec.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def need(path, what):
    """Raise MailServersUnavailable unless path exists."""
    if not os.path.exists(path):
        raise MailServersUnavailable(
            f"{what} not found at {path} (run tools/install-deps.sh as root, "
            "which unpacks Cyrus, Exim and imap4d there)")


class PrivateServer:
    """One foreground server process in its own temporary directory.

    Subclasses set NAME and implement configure(ports) -> argv, and
    may set EXTRA_ENV. start() picks len(PORTS) ports, writes the
    configuration, runs the server, waits until every port listens and
    returns self; env holds MAILCONN_TEST_<NAME>_<PORT> variables.
    stop() ends the process group and removes the directory.
    """

    NAME = "server"
    PORTS = ()
    START_TIMEOUT = 30.0

    def __init__(self, pair):
        self.pair = pair                # a started mailservers.MailServers
        self.dir = None
        self.proc = None
        self.ports = {}
        self.env = {}
        self.log_files = []

    # -- to be provided by subclasses

    def check(self):
        """Raise MailServersUnavailable when this server cannot run here."""

    def configure(self):
        raise NotImplementedError

    def child_env(self):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
               "LD_LIBRARY_PATH": ":".join(LIBDIRS)}
        return env

    # -- common

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self):
        if os.geteuid() != 0:
            raise MailServersUnavailable(f"{self.NAME} needs root")
        self.check()
        # Another process may take a picked port before the server binds
        # it: then the server exits, and one more try picks new ports.
        for attempt in (1, 2):
            # Inside the pair's directory: should this process die without
            # stopping anything, the pair's watchdog ends the server and
            # removes the directory with the rest.
            self.dir = tempfile.mkdtemp(prefix=self.NAME + "-",
                                        dir=self.pair.dir)
            os.chmod(self.dir, 0o755)
            self.log_files = []
            try:
                self._start_once()
                return self
            except MailServersUnavailable:
                self.stop()
                raise
            except MailServersError as e:
                self.stop()
                if attempt == 2:
                    raise
                mailservers._log(f"{self.NAME} did not start, trying again "
                                 f"on other ports: {str(e).splitlines()[0]}")
            except BaseException:
                self.stop()
                raise
        return self

    def _start_once(self):
        ports = _pick_ports(len(self.PORTS))
        self.ports = dict(zip(self.PORTS, ports))
        argv = self.configure()
        out = open(self.path("start.out"), "wb")
        self.log_files.insert(0, self.path("start.out"))
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.dir,
                env=self.child_env(), start_new_session=True,
                preexec_fn=_die_with_parent)
        finally:
            out.close()
        want = {(mailservers.ADDR, p) for p in ports}
        ok = _wait_for(lambda: self.proc.poll() is not None
                       or want <= _listening() or self._port_taken(),
                       self.START_TIMEOUT)
        if self._port_taken():
            raise MailServersError(f"{self.NAME}: a port was taken before "
                                   f"it could bind it\n{self.log_tails()}")
        if self.proc.poll() is not None:
            raise MailServersError(
                f"{self.NAME} exited with status {self.proc.returncode} "
                f"while starting\n{self.log_tails()}")
        if not ok:
            raise MailServersError(
                f"{self.NAME} did not listen on {sorted(want)} within "
                f"{self.START_TIMEOUT} s\n{self.log_tails()}")
        prefix = "MAILCONN_TEST_" + self.NAME.upper() + "_"
        self.env = {prefix + k.upper() + "_PORT": str(v)
                    for k, v in self.ports.items()}

    def _port_taken(self):
        # Exim keeps retrying a bind that fails; the others exit.
        for path in self.log_files:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    if "Address already in use" in f.read():
                        return True
            except OSError:
                pass
        return False

    def log_tails(self, lines=25):
        return "".join(_tail(p, lines) for p in self.log_files)

    def stop(self):
        """Stop the process group and remove the directory. Idempotent."""
        if self.proc is not None:
            pgid = self.proc.pid        # its own session: pgid == pid
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    continue
                # The leader is gone; its children may still be exiting.
                if _wait_for(lambda: not _group_alive(pgid), 3.0):
                    break
            self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Zombies (not yet reaped by init) count as gone.
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def write(path, text, mode=0o644, uid=None, gid=None):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    if uid is not None:
        os.chown(path, uid, gid if gid is not None else -1)


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0
