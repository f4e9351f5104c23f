# SPDX-License-Identifier: LGPL-2.1-or-later
"""The five stages with Python's standard library: what most people write.

imaplib: connect (TLS or STARTTLS), LOGIN, EXAMINE INBOX, LOGOUT;
smtplib: connect, EHLO, (STARTTLS, EHLO), AUTH, MAIL/RCPT/DATA, QUIT.
Certificates are checked against the CA file, as the library does.

  py_verify.py single --imap-port P --smtp-port P --ca-file CA ...
  py_verify.py bulk --n N ...     N verifications at once, one thread each
Prints one JSON line.
"""

import argparse
import email.utils
import imaplib
import json
import os
import resource
import smtplib
import ssl
import sys
import threading
import time


def _message(sender, rcpt):
    return (f"From: <{sender}>\r\nTo: <{rcpt}>\r\n"
            "Subject: libmailconn benchmark test message\r\n"
            f"Date: {email.utils.formatdate()}\r\n"
            f"Message-ID: {email.utils.make_msgid(domain='bench.test')}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "\r\nThis is a test message sent while checking the mailbox "
            "settings.\r\nIt can be deleted.\r\n")


def _smtp_mechanism(smtp):
    # smtplib.SMTP.login tries these, in this order, among those offered.
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    for mech in ("CRAM-MD5", "PLAIN", "LOGIN"):
        if mech in offered:
            return mech
    return "?"


def verify(a, ctx):
    """One verification; returns a dict of timings and facts."""
    t0 = time.monotonic()
    if a.security == "tls":
        imap = imaplib.IMAP4_SSL(a.host, a.imap_port, ssl_context=ctx,
                                 timeout=a.timeout)
    else:
        imap = imaplib.IMAP4(a.host, a.imap_port, timeout=a.timeout)
        imap.starttls(ssl_context=ctx)
    try:
        imap.login(a.user, a.password)
        typ, _ = imap.select("INBOX", readonly=True)       # EXAMINE
        if typ != "OK":
            raise RuntimeError("EXAMINE INBOX failed")
    finally:
        imap.logout()
    t1 = time.monotonic()
    if a.security == "tls":
        smtp = smtplib.SMTP_SSL(a.host, a.smtp_port, context=ctx,
                                timeout=a.timeout)
        smtp.ehlo("localhost")
    else:
        smtp = smtplib.SMTP(a.host, a.smtp_port, timeout=a.timeout)
        smtp.ehlo("localhost")
        smtp.starttls(context=ctx)
        smtp.ehlo("localhost")
    try:
        mech = _smtp_mechanism(smtp)
        smtp.login(a.user, a.password)
        smtp.sendmail(a.user, [a.bcc], _message(a.user, a.bcc))
    finally:
        smtp.quit()
    t2 = time.monotonic()
    return {"imap_s": t1 - t0, "smtp_s": t2 - t1, "total_s": t2 - t0,
            "imap_mech": "LOGIN", "smtp_mech": mech}


def _status_kb(field):
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _context(ca_file):
    ctx = ssl.create_default_context(cafile=ca_file)
    return ctx


def bulk(a):
    ctx = _context(a.ca_file)
    # Thread stacks are virtual memory; only touched pages count in RSS.
    threading.stack_size(256 * 1024)
    results, errors = [], []
    lock = threading.Lock()
    start = threading.Event()

    def worker():
        start.wait()
        try:
            r = verify(a, ctx)
        except Exception as e:          # one failure must not stop the rest
            with lock:
                errors.append(repr(e))
            return
        with lock:
            results.append(r)

    fd_peak = [0]
    sampling_cpu = [0.0]
    stop = threading.Event()

    def sampler():
        while not stop.wait(0.02):
            c = _cpu()
            fd_peak[0] = max(fd_peak[0], len(os.listdir("/proc/self/fd")) - 1)
            sampling_cpu[0] += _cpu() - c

    fd_base = len(os.listdir("/proc/self/fd")) - 1
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    rss0 = _status_kb("VmRSS")
    t0, c0 = time.monotonic(), _cpu()
    threads = [threading.Thread(target=worker) for _ in range(a.n)]
    for t in threads:
        t.start()
    mon = threading.Thread(target=sampler)
    mon.start()
    start.set()
    for t in threads:
        t.join()
    stop.set()
    mon.join()
    wall, cpu = time.monotonic() - t0, _cpu() - c0 - sampling_cpu[0]
    out = {"mode": "python-threads", "n": a.n, "wall_s": wall, "cpu_s": cpu,
           "rss_base_kb": rss0, "hwm_kb": _status_kb("VmHWM"),
           "fd_base": fd_base, "fd_peak": fd_peak[0], "ok": len(results),
           "failed": len(errors),
           "imap_mech": results[0]["imap_mech"] if results else "",
           "smtp_mech": results[0]["smtp_mech"] if results else ""}
    if errors:
        out["first_error"] = errors[0]
    print(json.dumps(out), flush=True)
    return 0 if not errors else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("single", "bulk"))
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--imap-port", type=int, required=True)
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--security", choices=("tls", "starttls"), default="tls")
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", required=True)
    ap.add_argument("--bcc", required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args(argv)
    a.password = os.environ[a.password_env]
    if a.mode == "bulk":
        return bulk(a)
    r = verify(a, _context(a.ca_file))
    print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
