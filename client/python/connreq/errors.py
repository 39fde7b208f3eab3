"""Errors: a protocol error (docs/protocol.md §6) is raised as the subclass
of ServerError named after its code (``COOLDOWN`` -> CooldownError), with
``code``, ``message``, ``retry_at`` (or None) and ``oldest`` (or None).
A code this package does not know yet is raised as ServerError itself."""

CODES = [
    "INVALID_ARGUMENT", "NOT_FOUND", "NOT_PERMITTED", "SELF_INVITE",
    "ALREADY_CONNECTED", "ALREADY_PENDING", "INVALID_STATE", "COOLDOWN",
    "NOTE_TOO_LONG", "RATE_LIMITED", "PENDING_CAP", "PAIR_LIMIT",
    "EMAIL_REQUIRED", "RESTRICTED", "UNKNOWN_METHOD", "TOO_LARGE",
    "MALFORMED", "STORE_FULL", "CURSOR_EXPIRED", "INTERNAL", "UNAVAILABLE",
    "CONFLICT",
]


class Error(Exception):
    """Every error this package raises."""


class ServerError(Error):
    """The daemon refused the request: [1, msgid, error, nil]."""

    code = None

    def __init__(self, error):
        error = error if isinstance(error, dict) else {"message": str(error)}
        self.error = error
        self.code = error.get("code", self.code)
        self.message = error.get("message", "")
        self.retry_at = error.get("retry_at")
        self.oldest = error.get("oldest")
        super().__init__("%s: %s" % (self.code, self.message))


class ConnectionLost(Error, ConnectionError):
    """The connection to connreqd dropped (or could not be made)."""


class OutcomeUnknown(ConnectionLost):
    """A write was sent and the connection dropped before its answer: it
    may or may not have been applied (docs/protocol.md §2.6). Find out with
    a read. Raised only when the write could not be retried safely (the
    daemon does not advertise request_id, §Retries in the README)."""


class UntrustedSocket(Error, PermissionError):
    """The socket's directory or its peer is not the user's own: nothing
    was sent (the checks of libconnreq's cr_connect)."""


def _class_name(code):
    return "".join(w.capitalize() for w in code.split("_")) + "Error"


BY_CODE = {}
for _code in CODES:
    _cls = type(_class_name(_code), (ServerError,),
                {"code": _code, "__doc__": "The daemon's %s." % _code,
                 "__module__": __name__})
    globals()[_cls.__name__] = _cls
    BY_CODE[_code] = _cls
del _code, _cls


def from_wire(error):
    code = error.get("code") if isinstance(error, dict) else None
    return BY_CODE.get(code, ServerError)(error)


__all__ = (["Error", "ServerError", "ConnectionLost", "OutcomeUnknown",
            "UntrustedSocket", "BY_CODE", "CODES", "from_wire"]
           + [_class_name(c) for c in CODES])
