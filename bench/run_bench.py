# SPDX-License-Identifier: LGPL-2.1-or-later
"""libmailconn benchmark: round trips, wall time, CPU, memory, descriptors.

Runs everything in one go and prints one table (also written as Markdown):

  latency  the five stages against real Dovecot + Postfix behind a proxy
           that delays each direction by D ms (bench/latency_proxy.py):
           libmailconn (sequential and --overlap), Python imaplib+smtplib,
           the curl CLI; implicit TLS and STARTTLS.
  bulk     N verifications in flight at once in one process against
           bench/bench-server.c (GnuTLS, scripted IMAP+SMTP): libmailconn,
           bare GnuTLS handshakes (the CPU floor), libcurl multi, Python
           threads.

Settings (environment):
  MAILCONN_BENCH_DELAY_MS   one-way delay of the proxy (25)
  MAILCONN_BENCH_REPS       latency repetitions; medians are reported (5)
  MAILCONN_BENCH_N          bulk sizes for the C clients (100,1000,10000)
  MAILCONN_BENCH_PY_N       bulk sizes for Python threads (100,1000)
  MAILCONN_BENCH_SCRAM_N    bulk sizes with SCRAM offered (1000)
  MAILCONN_BENCH_BULK_REPS  repetitions for N <= 1000 (3)
  MAILCONN_BENCH_BIG_REPS   repetitions for N > 1000 (1)
  MAILCONN_BENCH_ONLY       "latency" or "bulk" to run one part only
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
USER = "alice@bench.test"
BCC = "bob@bench.test"
BULK_PASSWORD = "bench-secret"


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_list(name, default):
    text = os.environ.get(name, default).strip()
    return [int(x) for x in text.split(",") if x.strip()]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- processes


BENCH_RUN = None        # path of bench-run (set in main)


def run_measured(argv, env=None, timeout=600):
    """Run argv; return (status, stdout, stderr, wall_s, cpu_s, maxrss_kb).

    bench-run (a small C parent) does the fork, exec and wait4, so the
    child's CPU and peak RSS are its own: Linux would charge a Python
    parent's pre-exec memory to the child's ru_maxrss.
    """
    t0 = time.monotonic()
    p = subprocess.Popen([BENCH_RUN] + list(argv), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    wall = time.monotonic() - t0
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    m = re.search(r"\n@@bench-run (\{.*\})\n?$", err)
    if not m:
        return p.returncode, out, err, wall, None, None
    r = json.loads(m.group(1))
    err = err[:m.start()]
    return r["status"], out, err, r["wall_s"], r["cpu_s"], r["maxrss_kb"]


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON in output: {text[-500:]!r}")


class Proxy:
    """latency_proxy.py in its own process (its CPU is not ours)."""

    def __init__(self, delay_ms, targets):
        routes = [f"0:{h}:{p}" for h, p in targets]
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "latency_proxy.py"),
             "--delay-ms", str(delay_ms)] + routes,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.ports = []
        for _ in routes:
            line = self.proc.stdout.readline()
            m = re.match(r"127\.0\.0\.1:(\d+) ->", line)
            if not m:
                self.close()
                raise RuntimeError(f"proxy did not start: {line!r}")
            self.ports.append(int(m.group(1)))

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- floors


def auth_rt(mech):
    """Round trips of one login, as Dovecot and Postfix run it."""
    mech = (mech or "").upper()
    if mech.startswith("SCRAM"):
        return 3        # client-first, client-final, empty reply to v=
    return 1            # IMAP LOGIN, AUTHENTICATE/AUTH PLAIN with an IR


def floor_rt(security, overlap, imap_mech="PLAIN", smtp_mech="PLAIN"):
    """The fewest round trips a client that waits for every verdict can
    take (see bench/README.md): fire-and-forget LOGOUT and QUIT, the
    greeting's capabilities, SASL initial responses and PIPELINING used."""
    if security == "tls":
        imap = 3 + auth_rt(imap_mech) + 1          # TCP TLS greeting; EXAMINE
        smtp_login = 4 + auth_rt(smtp_mech)        # TCP TLS greeting EHLO
    else:
        imap = 5 + auth_rt(imap_mech) + 1          # + STARTTLS, CAPABILITY
        smtp_login = 6 + auth_rt(smtp_mech)        # + STARTTLS, EHLO again
    send = 2                    # MAIL+RCPT+DATA pipelined; end of data
    if overlap:
        return max(imap, smtp_login) + send
    return imap + smtp_login + send


# ---------------------------------------------------------------- latency


def tool_versions():
    v = {}
    try:
        v["curl"] = subprocess.run(["curl", "--version"], capture_output=True,
                                   text=True).stdout.splitlines()[0]
    except OSError:
        v["curl"] = None
    v["python"] = platform.python_version()
    return v


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gnutls = "?"
    try:
        gnutls = subprocess.run(["pkg-config", "--modversion", "gnutls"],
                                capture_output=True, text=True
                                ).stdout.strip() or "?"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model,
            "kernel": platform.release(), "gnutls": gnutls}


_VERB = re.compile(r"^(\S+ )?(CAPABILITY|STARTTLS|AUTHENTICATE|LOGIN|"
                   r"EXAMINE|SELECT|LOGOUT|EHLO|HELO|AUTH|MAIL|RCPT|DATA|"
                   r"QUIT|NOOP|RSET)\b", re.I)


def _redact(cmds):
    """Command names only: credentials (initial responses, SASL lines)
    never reach the report."""
    out = []
    for c in cmds:
        m = _VERB.match(c)
        if not m:
            out.append("[SASL response]")
        elif m.group(2).upper() in ("AUTHENTICATE", "AUTH", "LOGIN"):
            words = c.split()
            keep = 3 if m.group(1) else 2
            out.append(" ".join(words[:keep]) +
                       (" [credentials]" if len(words) > keep else ""))
        else:
            out.append(c)
    return out


class LatencyBench:
    def __init__(self, args, servers_env, delay_ms, reps):
        self.args = args
        self.env = servers_env
        self.delay_ms = delay_ms
        self.reps = reps
        self.tmp = tempfile.mkdtemp(prefix="mailconn-bench-")
        self.msg_file = os.path.join(self.tmp, "message.eml")
        with open(self.msg_file, "w", encoding="utf-8") as f:
            f.write(f"From: <{servers_env['MAILCONN_TEST_USER']}>\r\n"
                    f"To: <{servers_env['MAILCONN_TEST_BCC']}>\r\n"
                    "Subject: libmailconn benchmark test message\r\n"
                    "Message-ID: <bench-curl@bench.test>\r\n\r\n"
                    "This is a test message sent while checking the "
                    "mailbox settings.\r\nIt can be deleted.\r\n")
        self.child_env = dict(os.environ)
        self.child_env["BENCH_PASSWORD"] = servers_env["MAILCONN_TEST_PASSWORD"]
        self.curl_ok = shutil.which("curl") is not None

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # Each client: name -> function(ports for this security, security,
    # overlap flag) returning a dict with wall, cpu, rss, and details.

    def _mailconn(self, imap_port, smtp_port, security, overlap):
        e = self.env
        if self.args.mailconn_check:
            argv = [self.args.mailconn_check, "--json",
                    "--email", e["MAILCONN_TEST_USER"],
                    "--imap-host", "localhost", "--imap-port", str(imap_port),
                    "--imap-security", security,
                    "--smtp-host", "localhost", "--smtp-port", str(smtp_port),
                    "--smtp-security", security,
                    "--bcc", e["MAILCONN_TEST_BCC"],
                    "--ca-file", e["MAILCONN_TEST_CA_FILE"],
                    "--password-env", "BENCH_PASSWORD",
                    "--resolve", f"localhost:{imap_port}:127.0.0.1",
                    "--resolve", f"localhost:{smtp_port}:127.0.0.1"]
            if overlap:
                argv.append("--overlap")
        else:
            argv = [self.args.mailconn_bench, "verify", "--n", "1",
                    "--imap-port", str(imap_port),
                    "--smtp-port", str(smtp_port),
                    "--ca-file", e["MAILCONN_TEST_CA_FILE"],
                    "--user", e["MAILCONN_TEST_USER"],
                    "--password-env", "BENCH_PASSWORD",
                    "--bcc", e["MAILCONN_TEST_BCC"]]
            if overlap:
                argv.append("--overlap")
            if security == "starttls":
                argv.append("--starttls")
        st, out, err, wall, cpu, rss = run_measured(argv, self.child_env)
        if st != 0:
            raise RuntimeError(f"libmailconn failed ({st}): {out}{err}")
        r = {"wall": wall, "cpu": cpu, "rss": rss}
        j = last_json(out)
        if "stages" in j:
            r["stage_ms"] = [s["ms"] for s in j["stages"]]
            r["imap_mech"] = j["stages"][1]["mechanism"]
            r["smtp_mech"] = j["stages"][3]["mechanism"]
        else:
            r["imap_mech"], r["smtp_mech"] = j["imap_mech"], j["smtp_mech"]
        return r

    def _python(self, imap_port, smtp_port, security, overlap):
        e = self.env
        argv = [sys.executable, os.path.join(HERE, "py_verify.py"), "single",
                "--imap-port", str(imap_port), "--smtp-port", str(smtp_port),
                "--security", security,
                "--ca-file", e["MAILCONN_TEST_CA_FILE"],
                "--user", e["MAILCONN_TEST_USER"],
                "--password-env", "BENCH_PASSWORD",
                "--bcc", e["MAILCONN_TEST_BCC"]]
        st, out, err, wall, cpu, rss = run_measured(argv, self.child_env)
        if st != 0:
            raise RuntimeError(f"python failed ({st}): {out}{err}")
        j = last_json(out)
        return {"wall": wall, "cpu": cpu, "rss": rss,
                "imap_mech": j["imap_mech"], "smtp_mech": j["smtp_mech"],
                "imap_s": j["imap_s"], "smtp_s": j["smtp_s"]}

    def _curl_argv(self, proto, port, security, verbose=False):
        e = self.env
        common = ["curl", "-sS", "--cacert", e["MAILCONN_TEST_CA_FILE"],
                  "--resolve", f"localhost:{port}:127.0.0.1",
                  "-u", f"{e['MAILCONN_TEST_USER']}:"
                        f"{e['MAILCONN_TEST_PASSWORD']}",
                  "--max-time", "60"]
        if verbose:
            common.append("-v")
        if security == "starttls":
            common.append("--ssl-reqd")
        if proto == "imap":
            scheme = "imaps" if security == "tls" else "imap"
            return common + ["--url", f"{scheme}://localhost:{port}/",
                             "-X", "EXAMINE INBOX", "-o", os.devnull]
        scheme = "smtps" if security == "tls" else "smtp"
        return common + ["--url", f"{scheme}://localhost:{port}/localhost",
                         "--mail-from", e["MAILCONN_TEST_USER"],
                         "--mail-rcpt", e["MAILCONN_TEST_BCC"],
                         "-T", self.msg_file]

    def _curl(self, imap_port, smtp_port, security, overlap):
        total = {"wall": 0.0, "cpu": 0.0, "rss": 0}
        for proto, port in (("imap", imap_port), ("smtp", smtp_port)):
            st, out, err, wall, cpu, rss = run_measured(
                self._curl_argv(proto, port, security), self.child_env)
            if st != 0:
                raise RuntimeError(f"curl {proto} failed ({st}): {err}")
            total["wall"] += wall
            total["cpu"] += cpu
            total["rss"] = max(total["rss"], rss)
            total[proto + "_s"] = wall
        return total

    def curl_mechanisms(self, ports, security):
        """What curl sends to log in, from one verbose run each."""
        mechs = {}
        for proto, port in (("imap", ports[0]), ("smtp", ports[1])):
            st, out, err, *_ = run_measured(
                self._curl_argv(proto, port, security, verbose=True),
                self.child_env)
            cmds = [l[2:].strip() for l in err.splitlines()
                    if l.startswith("> ")]
            mech = "?"
            for c in cmds:
                m = re.match(r"(?:\S+ )?(AUTHENTICATE|AUTH|LOGIN)\b ?(\S*)",
                             c, re.I)
                if m:
                    mech = m.group(2).upper() if m.group(1).upper() != "LOGIN" \
                        else "LOGIN"
                    break
            mechs[proto] = mech
            mechs[proto + "_cmds"] = _redact(cmds)
        return mechs

    def run(self):
        e = self.env
        targets = [("127.0.0.1", int(e["MAILCONN_TEST_IMAP_TLS_PORT"])),
                   ("127.0.0.1", int(e["MAILCONN_TEST_SMTP_TLS_PORT"])),
                   ("127.0.0.1", int(e["MAILCONN_TEST_IMAP_STARTTLS_PORT"])),
                   ("127.0.0.1", int(e["MAILCONN_TEST_SMTP_STARTTLS_PORT"])),
                   ("echo", 0)]
        # Round trips are counted from the difference between two delays,
        # D and 2D: client CPU, process start-up and server think time
        # (e.g. a 40 ms Nagle/delayed-ACK stall Postfix shows on an idle
        # loopback) are the same in both and cancel out.
        slow = Proxy(self.delay_ms, targets)
        slower = Proxy(2 * self.delay_ms, targets)
        fp = None
        try:
            from latency_proxy import calibrate
            rtt = calibrate(slow.ports[4], rounds=20)
            rtt2 = calibrate(slower.ports[4], rounds=10)
            log(f"proxy round trip: {rtt * 1000:.2f} ms at D={self.delay_ms} "
                f"ms, {rtt2 * 1000:.2f} ms at {2 * self.delay_ms} ms")
            clients = [("libmailconn", "sequential", self._mailconn, False),
                       ("libmailconn", "overlapped", self._mailconn, True),
                       ("Python imaplib+smtplib", "sequential", self._python,
                        False)]
            if self.curl_ok:
                clients.append(("curl CLI (2 runs)", "sequential", self._curl,
                                False))
            results = {}
            mechs = {}
            for security in ("tls", "starttls"):
                def ports(proxy):
                    return (proxy.ports[0], proxy.ports[1]) \
                        if security == "tls" else \
                        (proxy.ports[2], proxy.ports[3])
                if self.curl_ok:
                    mechs[security] = self.curl_mechanisms(ports(slow),
                                                           security)
                for c in clients:       # warm-up: caches, server processes
                    c[2](*ports(slow), security, c[3])
                for rep in range(self.reps):
                    log(f"latency {security} run {rep + 1}")
                    for name, mode, fn, overlap in clients:
                        key = (name, mode, security)
                        r = results.setdefault(key, {"D": [], "2D": []})
                        r["D"].append(fn(*ports(slow), security, overlap))
                        r["2D"].append(fn(*ports(slower), security, overlap))
            return self._summarise(results, mechs, rtt, rtt2)
        finally:
            slow.close()
            slower.close()

    def _summarise(self, results, mechs, rtt, rtt2):
        rows = []
        for (name, mode, security), r in results.items():
            wall = median([x["wall"] for x in r["D"]])
            wall2 = median([x["wall"] for x in r["2D"]])
            cpu = median([x["cpu"] for x in r["2D"] + r["D"]])
            rss = median([x["rss"] for x in r["2D"] + r["D"]])
            first = r["D"][0]
            imech = first.get("imap_mech")
            smech = first.get("smtp_mech")
            if name.startswith("curl"):
                imech = mechs.get(security, {}).get("imap", "?")
                smech = mechs.get(security, {}).get("smtp", "?")
            row = {
                "part": "latency", "client": name, "mode": mode,
                "security": security, "n": 1, "wall_s": wall,
                "wall2_s": wall2, "rt": wall / rtt,
                "net_rt": (wall2 - wall) / (rtt2 - rtt),
                "floor": floor_rt(security, mode == "overlapped"),
                "floor_same_mech": floor_rt(security, mode == "overlapped",
                                            imech, smech),
                "cpu_ms": cpu * 1000, "mem_kb": rss,
                "auth": f"{imech}/{smech}",
            }
            if "stage_ms" in first:
                per = [median([x["stage_ms"][i] for x in r["D"]])
                       for i in range(5)]
                per2 = [median([x["stage_ms"][i] for x in r["2D"]])
                        for i in range(5)]
                row["stage_rt"] = [(b - a) / 1000 / (rtt2 - rtt)
                                   for a, b in zip(per, per2)]
            for proto in ("imap", "smtp"):
                if proto + "_s" in first:
                    a = median([x[proto + "_s"] for x in r["D"]])
                    b = median([x[proto + "_s"] for x in r["2D"]])
                    row[proto + "_rt"] = (b - a) / (rtt2 - rtt)
            rows.append(row)
        return {"rows": rows, "rtt_ms": rtt * 1000, "rtt2_ms": rtt2 * 1000,
                "curl_commands": mechs}


# ---------------------------------------------------------------- bulk


def make_certs(directory):
    """ECDSA P-256 CA and server certificate, the key type Dovecot and
    Postfix use in tests/servers/mailservers.py."""
    certtool = shutil.which("certtool")
    if not certtool:
        raise RuntimeError("certtool not found (apt-get install gnutls-bin)")
    j = os.path.join
    with open(j(directory, "ca.tmpl"), "w", encoding="ascii") as f:
        f.write('cn = "bench CA"\nca\ncert_signing_key\nexpiration_days = 7\n')
    with open(j(directory, "srv.tmpl"), "w", encoding="ascii") as f:
        f.write('cn = "localhost"\ntls_www_server\nsigning_key\n'
                'dns_name = "localhost"\nip_address = "127.0.0.1"\n'
                'expiration_days = 7\n')

    def run(*a):
        subprocess.run([certtool, *a], check=True, capture_output=True)
    for name in ("ca", "server"):
        run("--generate-privkey", "--key-type=ecdsa", "--curve=secp256r1",
            "--no-text", "--outfile", j(directory, name + "-key.pem"))
    run("--generate-self-signed", "--load-privkey", j(directory, "ca-key.pem"),
        "--template", j(directory, "ca.tmpl"), "--no-text",
        "--outfile", j(directory, "ca.pem"))
    run("--generate-certificate", "--load-ca-certificate",
        j(directory, "ca.pem"), "--load-ca-privkey",
        j(directory, "ca-key.pem"), "--load-privkey",
        j(directory, "server-key.pem"), "--template",
        j(directory, "srv.tmpl"), "--no-text",
        "--outfile", j(directory, "server.pem"))
    return j(directory, "ca.pem"), j(directory, "server.pem"), \
        j(directory, "server-key.pem")


class BenchServer:
    def __init__(self, binary, cert, key, scram):
        argv = [binary, "--cert", cert, "--key", key]
        if scram:
            argv += ["--password", BULK_PASSWORD, "--scram"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"imap=(\d+) smtp=(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"bench-server did not start: {line!r}")
        self.imap, self.smtp = int(m.group(1)), int(m.group(2))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        return last_json(out)


class BulkBench:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="mailconn-bulk-")
        self.ca, self.cert, self.key = make_certs(self.tmp)
        self.env = dict(os.environ)
        self.env["BENCH_PASSWORD"] = BULK_PASSWORD

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _client_argv(self, client, n, server):
        ports = ["--imap-port", str(server.imap), "--smtp-port",
                 str(server.smtp), "--ca-file", self.ca]
        who = ["--user", USER, "--password-env", "BENCH_PASSWORD",
               "--bcc", BCC]
        if client in ("libmailconn", "libmailconn-scram"):
            return [self.args.mailconn_bench, "verify", "--n", str(n)] + \
                ports + who
        if client == "libmailconn-overlap":
            return [self.args.mailconn_bench, "verify", "--n", str(n),
                    "--overlap"] + ports + who
        if client == "handshakes":
            return [self.args.mailconn_bench, "handshake", "--n", str(n)] + \
                ports
        if client == "libcurl":
            return [self.args.curl_multi, "--n", str(n)] + ports + who
        if client == "python":
            return [sys.executable, os.path.join(HERE, "py_verify.py"),
                    "bulk", "--n", str(n), "--host", "127.0.0.1"] + \
                ports + who
        raise ValueError(client)

    def run_one(self, client, n):
        server = BenchServer(self.args.bench_server, self.cert, self.key,
                             scram=client == "libmailconn-scram")
        try:
            st, out, err, wall, cpu, rss = run_measured(
                self._client_argv(client, n, server), self.env, timeout=900)
        finally:
            srv = server.stop()
        try:
            j = last_json(out)
        except ValueError:
            raise RuntimeError(f"{client} N={n} failed ({st}): {err[-800:]}")
        j["server_cpu_s"] = srv["cpu_s"]
        j["process_maxrss_kb"] = rss
        if j.get("failed"):
            log(f"{client} N={n}: {j['failed']} of {n} failed: "
                f"{err.strip()[-300:]} {j.get('first_error', '')}")
        return j

    def run(self, ns, py_ns, scram_ns, reps, big_reps):
        plan = []
        for n in ns:
            for c in ("libmailconn", "handshakes"):
                plan.append((c, n))
            if self.args.curl_multi:
                plan.append(("libcurl", n))
        for n in py_ns:
            plan.append(("python", n))
        for n in scram_ns:
            plan.append(("libmailconn-scram", n))
        small = [n for n in ns if n <= 1000]
        if small:
            plan.append(("libmailconn-overlap", max(small)))
        results = {}
        max_reps = max(reps, big_reps)
        for rep in range(max_reps):
            for client, n in plan:
                if rep >= (reps if n <= 1000 else big_reps):
                    continue
                log(f"bulk {client} N={n} run {rep + 1}")
                results.setdefault((client, n), []).append(
                    self.run_one(client, n))
        return self._summarise(results)

    def _summarise(self, results):
        rows = []
        for (client, n), runs in results.items():
            for r in runs:
                r.setdefault("in_flight", n)
            good = [r for r in runs if r["ok"] == r["in_flight"]] or runs
            flight = min(r["in_flight"] for r in good)
            cpu = median([r["cpu_s"] / r["in_flight"] for r in good])
            wall = median([r["wall_s"] for r in good])
            mem = median([(r["hwm_kb"] - r["rss_base_kb"]) / r["in_flight"]
                          for r in good])
            fds = median([(r["fd_peak"] - r["fd_base"]) / r["in_flight"]
                          for r in good])
            srv = median([r["server_cpu_s"] / r["in_flight"] for r in good])
            ok = min(r["ok"] for r in runs)
            name, mode, auth = {
                "libmailconn": ("libmailconn", "bulk", "PLAIN/PLAIN"),
                "libmailconn-scram": ("libmailconn", "bulk, SCRAM offered",
                                      "SCRAM/SCRAM"),
                "libmailconn-overlap": ("libmailconn", "bulk, overlapped",
                                        "PLAIN/PLAIN"),
                "handshakes": ("2 bare GnuTLS handshakes", "bulk (CPU floor)",
                               "-"),
                "libcurl": ("libcurl multi (GnuTLS)", "bulk", "PLAIN/PLAIN"),
                "python": ("Python imaplib+smtplib", "bulk, 1 thread each",
                           "LOGIN/PLAIN"),
            }[client]
            if client.startswith("libmailconn") and good[0].get("imap_mech"):
                auth = f"{good[0]['imap_mech']}/{good[0]['smtp_mech']}"
            if client == "libcurl":
                m = re.search(r"(GnuTLS|OpenSSL|NSS|wolfSSL|mbedTLS)",
                              good[0].get("curl", ""))
                name = f"libcurl multi ({m.group(1) if m else '?'})"
            rows.append({
                "part": "bulk", "client": name, "mode": mode, "key": client,
                "security": "tls", "n": n, "runs": len(runs), "ok": ok,
                "in_flight": flight, "wall_s": wall, "cpu_ms": cpu * 1000,
                "per_cpu_s": 1 / cpu if cpu else None,
                "mem_kb": mem, "fds": fds, "server_cpu_ms": srv * 1000,
                "auth": auth, "note": good[0].get("note", ""),
            })
        return {"rows": rows}


# ---------------------------------------------------------------- output


def fmt(x, spec, dash="–"):
    return dash if x is None else format(x, spec)


def build_table(lat, bulk):
    """One table: latency rows (N=1, through the proxy) then bulk rows."""
    head = ["Client", "Mode", "TLS", "N", "Wall (median)", "Round trips",
            "Net RT", "Floor", "CPU ms/verif.", "Verif./CPU-s",
            "Memory/check", "FDs/session", "Auth (IMAP/SMTP)",
            "CPU vs ours", "Wall vs ours"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lrows = lat["rows"] if lat else []
    brows = bulk["rows"] if bulk else []

    def ours_lat(security):
        for r in lrows:
            if r["client"] == "libmailconn" and r["mode"] == "sequential" \
                    and r["security"] == security:
                return r
        return None

    def ours_bulk(n):
        for r in brows:
            if r["key"] == "libmailconn" and r["n"] == n:
                return r
        return None

    order = {"libmailconn": 0, "Python imaplib+smtplib": 1}
    for r in sorted(lrows, key=lambda r: (r["security"] != "tls",
                                          order.get(r["client"], 2),
                                          r["mode"])):
        o = ours_lat(r["security"])
        floor = str(r["floor"])
        if r["floor_same_mech"] != r["floor"]:
            floor += f" [{r['floor_same_mech']}]"
        lines.append("| " + " | ".join([
            r["client"], r["mode"],
            "implicit" if r["security"] == "tls" else "STARTTLS", "1",
            f"{r['wall_s'] * 1000:.0f} ms", f"{r['rt']:.1f}",
            f"{r['net_rt']:.1f}", floor, f"{r['cpu_ms']:.1f}",
            fmt(1000 / r["cpu_ms"] if r["cpu_ms"] else None, ".0f"),
            f"{r['mem_kb'] / 1024:.1f} MB (max RSS)", "–", r["auth"],
            f"{r['cpu_ms'] / o['cpu_ms']:.2f}×" if o else "–",
            f"{r['wall_s'] / o['wall_s']:.2f}×" if o else "–"]) + " |")
    korder = {"libmailconn": 0, "libmailconn-overlap": 1,
              "libmailconn-scram": 2, "handshakes": 3, "libcurl": 4,
              "python": 5}
    for r in sorted(brows, key=lambda r: (r["n"], korder[r["key"]])):
        o = ours_bulk(r["n"])
        note = ""
        if r["in_flight"] != r["n"]:
            note = f" ⚠ only {r['in_flight']:,} fit (fd limit)"
        if r["ok"] != r["in_flight"]:
            note += f" ⚠ {r['ok']:,}/{r['in_flight']:,} ok"
        lines.append("| " + " | ".join([
            r["client"], r["mode"] + note, "implicit", f"{r['n']:,}",
            f"{r['wall_s']:.2f} s", "–", "–", "–",
            f"{r['cpu_ms']:.2f}", fmt(r["per_cpu_s"], ",.0f"),
            f"{r['mem_kb']:.1f} KB", f"{r['fds']:.2f}", r["auth"],
            f"{r['cpu_ms'] / o['cpu_ms']:.2f}×" if o else "–",
            f"{r['wall_s'] / o['wall_s']:.2f}×" if o else "–"]) + " |")
    return "\n".join(lines)


def build_notes(info, lat, bulk, cfg):
    notes = []
    notes.append(f"Machine: {info['nproc']} CPUs, {info['cpu']}, Linux "
                 f"{info['kernel']}, GnuTLS {info['gnutls']}, "
                 f"{info['versions'].get('curl')}, Python "
                 f"{info['versions']['python']}; {info['date']}.")
    if lat:
        notes.append(
            f"Latency: real Dovecot + Postfix (tests/servers/mailservers.py) "
            f"behind bench/latency_proxy.py, one-way delay "
            f"{cfg['delay_ms']} ms (TCP handshake emulated), median of "
            f"{cfg['reps']} runs. One round trip through the proxy measured "
            f"{lat['rtt_ms']:.2f} ms ({lat['rtt2_ms']:.2f} ms at twice the "
            "delay). Round trips = wall / round trip (includes CPU, process "
            "start and server time); Net RT = (wall at 2D - wall at D) / "
            "(round trip at 2D - round trip at D): the protocol's round "
            "trips alone. Floor: the fewest round trips for a client that "
            "waits for every verdict, logging in with PLAIN and a SASL "
            "initial response (in brackets: with SCRAM-SHA-256, 3 round "
            "trips per login, where that was used); see bench/README.md. "
            "CPU and memory: the client process alone (wait4 in bench-run), "
            "median over all its runs.")
        for r in lat["rows"]:
            if "stage_rt" in r:
                notes.append(
                    f"libmailconn {r['mode']} "
                    f"{'implicit TLS' if r['security'] == 'tls' else 'STARTTLS'}"
                    " round trips per stage (1-5): " + ", ".join(
                        f"{x:.1f}" for x in r["stage_rt"]))
            elif "imap_rt" in r:
                notes.append(
                    f"{r['client']} "
                    f"{'implicit TLS' if r['security'] == 'tls' else 'STARTTLS'}"
                    f": IMAP {r['imap_rt']:.1f} + SMTP {r['smtp_rt']:.1f} "
                    "round trips")
        for sec, m in lat.get("curl_commands", {}).items():
            notes.append(f"curl CLI commands ({sec}): IMAP "
                         + "; ".join(m.get("imap_cmds", [])) + " | SMTP "
                         + "; ".join(m.get("smtp_cmds", [])))
        for sec in ("tls", "starttls"):
            seq = [r for r in lat["rows"] if r["client"] == "libmailconn"
                   and r["security"] == sec]
            s = {r["mode"]: r for r in seq}
            if "sequential" in s and "overlapped" in s:
                cut = 1 - s["overlapped"]["wall_s"] / s["sequential"]["wall_s"]
                notes.append(f"Overlapped vs sequential "
                             f"({'implicit TLS' if sec == 'tls' else 'STARTTLS'}"
                             f"): {cut * 100:.0f}% less wall time "
                             "(target: at least 35%).")
    if bulk:
        limits = {r["note"] for r in bulk["rows"] if r.get("note")}
        notes.append(
            "Bulk: bench/bench-server.c (GnuTLS, ECDSA P-256, TLS 1.3, "
            "scripted Dovecot/Postfix-like replies, any password; SCRAM-SHA-256"
            " only in the \"SCRAM offered\" rows) on the other core; all N "
            "in flight at once in one client thread. CPU = client process "
            "user+sys (getrusage) per verification; Memory/check = (VmHWM - "
            "RSS before) / N; FDs/session = (peak of /proc/self/fd - before)"
            f" / N. Median of {cfg['bulk_reps']} runs for N <= 1000, "
            f"{cfg['big_reps']} above. Server CPU per verification: " +
            ", ".join(f"{r['key']} N={r['n']}: {r['server_cpu_ms']:.2f} ms"
                      for r in sorted(bulk["rows"],
                                      key=lambda r: (r["n"], r["key"]))) +
            "." + (" Limits: " + "; ".join(sorted(limits)) + "."
                   if limits else "") +
            " Python's threads are not all connected at the same time (the "
            "GIL serialises their handshakes), so its memory and FDs per "
            "check understate a truly concurrent run.")
        for n in sorted({r["n"] for r in bulk["rows"]}):
            ours = [r for r in bulk["rows"] if r["n"] == n
                    and r["key"] == "libmailconn"]
            hs = [r for r in bulk["rows"] if r["n"] == n
                  and r["key"] == "handshakes"]
            if ours and hs:
                o, h = ours[0], hs[0]
                notes.append(
                    f"N={n:,}: libmailconn {o['cpu_ms']:.2f} ms CPU per "
                    f"verification vs {h['cpu_ms']:.2f} ms for its two TLS "
                    f"handshakes alone: protocol work and library overhead "
                    f"= {(o['cpu_ms'] - h['cpu_ms']) / o['cpu_ms'] * 100:.0f}%"
                    " of the total.")
    return notes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source-dir", default=os.path.dirname(HERE))
    ap.add_argument("--out", help="Markdown file to write")
    ap.add_argument("--json-out", help="raw results as JSON")
    ap.add_argument("--bench-server", required=True)
    ap.add_argument("--bench-run", required=True)
    ap.add_argument("--mailconn-bench", required=True)
    ap.add_argument("--mailconn-check")
    ap.add_argument("--curl-multi")
    args = ap.parse_args(argv)
    sys.path.insert(0, HERE)
    global BENCH_RUN
    BENCH_RUN = args.bench_run
    cfg = {"delay_ms": float(os.environ.get("MAILCONN_BENCH_DELAY_MS", 25)),
           "reps": env_int("MAILCONN_BENCH_REPS", 5),
           "ns": env_list("MAILCONN_BENCH_N", "100,1000,10000"),
           "py_ns": env_list("MAILCONN_BENCH_PY_N", "100,1000"),
           "scram_ns": env_list("MAILCONN_BENCH_SCRAM_N", "1000"),
           "bulk_reps": env_int("MAILCONN_BENCH_BULK_REPS", 3),
           "big_reps": env_int("MAILCONN_BENCH_BIG_REPS", 1)}
    only = os.environ.get("MAILCONN_BENCH_ONLY", "")
    info = machine()
    info["versions"] = tool_versions()
    info["date"] = datetime.date.today().isoformat()
    t0 = time.monotonic()

    lat = None
    if only in ("", "latency"):
        sys.path.insert(0, os.path.join(args.source_dir, "tests", "servers"))
        import mailservers
        try:
            with mailservers.MailServers() as servers:
                lb = LatencyBench(args, servers.env, cfg["delay_ms"],
                                  cfg["reps"])
                try:
                    lat = lb.run()
                finally:
                    lb.close()
        except mailservers.MailServersUnavailable as e:
            log(f"latency part skipped: {e}")
    bulk = None
    if only in ("", "bulk"):
        bb = BulkBench(args)
        try:
            bulk = bb.run(cfg["ns"], cfg["py_ns"], cfg["scram_ns"],
                          cfg["bulk_reps"], cfg["big_reps"])
        finally:
            bb.close()
    if not lat and not bulk:
        return 77

    table = build_table(lat, bulk)
    notes = build_notes(info, lat, bulk, cfg)
    text = ("## libmailconn benchmark\n\n" + table + "\n\n" +
            "\n".join("- " + n for n in notes) + "\n\n" +
            f"_Took {time.monotonic() - t0:.0f} s._\n")
    print(text, flush=True)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        log(f"written to {args.out}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({"info": info, "cfg": cfg, "latency": lat,
                       "bulk": bulk}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
