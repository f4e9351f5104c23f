# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ctypes binding without mail servers: enums and prototypes against the
header and the library's exports, caller errors, asyncio driving and
callback lifetimes against a local TCP server that never answers."""

import asyncio
import ctypes
import gc
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import weakref

import pytest

from conftest import HEADER, SYMBOL_MAP, with_asan_preload

import mailconn
from mailconn import _library


# ---------------------------------------------------------------- header


def _header_text():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    # Comments may hold anything, including things that look like code.
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _header_enums():
    """{C enum tag: {enumerator: value}}, the *_MAX_ sentinels left out."""
    enums = {}
    for m in re.finditer(r"typedef\s+enum\s+mailconn_(\w+)\s*\{(.*?)\}\s*"
                         r"mailconn_\1\s*;", _header_text(), flags=re.S):
        values, nxt = {}, 0
        for item in m.group(2).split(","):
            item = item.strip()
            if not item:
                continue
            name, _, value = (p.strip() for p in item.partition("="))
            nxt = int(value, 0) if value else nxt
            if not name.endswith("_MAX_"):
                values[name] = nxt
            nxt += 1
        enums[m.group(1)] = values
    return enums


# C enum tag -> (Python class, prefix the Python names drop)
ENUM_MAP = {
    "error": (mailconn.Error, "MAILCONN_"),
    "cause": (mailconn.Cause, "MAILCONN_CAUSE_"),
    "stage": (mailconn.Stage, "MAILCONN_STAGE_"),
    "security": (mailconn.Security, "MAILCONN_SECURITY_"),
    "protocol": (mailconn.Protocol, "MAILCONN_PROTOCOL_"),
    "option": (mailconn.Option, "MAILCONN_OPT_"),
    "state": (mailconn.State, "MAILCONN_"),
    "direction": (mailconn.Direction, "MAILCONN_DIR_"),
    "fact": (mailconn.Fact, "MAILCONN_FACT_"),
}


def test_every_header_enum_is_mirrored():
    assert set(_header_enums()) == set(ENUM_MAP)


@pytest.mark.parametrize("tag", sorted(ENUM_MAP))
def test_enum_matches_header(tag):
    cls, prefix = ENUM_MAP[tag]
    c_values = _header_enums()[tag]
    assert c_values, f"no enumerators parsed for mailconn_{tag}"
    assert all(n.startswith(prefix) for n in c_values), c_values
    expected = {n[len(prefix):]: v for n, v in c_values.items()}
    actual = {name: int(member) for name, member in cls.__members__.items()
              if name == member.name}   # aliases are not enumerators
    assert actual == expected


def test_wait_bits_match_header():
    defines = dict(re.findall(r"#define\s+MAILCONN_WAIT_(\w+)\s+(\d+)u?\b",
                              _header_text()))
    assert {k: int(v) for k, v in defines.items()} == \
        {m.name: int(m) for m in mailconn.Wait}


def test_outcome_is_error():
    assert mailconn.Outcome is mailconn.Error
    assert mailconn.Error.UNTRUSTED_CERT == 8


def test_unknown_enum_values_are_tolerated():
    # A newer library may append causes; results must still be readable.
    cause = mailconn.Cause(97)
    assert cause == 97 and cause.name == "UNKNOWN_97"
    with pytest.raises(ValueError):
        mailconn.Cause("TIMEOUT")


def test_names_agree_with_the_library():
    lib = _library.load()
    for member in mailconn.Error:
        assert mailconn.error_name(member) == member.name
    for member in mailconn.Cause:
        assert mailconn.cause_name(member) == member.name
    for member in mailconn.Stage:
        assert mailconn.stage_name(member) == member.name.lower()
    for member in mailconn.Option:
        name = member.name.lower()
        assert lib.mailconn_option_from_name(name.encode()) == member
        assert _library.text(lib.mailconn_option_name(member)) == name
    assert lib.mailconn_option_from_name(b"no_such_option") == -1


def test_library_version_matches_header():
    # The version macros are generated from meson's project version into
    # the build tree (include/mailconn-version.h.in).
    version_header = os.environ.get("MAILCONN_VERSION_HEADER") or \
        os.path.join(os.path.dirname(os.path.dirname(HEADER)), "build",
                     "include", "mailconn-version.h")
    with open(version_header, encoding="utf-8") as f:
        text = f.read()
    major, minor, patch = (int(re.search(
        rf"#define\s+MAILCONN_VERSION_{part}\s+(\d+)", text).group(1))
        for part in ("MAJOR", "MINOR", "PATCH"))
    assert mailconn.library_version() == f"{major}.{minor}.{patch}"
    lib = _library.load()
    number = (major << 16) | (minor << 8) | patch
    assert lib.mailconn_version_number() == number


# ------------------------------------------------------------ prototypes


def _header_functions():
    """{name: (return type, [parameter types])}, types whitespace-normalised
    with the parameter names removed."""
    def norm(t):
        return re.sub(r"\s*\*\s*", "*", " ".join(t.split()))

    funcs = {}
    for m in re.finditer(r"MAILCONN_API\s+([^;(]*?)\b(mailconn_\w+)\s*"
                         r"\(([^)]*)\)\s*;", _header_text(), flags=re.S):
        params = []
        for p in m.group(3).split(","):
            p = norm(p)
            if p == "void":
                continue
            params.append(re.sub(r"\s*\b\w+$", "", p) if
                          re.search(r"[\w*]\s*\b\w+$", p) else p)
        funcs[m.group(2)] = (norm(m.group(1)), params)
    return funcs


def _header_callbacks():
    """{typedef name: (return type, [parameter types])}."""
    out = {}
    for m in re.finditer(r"typedef\s+(\w+)\s*\(\*\s*(mailconn_\w+_fn)\)\s*"
                         r"\(([^)]*)\)\s*;", _header_text(), flags=re.S):
        params = [re.sub(r"\s*\*\s*", "*",
                         re.sub(r"\s*\b\w+$", "", " ".join(p.split())))
                  for p in m.group(3).split(",")]
        out[m.group(2)] = (m.group(1), params)
    return out


def _ctype_for(c_type):
    """The ctypes type a C type from the header must be declared as."""
    enum_tags = {f"mailconn_{tag}" for tag in _header_enums()}
    fixed = {
        "void": None,
        "const char*": ctypes.c_char_p,
        "char*": ctypes.c_char_p,
        "size_t": ctypes.c_size_t,
        "int": ctypes.c_int,
        "unsigned": ctypes.c_uint,
        "uint32_t": ctypes.c_uint32,
        "int64_t": ctypes.c_int64,
        "void*": ctypes.c_void_p,
        "mailconn_config*": _library.ConfigPtr,
        "const mailconn_config*": _library.ConfigPtr,
        "mailconn_session*": _library.SessionPtr,
        "const mailconn_session*": _library.SessionPtr,
        "mailconn_session**": ctypes.POINTER(_library.SessionPtr),
        "mailconn_progress_fn": _library.PROGRESS_FN,
        "mailconn_transcript_fn": _library.TRANSCRIPT_FN,
        "mailconn_session_progress_fn": _library.SESSION_PROGRESS_FN,
        "mailconn_session_transcript_fn": _library.SESSION_TRANSCRIPT_FN,
    }
    if c_type in fixed:
        return fixed[c_type]
    if c_type in enum_tags:
        return ctypes.c_int
    # An out-parameter of enum type (mailconn_config_check_option).
    if c_type.endswith("*") and c_type[:-1] in enum_tags:
        return ctypes.POINTER(ctypes.c_int)
    raise AssertionError(f"no ctypes mapping for C type {c_type!r}")


def test_prototypes_match_header():
    funcs = _header_functions()
    assert len(funcs) >= 30, "header parse found too few functions"
    assert set(_library.PROTOTYPES) == set(funcs)
    for name, (ret, params) in funcs.items():
        restype, argtypes = _library.PROTOTYPES[name]
        # The count first: a wrong one is the drift that corrupts the stack.
        assert len(argtypes) == len(params), \
            f"{name}: {len(argtypes)} ctypes arguments, {len(params)} in C"
        assert restype is _ctype_for(ret), name
        assert list(argtypes) == [_ctype_for(p) for p in params], name


# The MAILCONN_1.1 additions, with their C argument counts: the parse above
# must find them (a header regex that silently missed them would let the
# binding drift unnoticed).
API_1_1 = {
    "mailconn_session_set_progress": 3,
    "mailconn_session_set_transcript": 3,
    "mailconn_session_cancel": 1,
    "mailconn_config_check": 3,
}


@pytest.mark.parametrize("name", sorted(API_1_1))
def test_api_1_1_prototypes_match_header(name):
    funcs = _header_functions()
    assert name in funcs, f"{name} is not declared in mailconn.h"
    ret, params = funcs[name]
    assert len(params) == API_1_1[name], (name, params)
    restype, argtypes = _library.PROTOTYPES[name]
    assert len(argtypes) == len(params), name
    assert restype is _ctype_for(ret), name
    assert list(argtypes) == [_ctype_for(p) for p in params], name
    with open(SYMBOL_MAP, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    node = re.search(r"MAILCONN_1\.1\s*\{(.*?)\}", text, flags=re.S)
    assert node, "no MAILCONN_1.1 node in libmailconn.sym"
    assert re.search(rf"\b{name}\s*;", node.group(1)), \
        f"{name} is not in the MAILCONN_1.1 node"


def test_callback_types_match_header():
    cbs = _header_callbacks()
    assert set(cbs) == {"mailconn_progress_fn", "mailconn_transcript_fn",
                        "mailconn_session_progress_fn",
                        "mailconn_session_transcript_fn"}
    for name, (ret, params) in cbs.items():
        fn = _ctype_for(name)
        assert len(fn._argtypes_) == len(params), name
        assert fn._restype_ is _ctype_for(ret), name
        assert list(fn._argtypes_) == [_ctype_for(p) for p in params], name


def _loaded_library_file():
    """The file the dynamic loader actually mapped for the binding."""
    loaded = _library.library_path()
    if os.sep in loaded:
        return loaded
    # Loaded by soname: ask the kernel which file that turned out to be.
    with open("/proc/self/maps", encoding="utf-8") as f:
        for line in f:
            path = line.split(None, 5)[-1].strip()
            if os.path.basename(path).startswith("libmailconn.so"):
                return path
    raise AssertionError("libmailconn is not mapped into this process")


def _exported_functions(path):
    nm = shutil.which("nm")
    if nm:
        out = subprocess.run([nm, "-D", "--defined-only", path], check=True,
                             capture_output=True, text=True).stdout
        names = [f[2] for f in (line.split() for line in out.splitlines())
                 if len(f) == 3 and f[1] in "TtWi"]
    else:
        readelf = shutil.which("readelf")
        assert readelf, "neither nm nor readelf (binutils) is installed"
        out = subprocess.run([readelf, "--dyn-syms", "-W", path], check=True,
                             capture_output=True, text=True).stdout
        names = [f[7] for f in (line.split() for line in out.splitlines())
                 if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND"]
    # mailconn__* are internals; that they stay hidden is tests/abi's job.
    return {n.split("@")[0] for n in names
            if n.startswith("mailconn_") and not n.startswith("mailconn__")}


def test_prototypes_cover_every_export():
    exported = _exported_functions(_loaded_library_file())
    assert len(exported) >= 30
    assert set(_library.PROTOTYPES) == exported
    lib = _library.load()
    for name in exported:
        func = getattr(lib, name)
        assert func.argtypes is not None, name
        assert func.restype is _library.PROTOTYPES[name][0], name


def test_prototypes_cover_symbol_map():
    with open(SYMBOL_MAP, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    listed = set(re.findall(r"\b(mailconn_\w+)\s*;", text))
    assert set(_library.PROTOTYPES) == listed


def test_text_decoding_replaces_invalid_utf8():
    assert _library.text(b"caf\xc3\xa9 \xff") == "café \ufffd"
    assert _library.text(None) is None


def test_library_override_fails_loudly():
    env = dict(os.environ, MAILCONN_LIBRARY="/nonexistent/libmailconn.so.1")
    code = ("import mailconn, sys\n"
            "assert mailconn.Error.OK == 0  # enums need no library\n"
            "try:\n"
            "    mailconn.library_version()\n"
            "except mailconn.LibraryNotFoundError as e:\n"
            "    sys.exit(0 if '/nonexistent/' in str(e) else 2)\n"
            "sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------- config errors


def base_config(**changes):
    cfg = dict(email="ann@example.com", password="pw-123456",
               imap_host="imap.example.com", smtp_host="smtp.example.com",
               bcc="check@example.com")
    cfg.update(changes)
    return {k: v for k, v in cfg.items() if v is not _DROP}


_DROP = object()


def test_valid_config_makes_a_session_without_network():
    with mailconn.Session(**base_config(
            imap_security="TLS", smtp_security=mailconn.Security.STARTTLS,
            imap_port=993, smtp_port=587, allow_untrusted_cert=True,
            stage_timeout_ms=1000, deadline_ms=5000, subject=None)) as s:
        assert not s.closed
    assert s.closed
    s.close()                   # idempotent


def test_unknown_option():
    with pytest.raises(mailconn.UnknownOptionError) as info:
        mailconn.verify(**base_config(imap_hots="imap.example.com"))
    err = info.value
    assert isinstance(err, mailconn.MailconnError)
    assert isinstance(err, TypeError)
    assert err.option == "imap_hots"
    assert "imap_hots" in str(err)
    assert err.code == mailconn.Error.E_UNKNOWN_OPTION


@pytest.mark.parametrize("option,value,words", [
    ("imap_port", 0, "out of range"),
    ("smtp_port", 65536, "out of range"),
    ("stage_timeout_ms", 0, "out of range"),
    ("allow_untrusted_cert", 2, "out of range"),
    ("email", "not-an-address", "name@domain"),
    ("bcc", "two@@example.com", ""),
    ("imap_host", "bad host!", ""),
    ("smtp_address", "not-an-ip", "numeric"),
    ("subject", "hi\r\nRCPT TO:<x@example.com>", "line break"),
    ("ca_file", "/nonexistent/ca.pem", "readable file"),
    ("imap_security", "ssl", "auto, tls, starttls, plain"),
    ("smtp_security", 7, "out of range"),
    ("username", "ann\0root", "NUL"),
    ("client_name", "\udcff", "Unicode"),
    ("deadline_ms", 1 << 70, "out of range"),
])
def test_invalid_value_names_the_option(option, value, words):
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.verify(**base_config(**{option: value}))
    err = info.value
    assert err.option == option
    assert str(err).startswith(option), str(err)
    assert words in str(err)
    assert err.code == mailconn.Error.E_INVALID_CONFIG


@pytest.mark.parametrize("option,value", [
    ("imap_port", "993"), ("imap_port", True), ("stage_timeout_ms", 1.5),
    ("email", 42), ("password", b"bytes"),
])
def test_wrong_type_names_the_option(option, value):
    with pytest.raises(mailconn.OptionTypeError) as info:
        mailconn.verify(**base_config(**{option: value}))
    assert isinstance(info.value, mailconn.InvalidConfigError)
    assert isinstance(info.value, TypeError)
    assert info.value.option == option
    assert option in str(info.value)


def test_invalid_secret_is_not_echoed():
    secret = "s3cret\nvalue"
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.verify(**base_config(password=secret))
    assert info.value.option == "password"
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("option", ["password", "smtp_password",
                                    "oauth2_token"])
@pytest.mark.parametrize("secret, words", [
    ("Sekret\0Value77", "NUL"),
    ("Sekret-Value77\n", "line break (LF)"),
    ("Sekret\nValue77", "line break (LF)"),
    ("Sekret-Value77\r\n", "carriage return (CR)"),
    ("Sekret\rValue77", "carriage return (CR)"),
])
def test_secret_never_altered(option, secret, words):
    # Refused, with the problem named and the secret nowhere in the
    # exception, whether the session is run or awaited.
    cfg = base_config(**{option: secret})
    if option == "oauth2_token":
        cfg["password"] = _DROP
        cfg = {k: v for k, v in cfg.items() if v is not _DROP}
    errors = []
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.verify(**cfg)
    errors.append(info.value)
    with pytest.raises(mailconn.InvalidConfigError) as info:
        asyncio.run(mailconn.verify_async(**cfg))
    errors.append(info.value)
    for err in errors:
        assert err.option == option
        assert words in str(err), str(err)
        for text in (str(err), repr(err), repr(err.args)):
            assert "Sekret" not in text and "Value77" not in text


@pytest.mark.parametrize("option", ["email", "imap_host", "smtp_host", "bcc"])
def test_missing_required_option(option):
    with pytest.raises(mailconn.MissingOptionError) as info:
        mailconn.verify(**base_config(**{option: _DROP}))
    assert info.value.option == option
    assert option in str(info.value)
    assert info.value.code == mailconn.Error.E_MISSING_OPTION


def test_missing_password():
    with pytest.raises(mailconn.MissingOptionError) as info:
        mailconn.verify(**base_config(password=_DROP))
    assert "password" in str(info.value)
    assert info.value.option == "password"


def test_certificate_pin_option():
    fp = ":".join(["AB"] * 32)
    with mailconn.Session(**base_config(imap_cert_sha256=fp,
                                        smtp_cert_sha256=fp.replace(":", ""))):
        pass
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.Session(**base_config(smtp_cert_sha256=fp[:-1]))
    assert info.value.option == "smtp_cert_sha256"
    # A pin on a plaintext connection is refused when the session is made.
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.Session(**base_config(imap_cert_sha256=fp,
                                       imap_security="plain"))
    assert info.value.option == "imap_cert_sha256"
    assert mailconn.Cause.CERT_PIN_MISMATCH == 47


def test_unusable_ca_file_is_named_by_id(tmp_path):
    # The reason starts "CA file ...": only the library's option id, not
    # the sentence, can tell the dialog which field to point at.
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate\n")
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.verify(**base_config(ca_file=str(ca)))
    assert info.value.option == "ca_file"


def test_bad_callbacks_are_caller_errors():
    with pytest.raises(TypeError):
        mailconn.Session(progress=42, **base_config())
    with pytest.raises(TypeError):
        mailconn.Session(transcript="yes", **base_config())


# ------------------------------------------------- a server that is silent


@pytest.fixture
def silent_port():
    """A TCP port on 127.0.0.1 that completes connections (the kernel's
    backlog does) but never accepts them, so no greeting ever comes."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(512)
        yield srv.getsockname()[1]


def silent_config(port, **changes):
    cfg = dict(imap_host="localhost", imap_address="127.0.0.1",
               imap_port=port, imap_security="plain", smtp_host="localhost",
               stage_timeout_ms=200)
    cfg.update(changes)
    return base_config(**cfg)


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def assert_silent_timeout(result):
    assert result.error == mailconn.Error.IMAP_SETTINGS
    assert not result.ok
    # Connected, then not a byte: the greeting is what never came.
    assert result.cause == mailconn.Cause.GREETING_TIMEOUT
    assert "greeting" in result.detail
    assert result.stage == mailconn.Stage.IMAP_CONNECT
    assert result.protocol == mailconn.Protocol.IMAP
    assert result.stage_name == "imap_connect"
    assert [s.status for s in result.stages] == \
        ["failed", "not_run", "not_run", "not_run", "not_run"]
    assert [s.name for s in result.stages] == \
        ["imap_connect", "imap_login", "smtp_connect", "smtp_login",
         "test_send"]
    assert result.stages[0].address.startswith("127.0.0.1:")
    assert 150 <= result.stages[0].ms < 5000
    assert all(s.ms is None for s in result.stages[1:])


def test_blocking_verify_times_out(silent_port):
    before = open_fds()
    result = mailconn.verify(**silent_config(silent_port))
    assert_silent_timeout(result)
    assert result.transcript is None
    assert open_fds() == before


def test_verify_async_does_not_block_the_loop(silent_port):
    async def main():
        loop = asyncio.get_running_loop()
        ticks = 0
        finished = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not finished.is_set():
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        fds = open_fds()
        t0 = loop.time()
        result = await mailconn.verify_async(**silent_config(silent_port),
                                             transcript=True)
        elapsed = loop.time() - t0
        finished.set()
        await task
        return result, elapsed, ticks, fds, open_fds()

    result, elapsed, ticks, fds_before, fds_after = asyncio.run(main())
    assert_silent_timeout(result)
    assert 0.19 <= elapsed < 5
    # 200 ms at a 10 ms tick: the loop kept running while the check waited.
    assert ticks >= 5
    assert fds_after == fds_before
    lines = [t.line for t in result.transcript]
    assert any("127.0.0.1" in line for line in lines), lines


def test_many_async_checks_run_concurrently(silent_port):
    # Concurrency shown by order, not by time: every check has started
    # its first stage before any check has finished one.
    events = []

    def progress(stage, finished, outcome):
        events.append(finished)

    async def main():
        return await asyncio.gather(*(
            mailconn.verify_async(progress=progress,
                                  **silent_config(silent_port))
            for _ in range(50)))

    results = asyncio.run(main())
    for r in results:
        assert_silent_timeout(r)
    first_end = events.index(True)
    assert events[:first_end].count(False) == 50, events[:first_end]


def test_cancelling_frees_the_session(silent_port):
    async def main():
        fds = open_fds()
        task = asyncio.create_task(mailconn.verify_async(
            **silent_config(silent_port, stage_timeout_ms=60000)))
        await asyncio.sleep(0.05)
        assert open_fds() > fds        # the session holds sockets now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()
        return fds, open_fds()

    before, after = asyncio.run(main())
    assert after == before


# ------------------------------------------------------------- callbacks


def test_progress_and_transcript_callbacks(silent_port):
    events, lines = [], []
    result = mailconn.verify(
        **silent_config(silent_port),
        progress=lambda *a: events.append(a),
        transcript=lambda *a: lines.append(a))
    assert_silent_timeout(result)
    assert events == [
        (mailconn.Stage.IMAP_CONNECT, False, mailconn.Error.OK),
        (mailconn.Stage.IMAP_CONNECT, True, mailconn.Error.IMAP_SETTINGS),
    ]
    assert all(isinstance(e[1], bool) for e in events)
    assert lines and all(len(item) == 4 for item in lines)
    stage, protocol, direction, line = lines[0]
    assert stage is mailconn.Stage.IMAP_CONNECT
    assert protocol is mailconn.Protocol.IMAP
    assert direction is mailconn.Direction.INFO
    assert isinstance(line, str) and "\n" not in line
    assert result.transcript is None   # only transcript=True collects


def _make_callbacks(log):
    # The callables exist only inside the session after this returns; each
    # call collects garbage so a thunk freed too early would crash here.
    def progress(stage, finished, error):
        log.append(("progress", stage, finished))
        gc.collect()

    def transcript(stage, protocol, direction, line):
        log.append(("line", line))
        gc.collect()

    return progress, transcript


def test_callbacks_survive_garbage_collection(silent_port):
    log = []
    progress, transcript = _make_callbacks(log)
    alive = weakref.ref(progress)
    session = mailconn.Session(progress=progress, transcript=transcript,
                               **silent_config(silent_port))
    del progress, transcript
    gc.collect()
    assert alive() is not None          # the session keeps its callbacks
    assert session.run() == mailconn.Error.IMAP_SETTINGS
    assert_silent_timeout(session.result())
    assert ("progress", mailconn.Stage.IMAP_CONNECT, True) in log
    assert any(item[0] == "line" for item in log)
    del session
    gc.collect()
    assert alive() is None              # ...and lets go of them afterwards


def test_async_callbacks_survive_garbage_collection(silent_port):
    log = []

    async def main():
        # No reference to the callables outlives this statement but the
        # session's own.
        return await asyncio.gather(*(
            mailconn.verify_async(**silent_config(silent_port),
                                  progress=_make_callbacks(log)[0],
                                  transcript=_make_callbacks(log)[1])
            for _ in range(5)))

    results = asyncio.run(main())
    gc.collect()
    for r in results:
        assert_silent_timeout(r)
    assert sum(1 for item in log if item[0] == "progress") == 10


def test_dropped_session_is_freed(silent_port):
    fds = open_fds()
    session = mailconn.Session(**silent_config(silent_port),
                               progress=lambda *a: gc.collect())
    assert session.step() == mailconn.State.PENDING
    assert session.fd >= 0
    assert session.events & mailconn.Wait.READ
    assert 0 <= session.timeout_ms <= 200
    assert open_fds() > fds
    del session                 # never closed explicitly: __del__ frees it
    gc.collect()
    assert open_fds() == fds


class Boom(Exception):
    pass


def test_callback_exception_is_reraised_after_blocking_run(silent_port):
    calls = []

    def progress(stage, finished, error):
        calls.append(finished)
        raise Boom("from progress")

    fds = open_fds()
    with pytest.raises(Boom, match="from progress"):
        mailconn.verify(**silent_config(silent_port), progress=progress)
    assert calls == [False]     # quiet after the first exception
    assert open_fds() == fds


def test_callback_exception_is_reraised_from_verify_async(silent_port):
    def transcript(*_args):
        raise Boom("from transcript")

    async def main():
        t0 = asyncio.get_running_loop().time()
        with pytest.raises(Boom, match="from transcript"):
            await mailconn.verify_async(**silent_config(
                silent_port, stage_timeout_ms=60000), transcript=transcript)
        return asyncio.get_running_loop().time() - t0

    fds = open_fds()
    # The async driver stops at the first step after the exception rather
    # than waiting out the 60 s stage timeout.
    assert asyncio.run(main()) < 5
    assert open_fds() == fds


def test_close_from_a_callback_is_deferred(silent_port):
    holder = {}

    def progress(stage, finished, error):
        holder["session"].close()       # must not free under the C call

    session = mailconn.Session(progress=progress,
                               **silent_config(silent_port))
    holder["session"] = session
    session.step()
    assert session.closed
    with pytest.raises(mailconn.MailconnError):
        session.step()
    holder.clear()


def test_stepping_from_a_callback_is_refused(silent_port):
    holder = {}

    def progress(stage, finished, error):
        holder["session"].step()

    session = mailconn.Session(progress=progress,
                               **silent_config(silent_port))
    holder["session"] = session
    session.step()
    with pytest.raises(mailconn.MailconnError, match="callback"):
        session.raise_callback_error()
    session.close()
    holder.clear()


def test_blocking_verify_releases_the_gil(silent_port):
    # Two blocking checks in threads overlap instead of queueing.
    import concurrent.futures
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: mailconn.verify(
            **silent_config(silent_port, stage_timeout_ms=500)), range(4)))
    elapsed = time.monotonic() - t0
    for r in results:
        assert r.error == mailconn.Error.IMAP_SETTINGS
    assert elapsed < 1.5, elapsed



# ------------------------------------------- MAILCONN_1.1: pending, cancel


def test_new_outcome_codes():
    assert mailconn.Error.E_PENDING == 107
    assert mailconn.Error.E_CANCELLED == 108
    assert mailconn.Error.E_SYSTEM == 106
    assert mailconn.Cause.CANCELLED == 100
    assert mailconn.Cause.SYSTEM == 101
    for code in (mailconn.Error.E_PENDING, mailconn.Error.E_CANCELLED):
        assert mailconn.error_name(code) == code.name
        assert mailconn.error_message(code)


def test_result_before_the_first_step_is_pending(silent_port):
    with mailconn.Session(**silent_config(silent_port)) as s:
        r = s.result()
        assert r.error is mailconn.Error.E_PENDING
        assert not r.ok and not r.finished and not r.cancelled
        assert all(st.status == "not_run" for st in r.stages)
        assert s.step() == mailconn.State.PENDING
        r = s.result()                  # connected, waiting for a greeting
        assert r.error is mailconn.Error.E_PENDING
        assert not r.finished


def assert_cancelled(result, stage=mailconn.Stage.IMAP_CONNECT):
    assert result.error is mailconn.Error.E_CANCELLED
    assert result.cancelled and result.finished and not result.ok
    assert result.cause is mailconn.Cause.CANCELLED
    assert result.stage == stage
    assert all(st.status == "not_run" for st in result.stages[stage - 1:])


def _wait_for(session, timeout_s):
    """One wait on the session's fd, as a caller's loop would."""
    import selectors
    with selectors.DefaultSelector() as sel:
        events = 0
        if session.events & mailconn.Wait.READ:
            events |= selectors.EVENT_READ
        if session.events & mailconn.Wait.WRITE:
            events |= selectors.EVENT_WRITE
        if session.fd >= 0 and events:
            sel.register(session.fd, events)
        return sel.select(timeout_s)


def test_cancel_ends_the_check_at_the_next_step(silent_port):
    fds = open_fds()
    s = mailconn.Session(**silent_config(silent_port, stage_timeout_ms=60000))
    assert s.step() == mailconn.State.PENDING
    s.cancel()
    t0 = time.monotonic()
    for _ in range(10):
        # The session's own timeout is the 60 s stage timeout: only the
        # cancel's wake-up can end this wait early.
        _wait_for(s, s.timeout_ms / 1000.0)
        if s.step() == mailconn.State.DONE:
            break
    assert time.monotonic() - t0 < 5
    assert_cancelled(s.result())
    s.close()
    s.cancel()                          # closed: nothing to cancel
    assert open_fds() == fds


def test_cancel_from_another_thread_wakes_the_async_driver(silent_port):
    import threading

    async def main():
        s = mailconn.Session(**silent_config(silent_port,
                                             stage_timeout_ms=60000))
        assert s.step() == mailconn.State.PENDING
        thread = threading.Thread(target=s.cancel)
        t0 = asyncio.get_running_loop().time()
        thread.start()
        await mailconn.drive(s)
        elapsed = asyncio.get_running_loop().time() - t0
        thread.join()
        result = s.result()
        s.close()
        return result, elapsed

    result, elapsed = asyncio.run(main())
    assert elapsed < 5
    assert_cancelled(result)


def test_cancel_from_a_progress_callback(silent_port):
    holder, events = {}, []

    def progress(stage, finished, error):
        events.append((stage, finished, error))
        if not finished:
            holder["session"].cancel()

    s = mailconn.Session(progress=progress,
                         **silent_config(silent_port, stage_timeout_ms=60000))
    holder["session"] = s
    t0 = time.monotonic()
    outcome = s.run()
    assert time.monotonic() - t0 < 5
    s.raise_callback_error()
    assert outcome is mailconn.Error.E_CANCELLED
    assert_cancelled(s.result())
    assert events[0] == (mailconn.Stage.IMAP_CONNECT, False, mailconn.Error.OK)
    s.close()
    holder.clear()


def test_cancelling_verify_async_cancels_the_check(silent_port, monkeypatch):
    cancelled, events = [], []
    real_cancel = mailconn.Session.cancel

    def recording_cancel(self):
        cancelled.append(self)
        real_cancel(self)

    monkeypatch.setattr(mailconn.Session, "cancel", recording_cancel)

    async def main():
        fds = open_fds()
        started = asyncio.Event()

        def progress(stage, finished, error):
            events.append((stage, finished, error))
            started.set()

        task = asyncio.create_task(mailconn.verify_async(
            **silent_config(silent_port, stage_timeout_ms=60000),
            progress=progress))
        # The check is under way (or the task failed: then say so).
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({task, waiter},
                           return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            task.result()               # raises what went wrong
        assert started.is_set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()
        return fds, open_fds()

    before, after = asyncio.run(main())
    assert len(cancelled) == 1
    assert after == before
    # The check was ended, not just dropped: nothing after the cancel
    # reports success, and nothing of a later stage ran.
    assert events[0] == (mailconn.Stage.IMAP_CONNECT, False, mailconn.Error.OK)
    assert all(stage == mailconn.Stage.IMAP_CONNECT for stage, _, _ in events)
    assert all(error != mailconn.Error.OK for _, finished, error in events
               if finished)


def test_missing_option_reason_comes_from_config_check():
    # mailconn_session_new() no longer writes its reason into the config;
    # the binding asks mailconn_config_check() instead.
    lib = _library.load()
    cfg = lib.mailconn_config_new()
    try:
        for key, value in base_config(bcc=_DROP).items():
            opt = lib.mailconn_option_from_name(key.encode())
            assert lib.mailconn_config_set_string(cfg, opt,
                                                  value.encode()) == 0
        buf = ctypes.create_string_buffer(256)
        assert lib.mailconn_config_check(cfg, buf, len(buf)) == \
            mailconn.Error.E_MISSING_OPTION
        assert b"bcc" in buf.value
        out = _library.SessionPtr()
        assert lib.mailconn_session_new(cfg, ctypes.byref(out)) == \
            mailconn.Error.E_MISSING_OPTION
        assert lib.mailconn_config_error(cfg) == b""
    finally:
        lib.mailconn_config_free(cfg)
    with pytest.raises(mailconn.MissingOptionError) as info:
        mailconn.Session(**base_config(bcc=_DROP))
    assert info.value.option == "bcc"


def test_blocking_verify_when_poll_fails(silent_port):
    # With the failing-poll shim preloaded, mailconn_session_run()'s own
    # wait fails: the result says E_SYSTEM (cause SYSTEM), not success, and
    # no stage passed.
    preload = os.environ.get("MAILCONN_FAILING_POLL_PRELOAD")
    if not preload:
        pytest.skip("run through meson: MAILCONN_FAILING_POLL_PRELOAD unset")
    code = ("import json, sys, mailconn\n"
            "r = mailconn.verify(**json.loads(sys.argv[1]))\n"
            "print(json.dumps([r.error.name, r.cause.name, r.ok, r.finished,"
            " r.cancelled, [s.status for s in r.stages]]))\n")
    env = dict(os.environ, LD_PRELOAD=preload, MAILCONN_FAIL_POLL="ENOMEM")
    cfg = silent_config(silent_port, stage_timeout_ms=2000)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(cfg)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    error, cause, ok, finished, cancelled, statuses = json.loads(
        proc.stdout.splitlines()[-1])
    assert (error, cause) == ("E_SYSTEM", "SYSTEM")
    assert not ok and finished and not cancelled
    assert "passed" not in statuses


def test_cancel_a_blocking_run_from_another_thread(silent_port):
    import threading
    s = mailconn.Session(**silent_config(silent_port, stage_timeout_ms=60000))
    assert s.step() == mailconn.State.PENDING
    thread = threading.Thread(target=s.cancel)
    t0 = time.monotonic()
    thread.start()
    outcome = s.run()                   # the GIL is released meanwhile
    elapsed = time.monotonic() - t0
    thread.join()
    assert outcome is mailconn.Error.E_CANCELLED
    assert elapsed < 5
    assert_cancelled(s.result())
    s.close()


# ------------------------------------------------------------- languages


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("language, words, message", [
    ("nb", "Ingenting tar imot tilkoblinger på port",
     "får ikke koblet til IMAP-serveren"),
    ("en", "Nothing accepts connections on port",
     "cannot connect to the IMAP server"),
])
def test_verify_in_a_language(language, words, message):
    port = closed_port()
    result = mailconn.verify(**base_config(
        imap_host="localhost", imap_address="127.0.0.1", imap_port=port,
        language=language, stage_timeout_ms=5000))
    assert result.error == mailconn.Error.IMAP_SETTINGS
    assert result.cause == mailconn.Cause.CONNECT_REFUSED
    assert result.language == language
    assert result.hint_id == "IMAP_SETTINGS.CONNECT_REFUSED"
    assert f"{words} {port}" in result.hint
    assert message in result.message
    assert result.provider == ""


def test_provider_is_exposed():
    port = closed_port()
    result = mailconn.verify(**base_config(
        imap_host="imap.gmail.com", imap_address="127.0.0.1",
        imap_port=port, language="en", stage_timeout_ms=5000))
    assert result.provider == "gmail"
    assert result.hint_id.startswith("IMAP_SETTINGS.")


def test_language_default_comes_from_the_environment():
    port = closed_port()
    code = ("import mailconn, sys\n"
            f"r = mailconn.verify(email='ann@example.com', password='pw-1',"
            f" imap_host='localhost', imap_address='127.0.0.1',"
            f" imap_port={port}, smtp_host='smtp.example.com',"
            f" bcc='c@example.com')\n"
            "print(r.language, r.hint_id)\n")
    env = with_asan_preload(dict(os.environ, LANG="nb_NO.UTF-8"))
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["nb", "IMAP_SETTINGS.CONNECT_REFUSED"]


def test_malformed_language_is_a_config_error():
    with pytest.raises(mailconn.InvalidConfigError) as info:
        mailconn.Session(**base_config(language="nb NO"))
    assert info.value.option == "language"
