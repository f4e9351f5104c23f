# SPDX-License-Identifier: LGPL-2.1-or-later
"""Latency-injecting TCP proxy for loopback benchmarks (asyncio, stdlib).

Every byte is delayed by D seconds one way, in each direction, in order.
A user-space proxy completes the client's TCP handshake at once, so the
SYN/SYN-ACK round trip would be lost; the proxy puts it back: the client's
first bytes leave no earlier than 2*D after accept (as if connect() had
returned after one round trip), and the proxy connects to the server only
3*D after accept (when the client's ACK would have reached it), so the
server's greeting and start-up work begin when they would on a real link.
A connection thus costs the same round trips as on a link with a one-way
delay of D.

As a program:  latency_proxy.py --delay-ms 25 LISTEN_PORT:HOST:PORT ...
(LISTEN_PORT 0 picks a free port; the chosen ports are printed.)
"""

import argparse
import asyncio
import collections
import socket
import sys
import time


def _nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Pipe:
    """One direction of one connection: timed delivery in FIFO order."""

    def __init__(self, loop, writer, delay, gate):
        self.loop = loop
        self.writer = writer        # may be set later, before run()
        self.delay = delay
        self.gate = gate            # loop time before which nothing leaves
        self.queue = collections.deque()
        self.wakeup = asyncio.Event()
        self.task = None

    def push(self, data):
        when = max(self.loop.time(), self.gate) + self.delay
        self.queue.append((when, data))
        self.wakeup.set()

    async def run(self):
        try:
            while True:
                while not self.queue:
                    self.wakeup.clear()
                    await self.wakeup.wait()
                when, data = self.queue.popleft()
                wait = when - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                    return
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            return


class LatencyProxy:
    """Forward listen ports to targets with a one-way delay.

    routes: list of (listen_port, target_host, target_port); listen_port 0
    picks a free port. After start(), self.ports maps each route index to
    its listening port.
    """

    def __init__(self, routes, delay_ms=25.0, host="127.0.0.1",
                 tcp_handshake=True, trace=None):
        self.routes = routes
        self.delay = delay_ms / 1000.0
        self.host = host
        self.tcp_handshake = tcp_handshake
        self.ports = []
        self.connections = 0
        self.trace = trace          # file for a per-chunk timing log
        self._servers = []

    async def start(self):
        for listen_port, thost, tport in self.routes:
            server = await asyncio.start_server(
                lambda r, w, t=(thost, tport): self._handle(r, w, t),
                self.host, listen_port, backlog=1024)
            self._servers.append(server)
            self.ports.append(server.sockets[0].getsockname()[1])
        return self

    async def close(self):
        for s in self._servers:
            s.close()
            await s.wait_closed()

    async def _handle(self, creader, cwriter, target):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        self.connections += 1
        conn_id = self.connections
        _nodelay(cwriter)
        d = self.delay
        # The client's bytes are read (and time-stamped) at once; they wait
        # in `up` until the upstream connection exists.
        up = _Pipe(loop, None, d, t0 + 2 * d if self.tcp_handshake else 0)
        client_done = asyncio.ensure_future(
            self._pump(creader, up, conn_id, t0, "C>S"))
        # The real server would accept when the client's ACK arrives, 1.5
        # round trips after the SYN: its greeting and any start-up work
        # (Postfix spawning smtpd) begin then, not earlier.
        if self.tcp_handshake:
            await asyncio.sleep(3 * d)
        try:
            sreader, swriter = await asyncio.open_connection(*target)
        except OSError:
            client_done.cancel()
            cwriter.close()
            return
        _nodelay(swriter)
        up.writer = swriter
        down = _Pipe(loop, cwriter, d, 0)
        up.task = asyncio.ensure_future(up.run())
        down.task = asyncio.ensure_future(down.run())
        await asyncio.gather(client_done,
                             self._pump(sreader, down, conn_id, t0, "S>C"))
        await asyncio.gather(up.task, down.task, return_exceptions=True)
        for w in (cwriter, swriter):
            w.close()

    async def _pump(self, reader, pipe, conn_id, t0, arrow):
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if self.trace:
                    now = loop.time()
                    print(f"{conn_id} {(now - t0) * 1000:8.1f} "
                          f"{now * 1000 % 100000:10.1f} {arrow} "
                          f"{len(data):5d} {data[:40]!r}",
                          file=self.trace, flush=True)
                pipe.push(data)
        except (ConnectionError, OSError):
            pass
        pipe.push(None)


def calibrate(port, rounds=20, host="127.0.0.1"):
    """Mean round-trip time through a proxy route to an echo server.

    Measures what one protocol round trip really costs through the proxy
    (its timer overshoot included), to convert wall time into round trips.
    """
    with socket.create_connection((host, port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"x")
        s.recv(1)                   # pays the emulated TCP handshake
        times = []
        for _ in range(rounds):
            t = time.monotonic()
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise RuntimeError("echo server misbehaved")
            times.append(time.monotonic() - t)
    times.sort()
    return times[len(times) // 2]


async def echo_server(host="127.0.0.1"):
    """A tiny echo server for calibrate(); returns (server, port)."""
    async def handle(r, w):
        try:
            while True:
                data = await r.read(65536)
                if not data:
                    break
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        w.close()
    server = await asyncio.start_server(handle, host, 0)
    return server, server.sockets[0].getsockname()[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delay-ms", type=float, default=25.0)
    ap.add_argument("--no-tcp-handshake", action="store_true",
                    help="do not emulate the SYN/SYN-ACK round trip")
    ap.add_argument("--trace", action="store_true",
                    help="log every chunk (connection, ms since accept, "
                    "direction, size) to stderr")
    ap.add_argument("route", nargs="+",
                    help="LISTEN_PORT:HOST:PORT; HOST 'echo' is a built-in "
                    "echo server (for calibrate())")
    args = ap.parse_args(argv)

    async def run():
        routes = []
        echo_port = None
        for r in args.route:
            lp, host, port = r.split(":")
            if host == "echo":
                if echo_port is None:
                    _, echo_port = await echo_server()
                host, port = "127.0.0.1", echo_port
            routes.append((int(lp), host, int(port)))
        proxy = await LatencyProxy(routes, args.delay_ms,
                                   tcp_handshake=not args.no_tcp_handshake,
                                   trace=sys.stderr if args.trace else None
                                   ).start()
        for (lp, host, port), p in zip(routes, proxy.ports):
            print(f"127.0.0.1:{p} -> {host}:{port}", flush=True)
        await asyncio.Event().wait()
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
