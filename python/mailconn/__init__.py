# SPDX-License-Identifier: LGPL-2.1-or-later
"""libmailconn from Python: will this mailbox work over IMAP and SMTP?

Pure ctypes; needs libmailconn.so.1, found through MAILCONN_LIBRARY (a full
path), MAILCONN_BUILD_DIR or the source tree's build/ directory, then
ctypes.util.find_library("mailconn") and the directory meson installed to.

    import mailconn
    r = mailconn.verify(email="ann@example.com", password=pw,
                        imap_host="imap.example.com",
                        smtp_host="smtp.example.com", bcc="check@example.com")
    if not r.ok:
        print(r.error.name, r.stage_name, r.server_reply, r.hint)

    results = await asyncio.gather(*(mailconn.verify_async(**c) for c in cs))

Verification failures are results (Result.error is one of the eight
outcome codes); only caller mistakes raise, as MailconnError subclasses.
Python cannot wipe its own str objects, so a password passed from Python
also lives on in Python memory until collected; the library's copy is
wiped when the session is freed.
"""

from ._enums import (Cause, Direction, Error, Fact, Option, Outcome,
                     Protocol, Security, Stage, State, Wait)
from ._errors import (InvalidArgumentError, InvalidConfigError,
                      LibraryNotFoundError, MailconnError, MissingOptionError,
                      OptionTypeError, OutOfMemoryError, SystemResourceError,
                      UnknownOptionError)
from ._library import library_path
from ._session import (Result, Session, StageResult, TranscriptLine, drive,
                       verify, verify_async)
from . import _library

__version__ = "1.1.0"

__all__ = [
    "verify", "verify_async", "drive", "Session", "Result", "StageResult",
    "TranscriptLine",
    "Error", "Outcome", "Cause", "Stage", "Security", "Protocol", "Option",
    "State", "Direction", "Fact", "Wait",
    "MailconnError", "LibraryNotFoundError", "InvalidConfigError",
    "OptionTypeError", "UnknownOptionError", "MissingOptionError",
    "InvalidArgumentError", "OutOfMemoryError", "SystemResourceError",
    "library_version", "library_path", "error_name", "error_message",
    "error_hint", "cause_name", "stage_name",
]


def library_version():
    """The loaded library's version, e.g. "1.1.0"."""
    return _library.text(_library.load().mailconn_version())


def error_name(code):
    """The stable name of an Error code, e.g. "IMAP_SETTINGS"."""
    return _library.text(_library.load().mailconn_error_name(int(code)))


def error_message(code):
    """A one-line English description of an Error code."""
    return _library.text(_library.load().mailconn_error_message(int(code)))


def error_hint(code):
    """The generic advice for an outcome ("" for OK and caller errors)."""
    return _library.text(_library.load().mailconn_error_hint(int(code)))


def cause_name(cause):
    """The stable name of a Cause, e.g. "CERT_EXPIRED"."""
    return _library.text(_library.load().mailconn_cause_name(int(cause)))


def stage_name(stage):
    """The stable name of a Stage, e.g. "imap_connect"."""
    return _library.text(_library.load().mailconn_stage_name(int(stage)))
