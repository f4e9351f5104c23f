# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted hostile mail server for the security and corpus tests.

A Peer listens on 127.0.0.1 (a free port), accepts one client and plays a
scenario byte by byte, recording every byte the client sent (after TLS
decryption, split into what came in plaintext and what came over TLS).

A scenario is a list of steps:
  ("send", data)             write exactly `data` in one send() call (TCP
                             segments follow the steps: TCP_NODELAY is on);
                             `data` may be a callable(peer) -> bytes, e.g. to
                             use the tag of the last command (peer.last_tag)
  ("expect", regex)          read client lines until one matches (bytes
                             regex, searched in the line without CRLF); the
                             match is peer.last_match, its first word
                             peer.last_tag; EOF or timeout fails the scenario
  ("starttls",)              wrap the socket in TLS now (server side)
  ("tls_start",)             the same, as the first step: implicit TLS
  ("read",)                  read whatever arrives next (at least one byte)
  ("close",)                 half-close, drain briefly, close
  ("reset",)                 close with an RST (SO_LINGER 0)
  ("sleep_forever",)         stop answering, keep reading until EOF
  ("drip", data, interval)   send `data` one byte at a time
  ("flood", total, chunk)    send `chunk` repeatedly, `total` bytes at most,
                             stopping as soon as the client goes away
  ("call", fn)               fn(peer): free-form server logic using the
                             same primitives (send, expect, read_line, ...)
When the steps run out the peer keeps reading (and recording) until the
client closes, then closes. Everything is bounded by `max_runtime`.
"""

import base64
import hashlib
import hmac
import os
import re
import socket
import ssl
import struct
import threading
import time


class ScenarioError(Exception):
    """The client did not do what the scenario waited for."""


class Peer:
    def __init__(self, steps, tls_context=None, max_runtime=30.0,
                 io_timeout=10.0, name="peer"):
        self.steps = list(steps)
        self.tls_context = tls_context
        self.max_runtime = max_runtime
        self.io_timeout = io_timeout
        self.name = name
        self.received_plain = bytearray()
        self.received_tls = bytearray()
        self.lines = []               # (tls, line) for every line read
        self.events = []              # what happened, for failure messages
        self.error = None             # why the scenario stopped early
        self.completed = False        # every step ran
        self.accepted = False
        self.client_address = None    # (host, port) the client came from
        self.last_match = None
        self.last_tag = b""
        self.played = []              # corpus stages whose reply was sent
        self.commands = []            # (tls, command word) seen by a server
        self.tls_active = False
        self.tls_version = None
        self.peer_closed = False      # the client closed its side
        self.bytes_sent = 0
        self._buf = bytearray()
        self._conn = None
        self._stop = threading.Event()
        self._deadline = None
        self._thread = None
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(4)
        self.port = self._lsock.getsockname()[1]

    # ---- lifecycle -----------------------------------------------------

    def start(self):
        self._deadline = time.monotonic() + self.max_runtime
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=self.name)
        self._thread.start()
        return self

    def stop(self, timeout=5.0):
        self._stop.set()
        conn = self._conn
        if conn is not None:
            # Wakes a recv() blocked in the scenario thread; the plain
            # socket method, so an SSL object is not torn down under it.
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout)
        self._close_quietly()
        try:
            self._lsock.close()
        except OSError:
            pass

    def wait(self, timeout=15.0):
        """Wait for the scenario thread to end; True when it did."""
        if self._thread:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def received(self):
        return bytes(self.received_plain) + bytes(self.received_tls)

    def describe(self):
        """A short account of the conversation for assertion messages."""
        shown = [f"{self.name}: error={self.error!r} completed="
                 f"{self.completed} sent={self.bytes_sent}"]
        shown += [f"  {e}" for e in self.events[-30:]]
        return "\n".join(shown)

    # ---- primitives (also for "call" steps) ---------------------------

    def _remaining(self):
        return self._deadline - time.monotonic()

    def _timeout(self, limit=None):
        t = min(self.io_timeout if limit is None else limit,
                self._remaining())
        if t <= 0 or self._stop.is_set():
            raise ScenarioError("peer ran out of time")
        return t

    def _note(self, what):
        self.events.append(what if len(what) < 300 else what[:300] + "...")

    def _record(self, data):
        if self.tls_active:
            self.received_tls += data
        else:
            self.received_plain += data

    def _recv(self, limit=None):
        """One recv(); b"" at EOF. Raises ScenarioError on timeout."""
        self._conn.settimeout(self._timeout(limit))
        try:
            data = self._conn.recv(65536)
        except socket.timeout:
            raise ScenarioError("timed out waiting for the client")
        except ssl.SSLError as e:
            self.peer_closed = True
            self._note(f"TLS error while reading: {e}")
            return b""
        except OSError as e:
            self.peer_closed = True
            self._note(f"read error: {e}")
            return b""
        if not data:
            self.peer_closed = True
        self._record(data)
        return data

    def send(self, data):
        if callable(data):
            data = data(self)
        self._conn.settimeout(self._timeout())
        try:
            self._conn.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise ScenarioError(f"send failed: {e}")
        self.bytes_sent += len(data)
        self._note(f"S: {bytes(data[:200])!r}")

    def read_line(self, limit=None):
        """The next line from the client without CRLF, or None at EOF."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl]).rstrip(b"\r")
                del self._buf[:nl + 1]
                self.lines.append((self.tls_active, line))
                self._note(f"C: {line[:200]!r}")
                return line
            if self.peer_closed:
                return None
            data = self._recv(limit)
            if not data:
                return None
            self._buf += data

    def expect(self, pattern, limit=None):
        rx = re.compile(pattern)
        while True:
            line = self.read_line(limit)
            if line is None:
                raise ScenarioError(f"client closed while waiting for "
                                    f"{pattern!r}")
            m = rx.search(line)
            if m:
                self.last_match = m
                self.last_tag = line.split(b" ", 1)[0]
                return m

    def read_some(self):
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            return data
        data = self._recv()
        if not data:
            raise ScenarioError("client closed before sending anything")
        self._note(f"C(raw): {len(data)} bytes")
        return data

    def starttls(self):
        if self.tls_context is None:
            raise ScenarioError("no TLS context for this peer")
        if self._buf:
            # The client sent plaintext after asking for TLS: keep it on
            # record but do not feed it to the handshake.
            self._note(f"plaintext before handshake: {bytes(self._buf)!r}")
            self._buf.clear()
        self._conn.settimeout(self._timeout())
        try:
            self._conn = self.tls_context.wrap_socket(
                self._conn, server_side=True, do_handshake_on_connect=False)
            self._conn.do_handshake()
        except (OSError, ssl.SSLError) as e:
            self.peer_closed = True
            raise ScenarioError(f"TLS handshake failed: {e}")
        self.tls_active = True
        self.tls_version = self._conn.version()
        self._note(f"TLS established: {self.tls_version}")

    def drain(self, limit=None):
        """Record what the client still sends until it closes."""
        while (self._conn is not None and not self.peer_closed
               and not self._stop.is_set()):
            try:
                data = self._recv(limit)
            except ScenarioError:
                return
            if not data:
                return
            self._buf += data
            self._note(f"C(drain): {bytes(data[:200])!r}")

    def close(self):
        if self._conn is None:
            return
        try:
            self._conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        # A close with unread input would send an RST, which can destroy
        # what we sent before the client reads it.
        self.drain(limit=2.0)
        self._close_quietly()

    def reset(self):
        if self._conn is None:
            return
        try:
            self._conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
        except OSError:
            pass
        self._close_quietly()

    def _close_quietly(self):
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def drip(self, data, interval):
        for i in range(len(data)):
            if self._stop.is_set() or self._remaining() <= 0:
                return
            try:
                self._conn.settimeout(self._timeout())
                self._conn.send(data[i:i + 1])
            except (OSError, ssl.SSLError) as e:
                self._note(f"drip stopped after {i} bytes: {e}")
                return
            self.bytes_sent += 1
            # Anything the client says meanwhile is recorded, unanswered.
            if self._poll_input(interval):
                return

    def flood(self, total, chunk):
        sent = 0
        while sent < total and not self._stop.is_set():
            try:
                self._conn.settimeout(self._timeout(5.0))
                n = self._conn.send(chunk[:total - sent])
            except (OSError, ssl.SSLError, ScenarioError) as e:
                self._note(f"flood stopped after {sent} bytes: {e}")
                break
            sent += n
            self.bytes_sent += n
        self._note(f"flooded {sent} bytes")

    def _poll_input(self, wait):
        """Wait up to `wait` seconds, recording client input; True at
        EOF."""
        self._conn.settimeout(max(wait, 0.001))
        try:
            data = self._conn.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except (OSError, ssl.SSLError):
            self.peer_closed = True
            return True
        if not data:
            self.peer_closed = True
            return True
        self._record(data)
        self._buf += data
        return False

    # ---- the scenario thread ------------------------------------------

    def _run(self):
        try:
            # Short accept() waits, so that stop() is seen promptly.
            while True:
                self._lsock.settimeout(min(0.1, self._timeout()))
                try:
                    conn, self.client_address = self._lsock.accept()
                    break
                except socket.timeout:
                    continue
                except OSError:
                    raise ScenarioError("no client connected")
            self.accepted = True
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
            for step in self.steps:
                if self._stop.is_set():
                    raise ScenarioError("stopped")
                self._step(step)
            self.completed = True
            self.drain()
        except ScenarioError as e:
            self.error = str(e)
            self._note(f"scenario stopped: {e}")
            if self._conn is not None and not self.peer_closed:
                self.drain(limit=2.0)
        except Exception as e:  # a bug in a scenario must not hang a test
            self.error = f"{type(e).__name__}: {e}"
            self._note(f"scenario crashed: {self.error}")
        finally:
            self._close_quietly()
            try:
                self._lsock.close()
            except OSError:
                pass

    def _step(self, step):
        kind = step[0]
        if kind == "send":
            self.send(step[1])
        elif kind == "expect":
            self.expect(step[1])
        elif kind in ("starttls", "tls_start"):
            self.starttls()
        elif kind == "read":
            self.read_some()
        elif kind == "close":
            self.close()
        elif kind == "reset":
            self.reset()
        elif kind == "sleep_forever":
            self.drain(limit=self._remaining())
        elif kind == "drip":
            self.drip(step[1], step[2])
        elif kind == "flood":
            self.flood(step[1], step[2])
        elif kind == "call":
            step[1](self)
        else:
            raise ValueError(f"unknown step {kind!r}")


# ---- reactive conversations for "call" steps --------------------------
#
# They answer whatever command the client sends, so a test does not depend
# on the client's choice of LOGIN or AUTHENTICATE, on pipelining, or on
# whether it asks for CAPABILITY when the greeting already listed them.
# `replies` maps a corpus stage name to the bytes (or a callable(peer) ->
# bytes) sent instead of the default answer; IMAP replies may use the tag
# "A1", which is rewritten to the tag the client really used.

class ScramServer:
    """Server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) for one password.
    It never checks a channel binding: -PLUS is refused before it gets
    here, as Cyrus (tls-unique only) and GNU imap4d (none) do."""

    def __init__(self, password, iterations=4096):
        self.salt = os.urandom(16)
        self.iterations = iterations
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt,
                                     iterations)
        self.stored_key = hashlib.sha256(
            hmac.new(salted, b"Client Key", "sha256").digest()).digest()
        self.server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self.gs2_headers = []    # every client-first's GS2 header, in order

    def first(self, client_first):
        """server-first for a decoded client-first."""
        gs2, _, bare = client_first.partition(b",,")
        self.gs2 = gs2 + b",,"
        self.gs2_headers.append(self.gs2)
        self.bare = bare[bare.index(b"n="):]
        cnonce = dict(a.split(b"=", 1) for a in self.bare.split(b","))[b"r"]
        self.nonce = cnonce + base64.b64encode(os.urandom(12))
        self.server_first = (b"r=" + self.nonce + b",s=" +
                             base64.b64encode(self.salt) +
                             b",i=" + str(self.iterations).encode())
        return self.server_first

    def final(self, client_final):
        """server-final (v=...) when the proof holds, else None."""
        without, _, proof = client_final.rpartition(b",p=")
        attrs = dict(a.split(b"=", 1) for a in without.split(b","))
        if attrs.get(b"c") != base64.b64encode(self.gs2) or \
                attrs.get(b"r") != self.nonce:
            return None
        auth = self.bare + b"," + self.server_first + b"," + without
        signature = hmac.new(self.stored_key, auth, "sha256").digest()
        key = bytes(a ^ b for a, b in zip(base64.b64decode(proof),
                                          signature))
        if hashlib.sha256(key).digest() != self.stored_key:
            return None
        return b"v=" + base64.b64encode(
            hmac.new(self.server_key, auth, "sha256").digest())


IMAP_CAPS = b"IMAP4rev1 LITERAL+ ID"


def retag(data, tag):
    """Replace the corpus tag A1 at the start of any line by `tag`."""
    return re.sub(rb"(?m)^A1(?= )", lambda m: tag, data)


def _reply(peer, replies, stage, default):
    r = replies.get(stage, default)
    if callable(r):
        r = r(peer)
    if stage in replies:
        peer.played.append(stage)
    return retag(r, peer.last_tag)


def imap_serve(replies=None, caps=IMAP_CAPS, starttls=False,
               greeting=b"* OK peer IMAP4rev1 ready\r\n", after=None,
               scram=None, refuse_plus=None):
    """A well-behaved IMAP server but for the stages in `replies`.
    `greeting` None: start after a STARTTLS handshake, without one.
    `starttls`: offer STARTTLS before TLS and do the handshake when asked.
    `after(peer, stage)` runs after each reply (e.g. to close).
    `scram`: a ScramServer that runs AUTHENTICATE SCRAM-SHA-256;
    `refuse_plus`: the tagged reply text to AUTHENTICATE SCRAM-SHA-256-PLUS."""
    replies = dict(replies or {})

    def run(peer):
        peer.last_tag = b"*"
        if greeting is not None:
            peer.send(_reply(peer, replies, "greeting", greeting))
        while True:
            line = peer.read_line()
            if line is None:
                return
            parts = line.split(b" ", 2)
            tag = parts[0]
            cmd = parts[1].upper() if len(parts) > 1 else b""
            peer.last_tag = tag
            peer.commands.append((peer.tls_active, cmd))
            ok = tag + b" OK done\r\n"
            if cmd == b"CAPABILITY":
                c = caps
                if starttls and not peer.tls_active:
                    c += b" STARTTLS LOGINDISABLED"
                stage = "capability"
                out = _reply(peer, replies, stage,
                             b"* CAPABILITY " + c + b"\r\n" + ok)
            elif cmd == b"STARTTLS":
                stage = "starttls"
                out = _reply(peer, replies, stage,
                             tag + b" OK Begin TLS negotiation now\r\n")
                peer.send(out)
                if re.match(rb"\S+ OK", out):
                    peer.starttls()
                if after:
                    after(peer, stage)
                continue
            elif cmd == b"AUTHENTICATE" and refuse_plus is not None and \
                    line.split(b" ")[2].upper() == b"SCRAM-SHA-256-PLUS":
                stage, out = "authenticate", tag + b" " + refuse_plus + b"\r\n"
            elif cmd == b"AUTHENTICATE" and scram is not None and \
                    line.split(b" ")[2].upper() == b"SCRAM-SHA-256":
                words = line.split(b" ")
                if len(words) == 4:
                    first = words[3]
                else:
                    peer.send(b"+ \r\n")
                    first = peer.read_line()
                    if first is None:
                        return
                peer.send(b"+ " + base64.b64encode(
                    scram.first(base64.b64decode(first))) + b"\r\n")
                resp = peer.read_line()
                if resp is None:
                    return
                final = scram.final(base64.b64decode(resp))
                stage = "authenticate"
                if final is None:
                    out = tag + b" NO AUTHENTICATE SCRAM-SHA-256 " \
                        b"authentication failed\r\n"
                else:
                    peer.send(b"+ " + base64.b64encode(final) + b"\r\n")
                    if peer.read_line() is None:
                        return
                    out = tag + b" OK logged in\r\n"
            elif cmd in (b"LOGIN", b"AUTHENTICATE"):
                words = line.split(b" ")
                if cmd == b"AUTHENTICATE" and len(words) == 3:
                    # No initial response: ask for it (PLAIN), or for the
                    # user and the password in turn (LOGIN).
                    prompts = [b"+ \r\n"]
                    if words[2].upper() == b"LOGIN":
                        prompts = [b"+ VXNlcm5hbWU6\r\n",
                                   b"+ UGFzc3dvcmQ6\r\n"]
                    cancelled = False
                    for prompt in prompts:
                        peer.send(prompt)
                        resp = peer.read_line()
                        if resp is None:
                            return
                        if resp == b"*":
                            peer.send(tag + b" BAD cancelled\r\n")
                            cancelled = True
                            break
                    if cancelled:
                        continue
                stage = "login"
                if "authenticate" in replies and "login" not in replies:
                    stage = "authenticate"
                out = _reply(peer, replies, stage,
                             tag + b" OK logged in\r\n")
            elif cmd in (b"EXAMINE", b"SELECT"):
                stage = "select"
                out = _reply(peer, replies, stage,
                             b"* 0 EXISTS\r\n* 0 RECENT\r\n"
                             b"* FLAGS (\\Seen)\r\n" + tag +
                             b" OK [READ-ONLY] done\r\n")
            elif cmd == b"LOGOUT":
                peer.send(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                peer.close()
                return
            elif cmd == b"NOOP":
                stage, out = "noop", ok
            else:
                stage, out = "other", tag + b" BAD unknown command\r\n"
            peer.send(out)
            if after:
                after(peer, stage)
    return run


SMTP_EHLO = (b"250-peer.example.com hello\r\n250-AUTH PLAIN LOGIN\r\n"
             b"250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
SMTP_EHLO_STARTTLS = (b"250-peer.example.com hello\r\n250-STARTTLS\r\n"
                      b"250 ENHANCEDSTATUSCODES\r\n")


def smtp_serve(replies=None, ehlo=SMTP_EHLO, starttls=False,
               greeting=b"220 peer.example.com ESMTP ready\r\n", after=None,
               scram=None, refuse_plus=None):
    """A well-behaved SMTP submission server but for `replies`.
    `starttls`: answer the first EHLO with SMTP_EHLO_STARTTLS (or the
    "capability" reply) and upgrade when asked; `ehlo` is the answer once
    TLS is on. `scram` and `refuse_plus` as for imap_serve (refuse_plus
    is a whole reply line here)."""
    replies = dict(replies or {})

    def run(peer):
        if greeting is not None:
            peer.send(_reply(peer, replies, "greeting", greeting))
        while True:
            line = peer.read_line()
            if line is None:
                return
            word = line.split(b" ", 1)[0].upper()
            peer.commands.append((peer.tls_active, word))
            if word in (b"EHLO", b"HELO"):
                stage = "capability"
                if starttls and not peer.tls_active:
                    out = _reply(peer, replies, stage, SMTP_EHLO_STARTTLS)
                elif starttls and "capability" in replies:
                    out = ehlo  # the corpus reply was the plaintext one
                else:
                    out = _reply(peer, replies, stage, ehlo)
            elif word == b"STARTTLS":
                stage = "starttls"
                out = _reply(peer, replies, stage, b"220 2.0.0 go ahead\r\n")
                peer.send(out)
                if out.startswith(b"220 "):
                    peer.starttls()
                if after:
                    after(peer, stage)
                continue
            elif word == b"AUTH" and refuse_plus is not None and \
                    line.split(b" ")[1].upper() == b"SCRAM-SHA-256-PLUS":
                stage, out = "authenticate", refuse_plus + b"\r\n"
            elif word == b"AUTH" and scram is not None and \
                    line.split(b" ")[1].upper() == b"SCRAM-SHA-256":
                words = line.split(b" ")
                first = words[2] if len(words) > 2 else None
                if first is None:
                    peer.send(b"334 \r\n")
                    first = peer.read_line()
                    if first is None:
                        return
                peer.send(b"334 " + base64.b64encode(
                    scram.first(base64.b64decode(first))) + b"\r\n")
                resp = peer.read_line()
                if resp is None:
                    return
                final = scram.final(base64.b64decode(resp))
                stage = "authenticate"
                if final is None:
                    out = b"535 5.7.8 Error: authentication failed\r\n"
                else:
                    peer.send(b"334 " + base64.b64encode(final) + b"\r\n")
                    if peer.read_line() is None:
                        return
                    out = b"235 2.7.0 Authentication successful\r\n"
            elif word == b"AUTH":
                words = line.split(b" ")
                mech = words[1].upper() if len(words) > 1 else b""
                prompts = []
                if mech == b"PLAIN" and len(words) == 2:
                    prompts = [b"334 \r\n"]
                elif mech == b"LOGIN":
                    prompts = ([b"334 VXNlcm5hbWU6\r\n"] if len(words) == 2
                               else []) + [b"334 UGFzc3dvcmQ6\r\n"]
                cancelled = False
                for prompt in prompts:
                    peer.send(prompt)
                    resp = peer.read_line()
                    if resp is None:
                        return
                    if resp == b"*":
                        peer.send(b"501 5.7.0 cancelled\r\n")
                        cancelled = True
                        break
                if cancelled:
                    continue
                stage = "authenticate"
                out = _reply(peer, replies, stage,
                             b"235 2.7.0 Authentication successful\r\n")
            elif word == b"MAIL":
                stage = "mail_from"
                out = _reply(peer, replies, stage, b"250 2.1.0 Ok\r\n")
            elif word == b"RCPT":
                stage = "rcpt_to"
                out = _reply(peer, replies, stage, b"250 2.1.5 Ok\r\n")
            elif word == b"DATA":
                stage = "data"
                out = _reply(peer, replies, stage,
                             b"354 End data with <CR><LF>.<CR><LF>\r\n")
                peer.send(out)
                if after:
                    after(peer, stage)
                if not out.startswith(b"354"):
                    continue
                while True:
                    body = peer.read_line()
                    if body is None:
                        return
                    if body == b".":
                        break
                stage = "end_of_data"
                out = _reply(peer, replies, stage,
                             b"250 2.0.0 Ok: queued as 1234\r\n")
            elif word == b"QUIT":
                peer.send(b"221 2.0.0 Bye\r\n")
                peer.close()
                return
            elif word in (b"RSET", b"NOOP"):
                stage, out = "other", b"250 2.0.0 Ok\r\n"
            else:
                stage, out = "other", b"500 5.5.2 unknown command\r\n"
            peer.send(out)
            if after:
                after(peer, stage)
    return run
