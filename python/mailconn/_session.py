# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sessions, results, and the blocking and asyncio entry points."""

import asyncio
import ctypes
import dataclasses
import os
import typing

from . import _library
from ._enums import (Cause, Direction, Error, Fact, Option, Protocol,
                     Security, Stage, State, Wait)
from ._errors import (InvalidConfigError, MailconnError, OptionTypeError,
                      OutOfMemoryError, UnknownOptionError, error_for_code)

__all__ = ["Session", "Result", "StageResult", "TranscriptLine", "verify",
           "verify_async"]

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_SECURITY_OPTIONS = (Option.IMAP_SECURITY, Option.SMTP_SECURITY)
_FLAG_OPTIONS = (Option.ALLOW_UNTRUSTED_CERT, Option.OVERLAP)
_STAGES = (Stage.IMAP_CONNECT, Stage.IMAP_LOGIN, Stage.SMTP_CONNECT,
           Stage.SMTP_LOGIN, Stage.TEST_SEND)
_IMAP_STAGES = (Stage.IMAP_CONNECT, Stage.IMAP_LOGIN)
_STATUS = {1: "passed", 0: "failed", -1: "not_run"}


class TranscriptLine(typing.NamedTuple):
    """One protocol line, secrets already "[redacted]" by the library."""

    stage: Stage
    protocol: Protocol
    direction: Direction
    line: str


@dataclasses.dataclass(frozen=True)
class StageResult:
    """What happened in one stage. Facts not recorded are None."""

    stage: Stage
    name: str
    status: str                 # 'passed', 'failed' or 'not_run'
    ms: typing.Optional[int]    # None when the stage did not run
    address: typing.Optional[str]
    tls_version: typing.Optional[str]
    tls_cipher: typing.Optional[str]
    cert_sha256: typing.Optional[str]
    cert_subject: typing.Optional[str]
    capabilities: typing.List[str]
    mechanism: typing.Optional[str]
    message_id: typing.Optional[str]
    # This side of the connection (connect stages), for IP allow-lists.
    local_address: typing.Optional[str] = None

    @property
    def passed(self):
        return self.status == "passed"


@dataclasses.dataclass(frozen=True)
class Result:
    """The outcome of one verification. Failures are data, not exceptions:
    .error is Error.OK on success or one of the eight outcome codes, or:
    Error.E_CANCELLED when Session.cancel() (or cancelling the task of
    verify_async()) stopped the check, Error.E_SYSTEM when the blocking wait
    of Session.run()/verify() failed, Error.E_PENDING when the result was
    taken before the check finished (Session.result() mid-way)."""

    error: Error
    cause: Cause
    stage: Stage
    protocol: Protocol
    server_reply: str
    detail: str
    hint: str                   # in .language
    message: str                # one-line description of .error, in .language
    stages: typing.List[StageResult]
    transcript: typing.Optional[typing.List[TranscriptLine]] = None
    # Stable id of .hint ("OUTCOME.CAUSE[.provider]"), "" on success: for
    # applications that show their own texts.
    hint_id: str = ""
    provider: str = ""          # recognised provider id, e.g. "gmail", or ""
    language: str = "en"        # language of hint and message: "en" or "nb"

    @property
    def ok(self):
        return self.error == Error.OK

    @property
    def finished(self):
        """False only for a result taken while the check was pending."""
        return self.error != Error.E_PENDING

    @property
    def cancelled(self):
        return self.error == Error.E_CANCELLED

    @property
    def stage_name(self):
        """The library's name of .stage, e.g. "imap_login"."""
        if 1 <= self.stage <= len(self.stages):
            return self.stages[self.stage - 1].name
        return self.stage.name.lower()


def _coerce(enum_cls, value):
    return enum_cls(int(value))


class _Callbacks:
    """The ctypes thunks of one session, and the first exception a user
    callback raised.

    A ctypes callback must not let an exception escape into C; the thunks
    here catch everything, keep the first exception, stay quiet after it,
    and the session's owner re-raises it once the C call has returned.
    The owning Session keeps this object (so the thunks) alive for as long
    as the C session exists.
    """

    def __init__(self, progress, transcript):
        self.error = None
        self.lines = None
        # NULL function pointers until a callable is given: ctypes does
        # not accept None for a CFUNCTYPE argument.
        self.progress_fn = _library.PROGRESS_FN()
        self.transcript_fn = _library.TRANSCRIPT_FN()
        if progress is not None:
            if not callable(progress):
                raise TypeError("progress must be callable")
            self.progress_fn = _library.PROGRESS_FN(
                self._progress_thunk(progress))
        if transcript is True:
            self.lines = []
            sink = self.lines.append
        elif transcript is False or transcript is None:
            sink = None
        elif callable(transcript):
            sink = transcript
        else:
            raise TypeError("transcript must be a bool or a callable")
        if sink is not None:
            self.transcript_fn = _library.TRANSCRIPT_FN(
                self._transcript_thunk(sink, collect=transcript is True))

    def _progress_thunk(self, user):
        def thunk(_userdata, stage, finished, outcome):
            if self.error is not None:
                return
            try:
                user(_coerce(Stage, stage), bool(finished),
                     _coerce(Error, outcome))
            except BaseException as exc:  # noqa: B902 - re-raised later
                self.error = exc
        return thunk

    def _transcript_thunk(self, user, collect):
        def thunk(_userdata, stage, protocol, direction, line):
            if self.error is not None:
                return
            try:
                item = TranscriptLine(_coerce(Stage, stage),
                                      _coerce(Protocol, protocol),
                                      _coerce(Direction, direction),
                                      _library.text(line) or "")
                if collect:
                    user(item)
                else:
                    user(*item)
            except BaseException as exc:  # noqa: B902 - re-raised later
                self.error = exc
        return thunk

    def reraise(self):
        exc, self.error = self.error, None
        if exc is not None:
            raise exc


_SECRET_OPTIONS = frozenset({"password", "smtp_password", "oauth2_token"})


def _set_option(lib, cfg, key, value):
    if not isinstance(key, str) or "\0" in key or not key.isascii():
        raise UnknownOptionError(f"unknown option {key!r}", option=str(key))
    opt = lib.mailconn_option_from_name(key.encode("ascii"))
    if opt < 0:
        raise UnknownOptionError(f"unknown option {key!r}", option=key)
    name = _library.text(lib.mailconn_option_name(opt)) or key
    if value is None:
        return                  # "not given": keep the library default
    if opt < 100:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str):
            raise OptionTypeError(
                f"{name} takes a string, not {type(value).__name__}",
                option=name)
        # ctypes would silently cut the value at a NUL.
        if "\0" in value:
            raise InvalidConfigError(f"{name} contains a NUL character",
                                     option=name)
        # A secret goes to the server exactly as given or not at all; a
        # caller who read it from a file most likely kept the newline, so
        # the message says which character it is (never the value).
        if name in _SECRET_OPTIONS:
            for char, what in (("\r", "a carriage return (CR)"),
                               ("\n", "a line break (LF)")):
                if char in value:
                    raise InvalidConfigError(
                        f"{name} contains {what}, which a password or "
                        f"token cannot carry (strip a trailing newline "
                        f"read from a file)", option=name)
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidConfigError(f"{name} is not valid Unicode text",
                                     option=name) from None
        rc = lib.mailconn_config_set_string(cfg, opt, raw)
    else:
        number = _int_value(opt, name, value)
        rc = lib.mailconn_config_set_int(cfg, opt, number)
    if rc != Error.OK:
        raise error_for_code(rc, _library.text(lib.mailconn_config_error(cfg)),
                             option=name)


def _int_value(opt, name, value):
    if opt in _SECURITY_OPTIONS and isinstance(value, str):
        try:
            return int(Security[value.strip().upper()])
        except KeyError:
            raise InvalidConfigError(
                f"{name} must be one of auto, tls, starttls, plain, "
                f"not {value!r}", option=name) from None
    if opt in _FLAG_OPTIONS and isinstance(value, bool):
        return int(value)
    # A bool for a port or a timeout is a mistake, not the number 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionTypeError(
            f"{name} takes an integer, not {type(value).__name__}",
            option=name)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidConfigError(f"{name}: {value} is out of range",
                                 option=name)
    return int(value)


def _option_name(lib, opt):
    return _library.text(lib.mailconn_option_name(opt)) if opt else None


class Session:
    """One verification run over the C session, for callers who drive it
    themselves (selectors, another event loop). verify() and
    verify_async() are the simple way.

    Config keys are the option names of mailconn_option_from_name(): email,
    password, imap_host, imap_port, imap_security ('auto', 'tls',
    'starttls', 'plain' or a Security), allow_untrusted_cert and overlap
    (bool), language ('en', 'nb'; default from LC_ALL, LC_MESSAGES, LANG),
    ... A value of None leaves the option unset. progress is
    called as progress(stage, finished, error); transcript=True collects
    TranscriptLine items into Result.transcript, a callable is called as
    fn(stage, protocol, direction, line).
    """

    def __init__(self, *, progress=None, transcript=False, **config):
        self._ptr = None
        self._busy = False
        self._close_pending = False
        lib = _library.load()
        # Held for __del__: module globals may be gone at interpreter exit.
        self._lib = lib
        self._callbacks = _Callbacks(progress, transcript)
        cfg = lib.mailconn_config_new()
        if not cfg:
            raise OutOfMemoryError("mailconn_config_new failed",
                                   code=Error.E_NOMEM)
        try:
            for key, value in config.items():
                _set_option(lib, cfg, key, value)
            lib.mailconn_config_set_progress(cfg, self._callbacks.progress_fn,
                                             None)
            lib.mailconn_config_set_transcript(
                cfg, self._callbacks.transcript_fn, None)
            out = _library.SessionPtr()
            rc = lib.mailconn_session_new(cfg, ctypes.byref(out))
            if rc != Error.OK:
                reason = ctypes.create_string_buffer(256)
                bad = _library._enum(0)
                lib.mailconn_config_check_option(cfg, reason, len(reason),
                                                 ctypes.byref(bad))
                message = _library.text(reason.value)
                raise error_for_code(
                    rc, message or f"mailconn_session_new: {Error(rc).name}",
                    option=_option_name(lib, bad.value))
            self._ptr = out
        finally:
            # The session holds its own copy; free the config (and wipe its
            # secrets) at once rather than whenever the GC gets to it.
            lib.mailconn_config_free(cfg)

    # -- driving

    def _handle(self):
        if self._ptr is None:
            raise MailconnError("session is closed")
        return self._ptr

    def step(self):
        """Advance without blocking; returns State.PENDING or State.DONE."""
        ptr = self._handle()
        if self._busy:
            raise MailconnError("a session callback may not step its session")
        self._busy = True
        try:
            state = self._lib.mailconn_session_step(ptr)
        finally:
            self._busy = False
            if self._close_pending:
                self.close()
        return _coerce(State, state)

    def run(self):
        """Block until done (mailconn_session_run); returns the outcome.
        The GIL is released meanwhile; callbacks take it back."""
        ptr = self._handle()
        if self._busy:
            raise MailconnError("a session callback may not run its session")
        self._busy = True
        try:
            outcome = self._lib.mailconn_session_run(ptr)
        finally:
            self._busy = False
            if self._close_pending:
                self.close()
        return _coerce(Error, outcome)

    def cancel(self):
        """Stop the check: it ends at the next step (the fd becomes readable
        to wake the caller's loop) with Error.E_CANCELLED. Callable from any
        thread and from this session's callbacks, but not concurrently with
        close(); a no-op on a closed session."""
        ptr = self._ptr
        if ptr is None:
            return
        rc = self._lib.mailconn_session_cancel(ptr)
        if rc != Error.OK:
            raise error_for_code(rc, f"mailconn_session_cancel: "
                                 f"{_coerce(Error, rc).name}")

    @property
    def fd(self):
        """The fd to wait on, or -1; may change after any step."""
        return self._lib.mailconn_session_fd(self._handle())

    @property
    def events(self):
        """Wait.READ and/or Wait.WRITE for fd."""
        return Wait(self._lib.mailconn_session_events(self._handle()) & 3)

    @property
    def timeout_ms(self):
        """Milliseconds until step() is due anyway; 0 now, -1 never."""
        return self._lib.mailconn_session_timeout_ms(self._handle())

    @property
    def closed(self):
        return self._ptr is None

    # -- results

    def result(self):
        """Everything the session knows now, as a Result (copied: it stays
        valid after the next step and after close())."""
        lib, ptr = self._lib, self._handle()
        error = _coerce(Error, lib.mailconn_session_outcome(ptr))
        stages = [self._stage_result(st) for st in _STAGES]
        lines = self._callbacks.lines
        return Result(
            error=error,
            cause=_coerce(Cause, lib.mailconn_session_cause(ptr)),
            stage=_coerce(Stage, lib.mailconn_session_stage(ptr)),
            protocol=_coerce(Protocol, lib.mailconn_session_protocol(ptr)),
            server_reply=_library.text(
                lib.mailconn_session_server_reply(ptr)) or "",
            detail=_library.text(lib.mailconn_session_detail(ptr)) or "",
            hint=_library.text(lib.mailconn_session_hint(ptr)) or "",
            message=_library.text(lib.mailconn_session_message(ptr)) or "",
            stages=stages,
            transcript=list(lines) if lines is not None else None,
            hint_id=_library.text(lib.mailconn_session_hint_id(ptr)) or "",
            provider=_library.text(lib.mailconn_session_provider(ptr)) or "",
            language=_library.text(lib.mailconn_session_language(ptr)) or "en")

    def _stage_result(self, stage):
        lib, ptr = self._lib, self._ptr

        def fact(which):
            return _library.text(lib.mailconn_session_fact(ptr, stage,
                                                           which)) or None

        status = _STATUS.get(lib.mailconn_session_stage_passed(ptr, stage),
                             "not_run")
        ms = lib.mailconn_session_stage_ms(ptr, stage)
        caps = fact(Fact.CAPABILITIES) or ""
        sep = " " if stage in _IMAP_STAGES else "\n"
        return StageResult(
            stage=stage,
            name=_library.text(lib.mailconn_stage_name(stage)) or "",
            status=status,
            ms=None if ms < 0 else int(ms),
            address=fact(Fact.ADDRESS),
            tls_version=fact(Fact.TLS_VERSION),
            tls_cipher=fact(Fact.TLS_CIPHER),
            cert_sha256=fact(Fact.CERT_SHA256),
            cert_subject=fact(Fact.CERT_SUBJECT),
            capabilities=[c for c in caps.split(sep) if c],
            mechanism=fact(Fact.AUTH_MECHANISM),
            message_id=fact(Fact.MESSAGE_ID),
            local_address=fact(Fact.LOCAL_ADDRESS))

    def raise_callback_error(self):
        """Re-raise (once) the first exception a user callback raised."""
        self._callbacks.reraise()

    # -- lifetime

    def close(self):
        """Free the C session (idempotent). From inside one of this
        session's callbacks the free is deferred until the step returns."""
        if self._busy:
            self._close_pending = True
            return
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            self._lib.mailconn_session_free(ptr)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:       # noqa: BLE001 - nothing to report to
            pass


def verify(*, progress=None, transcript=False, **config):
    """Run the five stages, blocking this thread (not the others: the GIL is
    released), and return a Result. Caller errors raise MailconnError;
    an exception from a callback is re-raised after the session ended."""
    session = Session(progress=progress, transcript=transcript, **config)
    try:
        session.run()
        result = session.result()
    finally:
        session.close()
    session.raise_callback_error()
    return result


class _LoopDriver:
    """Steps a Session from an asyncio loop: a reader (and writer when
    asked) on the session's fd plus one timer, re-armed after every step."""

    def __init__(self, loop, session):
        self.loop = loop
        self.session = session
        self.future = loop.create_future()
        self.fd = -1
        self.events = 0
        self.timer = None

    def start(self):
        self._wake()
        return self.future

    def _wake(self):
        if self.future.done():
            return              # a reader and the timer fired together
        self.timer = None
        try:
            state = self.session.step()
            if (state == State.DONE or
                    self.session._callbacks.error is not None):
                self._finish()
            else:
                self._arm()
        except BaseException as exc:  # noqa: B902 - handed to the awaiter
            self._finish(exc)

    def _arm(self):
        s = self.session
        fd, events, timeout = s.fd, int(s.events), s.timeout_ms
        if fd < 0:
            events = 0
        if (fd, events) != (self.fd, self.events):
            # Unregister before the next step: that is when the library
            # closes an fd it stopped using.
            self._unwatch()
            if events & Wait.READ:
                self.loop.add_reader(fd, self._wake)
            if events & Wait.WRITE:
                self.loop.add_writer(fd, self._wake)
            self.fd, self.events = fd, events
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if timeout == 0:
            self.timer = self.loop.call_soon(self._wake)
        elif timeout > 0:
            self.timer = self.loop.call_later(timeout / 1000.0, self._wake)
        elif not events:
            raise MailconnError("session is pending but waits for nothing")

    def _unwatch(self):
        if self.events & Wait.READ:
            self.loop.remove_reader(self.fd)
        if self.events & Wait.WRITE:
            self.loop.remove_writer(self.fd)
        self.fd, self.events = -1, 0

    def stop(self):
        self._unwatch()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _finish(self, exc=None):
        self.stop()
        if self.future.done():
            return
        if exc is None:
            self.future.set_result(None)
        else:
            self.future.set_exception(exc)


async def drive(session):
    """Step `session` from the running loop until it is done."""
    driver = _LoopDriver(asyncio.get_running_loop(), session)
    try:
        await driver.start()
    finally:
        # Also on cancellation: nothing may fire for a freed session.
        driver.stop()


def _end_cancelled(session):
    """After Session.cancel(): the steps that end the check (bounded, none
    of them blocks), so the C side records the outcome and reports the end
    of the running stage before the session is freed."""
    try:
        for _ in range(4):
            if session.step() == State.DONE:
                break
    except MailconnError:
        pass                    # closed meanwhile: nothing left to end


async def verify_async(*, progress=None, transcript=False, **config):
    """verify() for asyncio: the session is stepped from the running loop
    (add_reader/add_writer and call_later), so thousands of checks can run
    in one thread. Cancelling the task cancels the check
    (mailconn_session_cancel) and frees the session."""
    session = Session(progress=progress, transcript=transcript, **config)
    try:
        try:
            await drive(session)
        except asyncio.CancelledError:
            session.cancel()
            _end_cancelled(session)
            raise
        result = session.result()
    finally:
        session.close()
    session.raise_callback_error()
    return result
