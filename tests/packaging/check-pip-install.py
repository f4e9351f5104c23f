#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`pip install ./python` into a fresh venv, offline, then use the package
from there against the built library.

usage: check-pip-install.py SOURCE_ROOT LIBRARY VERSION

The venv sees the system site-packages only for setuptools and wheel
(Debian's python3-setuptools, python3-wheel), which the offline build
needs; the test checks that mailconn itself is imported from the venv.
Exit 77 (a skip) when Python cannot make a venv (Debian: python3-venv).
No pytest: this runs wherever the C tests run."""

import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

PROBE = r"""
import importlib.metadata, json, os, sys
import mailconn
out = {"file": mailconn.__file__, "version": mailconn.__version__,
       "dist_version": importlib.metadata.version("mailconn")}
try:
    out["library_version"] = mailconn.library_version()
    out["library_path"] = mailconn.library_path()
    try:
        mailconn.verify(email="not-an-address", password="x",
                        imap_host="imap.example.com",
                        smtp_host="smtp.example.com", bcc="b@example.com")
    except mailconn.InvalidConfigError as e:
        out["config_error"] = e.option
except mailconn.LibraryNotFoundError as e:
    out["not_found"] = str(e)
print(json.dumps(out))
"""


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=300,
                          check=False, **kw)


def probe(venv_python, env, cwd):
    import json
    r = run([venv_python, "-c", PROBE], env=env, cwd=cwd)
    if r.returncode != 0:
        raise AssertionError(f"the probe failed:\n{r.stdout}{r.stderr}")
    return json.loads(r.stdout)


def main():
    root, library, version = sys.argv[1:4]
    failures = []
    with tempfile.TemporaryDirectory(prefix="mailconn-pip-") as tmp:
        # A copy, so the build's leftovers (build/, *.egg-info) stay out
        # of the source tree.
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(root, "python"), src,
                        ignore=shutil.ignore_patterns(
                            "__pycache__", "build", "*.egg-info"))
        venv = os.path.join(tmp, "venv")
        r = run([sys.executable, "-m", "venv", "--system-site-packages",
                 venv])
        if r.returncode != 0:
            print(f"SKIP: {sys.executable} cannot make a venv (Debian: "
                  f"apt-get install python3-venv): {r.stderr.strip()}")
            return SKIP
        py = os.path.join(venv, "bin", "python")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "MAILCONN_", "PIP_"))
               and k not in ("LD_LIBRARY_PATH", "LD_PRELOAD", "VIRTUAL_ENV")}
        env.update(PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PYTHONDONTWRITEBYTECODE="1")
        r = run([py, "-m", "pip", "install", "--no-index",
                 "--no-build-isolation", "--no-cache-dir", src],
                env=env, cwd=tmp)
        # Only what loads the library needs a preload (an ASan build's
        # runtime, set by meson); pip does not.
        if os.environ.get("LD_PRELOAD"):
            env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            print("FAILED: pip install of the package into a fresh venv")
            return 1

        site = os.path.realpath(venv)
        # 1. The library named by MAILCONN_LIBRARY.
        got = probe(py, dict(env, MAILCONN_LIBRARY=library), tmp)
        if not os.path.realpath(got["file"]).startswith(site + os.sep):
            failures.append(f"mailconn was imported from {got['file']}, "
                            f"not from the venv")
        for key in ("version", "dist_version", "library_version"):
            if got.get(key) != version:
                failures.append(f"{key} is {got.get(key)!r}, want {version}")
        if got.get("config_error") != "email":
            failures.append(f"a bad email did not raise InvalidConfigError "
                            f"for it: {got}")

        # 2. The one the dynamic loader finds, as a system install would.
        got = probe(py, dict(env, LD_LIBRARY_PATH=os.path.dirname(library)),
                    tmp)
        if got.get("library_version") != version:
            failures.append(f"with the library on the loader's path: {got}")

        # 3. None: a clear message naming what to install. Only checkable
        # where no libmailconn is installed system-wide.
        got = probe(py, env, tmp)
        if "not_found" in got:
            msg = got["not_found"]
            for words in ("libmailconn.so.1", "Install libmailconn",
                          "MAILCONN_LIBRARY"):
                if words not in msg:
                    failures.append(f"the not-found message lacks "
                                    f"{words!r}: {msg}")
        else:
            print(f"note: a system-wide libmailconn was found "
                  f"({got.get('library_path')}); the missing-library "
                  f"message was not checked")

    for f in failures:
        print("FAILED:", f)
    if not failures:
        print(f"ok: pip installed mailconn {version} into a fresh venv and "
              f"it loaded the library")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
