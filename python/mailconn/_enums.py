# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python mirrors of the C enums in mailconn.h, with the same frozen values.

tests/python/test_binding.py parses the header and fails on any drift.
"""

import enum

__all__ = [
    "Error", "Outcome", "Cause", "Stage", "Security", "Protocol", "Option",
    "State", "Direction", "Fact", "Wait",
]


class _CEnum(enum.IntEnum):
    """An IntEnum that tolerates values appended by a newer library.

    The C enums only ever grow, so a newer libmailconn may hand back a
    value this module does not know; that must not turn a finished
    verification into a ValueError. Unknown values become pseudo-members
    named UNKNOWN_<value> that compare equal to the integer.
    """

    @classmethod
    def _missing_(cls, value):
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class Error(_CEnum):
    """mailconn_error: a verification outcome (0-8) or caller error (100+).

    Three of the 100+ codes can also be a session's outcome: E_PENDING (the
    check has not finished), E_CANCELLED (Session.cancel() stopped it) and
    E_SYSTEM (mailconn_session_run()'s own wait failed).
    """

    OK = 0
    IMAP_SETTINGS = 1
    IMAP_AUTH = 2
    IMAP_VALIDATION = 3
    SMTP_SETTINGS = 4
    TEST_SEND = 5
    UNAUTHORIZED = 6
    APP_PASSWORD = 7
    UNTRUSTED_CERT = 8
    E_INVALID_CONFIG = 100
    E_NOMEM = 101
    E_INVALID_ARGUMENT = 102
    E_UNKNOWN_OPTION = 103
    E_OPTION_TYPE = 104
    E_MISSING_OPTION = 105
    E_SYSTEM = 106
    E_PENDING = 107
    E_CANCELLED = 108


# The eight verification codes are "outcomes" in the documentation; one type.
Outcome = Error


class Cause(_CEnum):
    """mailconn_cause: the finer reason behind an outcome."""

    NONE = 0
    DNS_NOT_FOUND = 10
    DNS_TEMPORARY = 11
    DNS_FAILED = 12
    CONNECT_REFUSED = 20
    CONNECT_UNREACHABLE = 21
    CONNECT_TIMEOUT = 22
    CONNECT_FAILED = 23
    CONNECTION_CLOSED = 24
    NETWORK_ERROR = 25
    TIMEOUT = 26
    TLS_HANDSHAKE = 30
    TLS_MODE_MISMATCH = 31
    TLS_VERSION = 32
    STARTTLS_UNAVAILABLE = 33
    STARTTLS_REFUSED = 34
    STARTTLS_INJECTION = 35
    TLS_HANDSHAKE_TIMEOUT = 36
    CERT_UNTRUSTED = 40
    CERT_EXPIRED = 41
    CERT_NOT_YET_VALID = 42
    CERT_HOSTNAME = 43
    CERT_INSECURE_ALGORITHM = 44
    CERT_MALFORMED = 45
    CERT_PURPOSE = 46
    CERT_PIN_MISMATCH = 47
    PROTOCOL_ERROR = 50
    WRONG_PROTOCOL = 51
    GREETING_REJECTED = 52
    LINE_TOO_LONG = 53
    NO_IMAP4REV1 = 54
    MAILBOX_UNAVAILABLE = 55
    SERVER_BYE = 56
    UNEXPECTED_PREAUTH = 57
    EHLO_REJECTED = 58
    GREETING_TIMEOUT = 59
    AUTH_REJECTED = 70
    AUTH_TEMPORARY = 71
    AUTH_APP_PASSWORD = 72
    AUTH_WEB_LOGIN_REQUIRED = 73
    AUTH_NOT_OFFERED = 74
    AUTH_NO_MECHANISM = 75
    AUTH_PRIVACY_REQUIRED = 76
    AUTH_INSECURE = 77
    AUTH_ACCOUNT_DISABLED = 78
    AUTH_TOO_MANY_CONNECTIONS = 79
    AUTH_IP_BLOCKED = 80
    AUTH_PROTOCOL_DISABLED = 81
    AUTH_SERVER_SIGNATURE = 82
    SENDER_REJECTED = 90
    RECIPIENT_REJECTED = 91
    RELAY_DENIED = 92
    DATA_REJECTED = 93
    MESSAGE_REJECTED = 94
    SEND_TEMPORARY = 95
    CANCELLED = 100
    SYSTEM = 101


class Stage(_CEnum):
    """mailconn_stage: the five verification stages, in running order."""

    NONE = 0
    IMAP_CONNECT = 1
    IMAP_LOGIN = 2
    SMTP_CONNECT = 3
    SMTP_LOGIN = 4
    TEST_SEND = 5


class Security(_CEnum):
    """mailconn_security: transport security for one server."""

    AUTO = 0
    TLS = 1
    STARTTLS = 2
    PLAIN = 3


class Protocol(_CEnum):
    """mailconn_protocol."""

    NONE = 0
    IMAP = 1
    SMTP = 2


class Option(_CEnum):
    """mailconn_option: ids 1-99 take a string, 100-199 an integer."""

    EMAIL = 1
    PASSWORD = 2
    OAUTH2_TOKEN = 3
    USERNAME = 4
    SMTP_USERNAME = 5
    SMTP_PASSWORD = 6
    IMAP_HOST = 7
    SMTP_HOST = 8
    BCC = 9
    SUBJECT = 10
    BODY = 11
    CA_FILE = 12
    CA_PATH = 13
    IMAP_ADDRESS = 14
    SMTP_ADDRESS = 15
    CLIENT_NAME = 16
    LANGUAGE = 17
    MECHANISMS = 18
    IMAP_CERT_SHA256 = 19
    SMTP_CERT_SHA256 = 20
    IMAP_PORT = 100
    IMAP_SECURITY = 101
    SMTP_PORT = 102
    SMTP_SECURITY = 103
    ALLOW_UNTRUSTED_CERT = 104
    STAGE_TIMEOUT_MS = 105
    DEADLINE_MS = 106
    OVERLAP = 107


class State(_CEnum):
    """mailconn_state: what mailconn_session_step() returned."""

    PENDING = 0
    DONE = 1


class Direction(_CEnum):
    """mailconn_direction: of a transcript line."""

    RECEIVED = 0
    SENT = 1
    INFO = 2


class Fact(_CEnum):
    """mailconn_fact: per-stage facts."""

    ADDRESS = 0
    TLS_VERSION = 1
    TLS_CIPHER = 2
    CERT_SHA256 = 3
    CAPABILITIES = 4
    AUTH_MECHANISM = 5
    CERT_SUBJECT = 6
    MESSAGE_ID = 7
    LOCAL_ADDRESS = 8


class Wait(enum.IntFlag):
    """The MAILCONN_WAIT_* bits of mailconn_session_events()."""

    READ = 1
    WRITE = 2
