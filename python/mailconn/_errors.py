# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions for caller errors. A failed verification is not one of them:
it is a normal Result whose .error says why."""

from ._enums import Error

__all__ = [
    "MailconnError", "LibraryNotFoundError", "InvalidConfigError",
    "OptionTypeError", "UnknownOptionError", "MissingOptionError",
    "InvalidArgumentError", "OutOfMemoryError", "SystemResourceError",
    "error_for_code",
]


class MailconnError(Exception):
    """Base of every exception this package raises on its own.

    .code is the mailconn_error behind it (None when the library was not
    involved) and .option the name of the option concerned, if any.
    """

    code = None

    def __init__(self, message, *, code=None, option=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = Error(code)
        self.option = option


class LibraryNotFoundError(MailconnError, OSError):
    """libmailconn.so.1 could not be found or loaded."""


class InvalidConfigError(MailconnError, ValueError):
    """A configuration value was refused (MAILCONN_E_INVALID_CONFIG)."""

    code = Error.E_INVALID_CONFIG


class OptionTypeError(InvalidConfigError, TypeError):
    """A value of the wrong type for its option (MAILCONN_E_OPTION_TYPE)."""

    code = Error.E_OPTION_TYPE


class UnknownOptionError(MailconnError, TypeError):
    """No option of that name (MAILCONN_E_UNKNOWN_OPTION); a TypeError like
    any other unexpected keyword argument."""

    code = Error.E_UNKNOWN_OPTION


class MissingOptionError(MailconnError, ValueError):
    """A required option was not given (MAILCONN_E_MISSING_OPTION)."""

    code = Error.E_MISSING_OPTION


class InvalidArgumentError(MailconnError, ValueError):
    """MAILCONN_E_INVALID_ARGUMENT: a bug in this binding if ever seen."""

    code = Error.E_INVALID_ARGUMENT


class OutOfMemoryError(MailconnError, MemoryError):
    """MAILCONN_E_NOMEM."""

    code = Error.E_NOMEM


class SystemResourceError(MailconnError, OSError):
    """MAILCONN_E_SYSTEM: no thread, pipe or socket could be created."""

    code = Error.E_SYSTEM


_BY_CODE = {
    Error.E_INVALID_CONFIG: InvalidConfigError,
    Error.E_OPTION_TYPE: OptionTypeError,
    Error.E_UNKNOWN_OPTION: UnknownOptionError,
    Error.E_MISSING_OPTION: MissingOptionError,
    Error.E_INVALID_ARGUMENT: InvalidArgumentError,
    Error.E_NOMEM: OutOfMemoryError,
    Error.E_SYSTEM: SystemResourceError,
}


def error_for_code(code, message, option=None):
    """The exception for a caller-error code returned by an API call."""
    cls = _BY_CODE.get(code, MailconnError)
    return cls(message, code=code, option=option)
