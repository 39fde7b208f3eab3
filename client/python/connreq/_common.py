"""What the synchronous and the asyncio client share: argument checking,
signatures generated from the method table, message decoding."""

import inspect
import keyword
import time

import msgpack

from .errors import ConnectionLost, OutcomeUnknown, UnavailableError
from .methods import BY_WIRE, Method
from .types import Event

SUBSCRIBE = Method("events.subscribe", (), (), False, None)

# A method not in the table (call("some.new.method", ...)) is taken as a
# write: after a dropped connection its outcome is unknown.
def spec_for(method, write=None):
    spec = BY_WIRE.get(method)
    if spec is None:
        spec = Method(method, (), (), True if write is None else write, None)
    return spec


def pyarg(name):
    return name + "_" if keyword.iskeyword(name) else name


def wire_args(spec, kwargs):
    """The wire map of a typed wrapper's keyword arguments; None means
    left out (docs/protocol.md §2.1)."""
    allowed = {pyarg(a): a for a in spec.args}
    if spec.write:
        allowed["request_id"] = "request_id"
    out = {}
    for k, v in kwargs.items():
        if k not in allowed:
            raise TypeError("%s() got an unexpected keyword argument %r"
                            % (spec.pyname, k))
        if v is not None:
            out[allowed[k]] = v
    missing = [pyarg(a) for a in spec.required if a not in out]
    if missing:
        raise TypeError("%s() missing required keyword argument(s): %s"
                        % (spec.pyname, ", ".join(missing)))
    return out


def signature(spec, is_self=True):
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    for a in spec.args:
        params.append(inspect.Parameter(
            pyarg(a), inspect.Parameter.KEYWORD_ONLY,
            **({} if a in spec.required else {"default": None})))
    if spec.write:
        params.append(inspect.Parameter(
            "request_id", inspect.Parameter.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)


def docstring(spec):
    req = ", ".join(pyarg(a) for a in spec.required) or "none"
    return ("connreqd's %s (docs/protocol.md §5); required: %s.%s"
            % (spec.wire, req, " A write." if spec.write else ""))


def pack(msgid, method, args):
    return msgpack.packb([0, msgid, method, [args]], use_bin_type=True)


def unpacker():
    return msgpack.Unpacker(raw=False, strict_map_key=False,
                            max_buffer_size=64 * 1024 * 1024)


def lost_error(spec, why):
    if spec is not None and spec.write:
        return OutcomeUnknown("connection to connreqd lost before the answer "
                              "to %s: its outcome is unknown (%s)"
                              % (spec.wire, why))
    return ConnectionLost("connection to connreqd lost: %s" % why)


def advertises_request_id(info):
    """Whether server.info says the daemon takes request_id on writes: a
    ``features`` list that holds "request_id"."""
    f = info.get("features") if hasattr(info, "get") else None
    return isinstance(f, (list, tuple)) and "request_id" in f


def install(cls, make):
    """Adds one method per table entry to cls: make(spec) gives the
    function."""
    for spec in BY_WIRE.values():
        f = make(spec)
        f.__name__ = f.__qualname__ = spec.pyname
        f.__signature__ = signature(spec)
        f.__doc__ = docstring(spec)
        setattr(cls, spec.pyname, f)


def retry_pause(client, exc, args, attempt):
    """After a call failed with exc (a ConnectionLost) on its attempt-th
    try (from 0): the seconds to wait before trying again, or exc raised.
    A write whose outcome is unknown is tried again only with a
    request_id."""
    if attempt >= client.retries or (isinstance(exc, OutcomeUnknown)
                                     and "request_id" not in args):
        raise exc
    return min(client.backoff * 2 ** attempt, client.max_backoff)


class StreamState:
    """What the synchronous and the asyncio event streams share: the feed,
    the cursor, the backoff while reconnecting, and dropping repeats."""

    # A failure to subscribe that a later try may mend: a dropped or
    # refused connection, or connreqd --postgres without its database.
    TRANSIENT = (ConnectionLost, UnavailableError)

    def __init__(self, client, member, all_, after, give_up):
        if (member is None) == (not all_):
            raise TypeError("events(): name one feed: member, or all=True")
        self.path, self.timeout = client.path, client.timeout
        self.backoff, self.max_backoff = client.backoff, client.max_backoff
        self.feed = {"member": member} if member is not None else {
            "all": True}
        self.cursor = after
        self.give_up = give_up
        self.reconnects = 0
        self._delay, self._failing_since = self.backoff, None

    def subscribe_args(self):
        args = dict(self.feed)
        if self.cursor is not None:
            args["after"] = self.cursor
        return args

    def subscribed(self, result):
        if self.cursor is None:
            self.cursor = result["head"]
        self._delay, self._failing_since = self.backoff, None

    def failed(self, exc):
        """A subscription failed (exc, transient): the pause before the
        next try, or exc raised once give_up seconds have gone by."""
        now = time.monotonic()
        self._failing_since = self._failing_since or now
        if self.give_up is not None and now - self._failing_since > \
                self.give_up:
            raise exc
        d, self._delay = self._delay, min(self._delay * 2, self.max_backoff)
        return d

    def accept(self, m):
        """The Event of notification m, or None for a repeat."""
        ev = Event.from_wire(m)
        if (self.cursor is not None and isinstance(ev.seq, int)
                and ev.seq <= self.cursor):
            return None
        self.cursor = ev.seq
        return ev
