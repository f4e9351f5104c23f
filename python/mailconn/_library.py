# SPDX-License-Identifier: LGPL-2.1-or-later
"""Finding and loading libmailconn, and the ctypes prototype of every
function in include/mailconn.h."""

import ctypes
import ctypes.util
import os
import threading

from ._errors import LibraryNotFoundError

__all__ = [
    "PROTOTYPES", "PROGRESS_FN", "TRANSCRIPT_FN", "ConfigPtr", "SessionPtr",
    "load", "library_path", "text",
]

SONAME = "libmailconn.so.1"


class _OpaqueConfig(ctypes.Structure):
    """struct mailconn_config, never looked into."""


class _OpaqueSession(ctypes.Structure):
    """struct mailconn_session, never looked into."""


# Distinct pointer types, so a config can never be passed as a session.
ConfigPtr = ctypes.POINTER(_OpaqueConfig)
SessionPtr = ctypes.POINTER(_OpaqueSession)

# C enums are int-sized: every enum in the header tops out at 0x7fffffff.
_enum = ctypes.c_int
_str = ctypes.c_char_p

PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _enum, ctypes.c_int,
                               _enum)
TRANSCRIPT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _enum, _enum, _enum,
                                 _str)
SESSION_PROGRESS_FN = ctypes.CFUNCTYPE(None, SessionPtr, ctypes.c_void_p,
                                       _enum, ctypes.c_int, _enum)
SESSION_TRANSCRIPT_FN = ctypes.CFUNCTYPE(None, SessionPtr, ctypes.c_void_p,
                                         _enum, _enum, _enum, _str)

# name: (restype, argtypes). test_binding.py checks this against the
# header and against the library's exports, both ways.
PROTOTYPES = {
    "mailconn_version": (_str, ()),
    "mailconn_version_number": (ctypes.c_uint32, ()),
    "mailconn_error_name": (_str, (_enum,)),
    "mailconn_error_message": (_str, (_enum,)),
    "mailconn_error_hint": (_str, (_enum,)),
    "mailconn_cause_name": (_str, (_enum,)),
    "mailconn_stage_name": (_str, (_enum,)),

    "mailconn_config_new": (ConfigPtr, ()),
    "mailconn_config_free": (None, (ConfigPtr,)),
    "mailconn_config_set_string": (_enum, (ConfigPtr, _enum, _str)),
    "mailconn_config_set_int": (_enum, (ConfigPtr, _enum, ctypes.c_int64)),
    "mailconn_option_from_name": (ctypes.c_int, (_str,)),
    "mailconn_option_name": (_str, (_enum,)),
    "mailconn_config_error": (_str, (ConfigPtr,)),
    "mailconn_config_error_option": (_enum, (ConfigPtr,)),
    "mailconn_config_check": (_enum, (ConfigPtr, ctypes.c_char_p,
                                      ctypes.c_size_t)),
    "mailconn_config_check_option": (_enum, (ConfigPtr, ctypes.c_char_p,
                                             ctypes.c_size_t,
                                             ctypes.POINTER(_enum))),
    "mailconn_config_set_progress": (None, (ConfigPtr, PROGRESS_FN,
                                            ctypes.c_void_p)),
    "mailconn_config_set_transcript": (None, (ConfigPtr, TRANSCRIPT_FN,
                                              ctypes.c_void_p)),

    "mailconn_session_new": (_enum, (ConfigPtr, ctypes.POINTER(SessionPtr))),
    "mailconn_session_free": (None, (SessionPtr,)),
    "mailconn_session_set_progress": (_enum, (SessionPtr, SESSION_PROGRESS_FN,
                                              ctypes.c_void_p)),
    "mailconn_session_set_transcript": (_enum, (SessionPtr,
                                                SESSION_TRANSCRIPT_FN,
                                                ctypes.c_void_p)),
    "mailconn_session_cancel": (_enum, (SessionPtr,)),
    "mailconn_session_step": (_enum, (SessionPtr,)),
    "mailconn_session_fd": (ctypes.c_int, (SessionPtr,)),
    "mailconn_session_events": (ctypes.c_uint, (SessionPtr,)),
    "mailconn_session_timeout_ms": (ctypes.c_int, (SessionPtr,)),
    "mailconn_session_run": (_enum, (SessionPtr,)),
    "mailconn_session_outcome": (_enum, (SessionPtr,)),
    "mailconn_session_cause": (_enum, (SessionPtr,)),
    "mailconn_session_stage": (_enum, (SessionPtr,)),
    "mailconn_session_protocol": (_enum, (SessionPtr,)),
    "mailconn_session_server_reply": (_str, (SessionPtr,)),
    "mailconn_session_detail": (_str, (SessionPtr,)),
    "mailconn_session_hint": (_str, (SessionPtr,)),
    "mailconn_session_hint_id": (_str, (SessionPtr,)),
    "mailconn_session_provider": (_str, (SessionPtr,)),
    "mailconn_session_message": (_str, (SessionPtr,)),
    "mailconn_session_language": (_str, (SessionPtr,)),
    "mailconn_session_stage_passed": (ctypes.c_int, (SessionPtr, _enum)),
    "mailconn_session_stage_ms": (ctypes.c_int64, (SessionPtr, _enum)),
    "mailconn_session_fact": (_str, (SessionPtr, _enum, _enum)),
}


def text(raw):
    """A string the library returned, as str (None stays None)."""
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


def _source_tree_build_dir():
    # python/mailconn/ -> the source root, recognised by its public header
    # so that an installed copy never goes looking in unrelated places.
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    if os.path.isfile(os.path.join(root, "include", "mailconn.h")):
        return os.path.join(root, "build")
    return None


def _installed_libdir():
    # Written by meson at install time; absent in the source tree.
    try:
        from ._install_paths import LIBDIR
    except ImportError:
        return None
    return LIBDIR or None


def _candidates():
    """Where to look, in order; an explicit MAILCONN_LIBRARY is the only
    candidate, so a typo in it fails loudly instead of loading another
    copy of the library."""
    explicit = os.environ.get("MAILCONN_LIBRARY")
    if explicit:
        return [explicit]
    paths = []
    build = os.environ.get("MAILCONN_BUILD_DIR")
    if build:
        paths.append(os.path.join(build, "lib", SONAME))
        paths.append(os.path.join(build, SONAME))
    tree = _source_tree_build_dir()
    if tree:
        paths.append(os.path.join(tree, "lib", SONAME))
    paths = [p for p in paths if os.path.exists(p)]
    found = ctypes.util.find_library("mailconn")
    if found:
        paths.append(found)
    libdir = _installed_libdir()
    if libdir:
        path = os.path.join(libdir, SONAME)
        if os.path.exists(path):
            paths.append(path)
    # Last resort: the dynamic loader's own search (LD_LIBRARY_PATH, cache).
    paths.append(SONAME)
    return paths


_lock = threading.Lock()
_lib = None
_lib_path = None


def _declare(lib):
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            func = getattr(lib, name)
        except AttributeError as exc:
            raise LibraryNotFoundError(
                f"{lib._name} lacks {name}: too old a libmailconn") from exc
        func.restype = restype
        func.argtypes = argtypes


def load():
    """The loaded library, with every prototype declared. Thread-safe."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        failures = []
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError as exc:
                failures.append(f"{path}: {exc}")
                continue
            _declare(lib)
            _lib_path = path
            _lib = lib
            return lib
        # pip installs only this package; the C library is a separate
        # install, so say which file is missing and how to provide it.
        raise LibraryNotFoundError(
            f"cannot load libmailconn: the mailconn package needs the C "
            f"library {SONAME}, which is not installed where the dynamic "
            f"loader looks. Install libmailconn (from its source tree: "
            f"meson setup build && ninja -C build && meson install -C "
            f"build), or set MAILCONN_LIBRARY to the full path of "
            f"{SONAME}; tried: " + "; ".join(failures))


def library_path():
    """The name or path the library was loaded from (loads it if needed)."""
    load()
    return _lib_path
