# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pytest setup for the Python binding: import paths, the real mail
servers (started once, always stopped) and an exit status meson reads."""

import os
import sys

import pytest

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HEADER = os.path.join(SOURCE_ROOT, "include", "mailconn.h")
SYMBOL_MAP = os.path.join(SOURCE_ROOT, "lib", "libmailconn.sym")
SERVERS_DIR = os.path.join(SOURCE_ROOT, "tests", "servers")

# meson sets PYTHONPATH; a bare "pytest tests/python" from the source tree
# still finds the package.
_python_dir = os.path.join(SOURCE_ROOT, "python")
if _python_dir not in sys.path:
    sys.path.insert(0, _python_dir)


# An ASan-built libmailconn needs the ASan runtime preloaded into this
# Python, but the children (certtool, Dovecot, Postfix, other Pythons) must
# not inherit it: certtool hangs under it.
_preload = os.environ.get("LD_PRELOAD", "")
if "libasan" in _preload:
    kept = [p for p in _preload.split() if "libasan" not in p]
    # A child Python that loads the library itself needs it back:
    # with_asan_preload() below.
    os.environ["MAILCONN_ASAN_PRELOAD"] = " ".join(
        p for p in _preload.split() if "libasan" in p)
    if kept:
        os.environ["LD_PRELOAD"] = " ".join(kept)
    else:
        del os.environ["LD_PRELOAD"]


@pytest.fixture(scope="session")
def mail_servers():
    """A running Dovecot + Postfix pair for the whole test session; its
    MAILCONN_TEST_* variables are in .env."""
    if os.geteuid() != 0:
        pytest.skip("the real mail servers need root")
    if SERVERS_DIR not in sys.path:
        sys.path.insert(0, SERVERS_DIR)
    from mailservers import MailServers
    servers = MailServers()
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


def pytest_sessionfinish(session, exitstatus):
    """With MAILCONN_PYTEST_SKIP_STATUS set (meson does), a run in which
    every test was skipped exits with that status, so meson shows SKIP
    instead of OK. Exit status 5 (nothing collected) stays a failure."""
    status = os.environ.get("MAILCONN_PYTEST_SKIP_STATUS")
    if not status or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    stats = reporter.stats
    ran = sum(len(stats.get(k, ())) for k in ("passed", "failed", "error",
                                               "xfailed", "xpassed"))
    if ran == 0 and stats.get("skipped"):
        session.exitstatus = int(status)


def with_asan_preload(env):
    """`env` for a child Python that loads libmailconn: in a sanitizer
    build the ASan runtime must come first in its preload list."""
    asan = env.get("MAILCONN_ASAN_PRELOAD")
    if asan:
        env["LD_PRELOAD"] = " ".join(filter(None, [asan,
                                                   env.get("LD_PRELOAD")]))
    return env
