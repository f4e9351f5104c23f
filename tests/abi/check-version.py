#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pkg-config, the library file name and the Python package must report
the project version.

usage: check-version.py VERSION PC_DIR PYTHON_SRC_DIR LIBRARY

PC_DIR holds the built libmailconn-uninstalled.pc, which pkg-config
prefers to an installed libmailconn.pc. No pytest: this runs wherever
the C tests run."""

import os
import subprocess
import sys


def main():
    version, pc_dir, python_dir, library = sys.argv[1:5]
    failures = []
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
    env.pop("PKG_CONFIG_DISABLE_UNINSTALLED", None)
    pc = subprocess.run(["pkg-config", "--modversion", "libmailconn"],
                        env=env, capture_output=True, text=True, check=False)
    if pc.returncode != 0 or pc.stdout.strip() != version:
        failures.append(f"pkg-config --modversion libmailconn gives "
                        f"{pc.stdout.strip()!r} {pc.stderr.strip()}")

    # The installed file is named after the release (the SONAME is not).
    real = os.path.basename(os.path.realpath(library))
    if real != f"libmailconn.so.{version}":
        failures.append(f"the library file is {real}")

    sys.path.insert(0, python_dir)
    os.environ["MAILCONN_LIBRARY"] = library
    import mailconn  # noqa: E402 - from the source tree, on purpose
    if mailconn.__version__ != version:
        failures.append(f"mailconn.__version__ is {mailconn.__version__!r}")
    if mailconn.library_version() != version:
        failures.append(f"mailconn.library_version() is "
                        f"{mailconn.library_version()!r}")

    for f in failures:
        print(f"{f}; the project version is {version!r}", file=sys.stderr)
    if not failures:
        print(f"ok: pkg-config, {os.path.basename(library)} and the Python "
              f"package are version {version}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
