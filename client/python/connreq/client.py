"""The synchronous client (docs/python-client.md)."""

import collections
import select
import socket
import threading
import time
import uuid

from . import transport
from ._common import (SUBSCRIBE, StreamState, advertises_request_id,
                      install, lost_error, pack, retry_pause, spec_for,
                      unpacker, wire_args)
from .errors import ConnectionLost, UntrustedSocket, from_wire
from .types import convert


class Pending:
    """A request in flight; result() waits for its answer (raising its
    error)."""

    __slots__ = ("_conn", "msgid", "spec", "done", "_result", "_error")

    def __init__(self, conn, msgid, spec):
        self._conn, self.msgid, self.spec = conn, msgid, spec
        self.done = False
        self._result = self._error = None

    def result(self, timeout=None):
        if not self.done:
            self._conn.wait(self, timeout)
        if self._error is not None:
            raise self._error
        return convert(self._result, self.spec.items)


class _Conn:
    """One checked connection: requests out; answers matched to their
    Pending by msgid; notifications queued."""

    def __init__(self, path, timeout):
        try:
            self.sock = transport.connect(path, timeout)
        except UntrustedSocket:
            raise
        except OSError as e:
            raise ConnectionLost("cannot connect to %s: %s" % (path, e))
        self.timeout = timeout
        self.unpacker = unpacker()
        self.msgid = 0
        self.pending = {}
        self.notes = collections.deque()
        self.lock = threading.RLock()
        self.dead = None
        self.supports_rid = None

    def close(self):
        self._lose("closed by the client")

    def alive(self):
        """Whether the connection still stands: an idle one is polled, so
        that a daemon restarted since the last call is noticed before a
        write is sent on the old connection."""
        with self.lock:
            if self.dead is None and not self.pending:
                try:
                    r, _, _ = select.select([self.sock], [], [], 0)
                    if r:
                        self._read_some()
                except (OSError, ValueError) as e:
                    self._lose(e)
            return self.dead is None

    def _lose(self, why):
        if self.dead is None:
            self.dead = ConnectionLost("connection to connreqd lost: %s"
                                       % why)
            try:
                self.sock.close()
            except OSError:
                pass
        for p in self.pending.values():
            p.done, p._error = True, lost_error(p.spec, why)
        self.pending.clear()

    def _read_some(self):
        try:
            data = self.sock.recv(262144)
        except (socket.timeout, BlockingIOError):
            return
        except OSError as e:
            self._lose(e)
            return
        if not data:
            self._lose("connreqd closed the connection")
            return
        self.unpacker.feed(data)
        for msg in self.unpacker:
            self._dispatch(msg)

    def _dispatch(self, msg):
        if not isinstance(msg, (list, tuple)) or not msg:
            return
        if msg[0] == 1 and len(msg) == 4:
            p = self.pending.pop(msg[1], None)
            if p is not None:
                p.done = True
                if msg[2] is not None:
                    p._error = from_wire(msg[2])
                else:
                    p._result = msg[3]
        elif (msg[0] == 2 and len(msg) == 3 and msg[1] == "event"
              and isinstance(msg[2], (list, tuple)) and msg[2]):
            self.notes.append(msg[2][0])

    def _poll(self, deadline, write=False):
        """Waits for the socket (readable, or writable too); reads what
        came. Whether it was writable. Raises TimeoutError at deadline."""
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError("no answer from connreqd in time")
        r, w, _ = select.select([self.sock], [self.sock] if write else [],
                                [], left)
        if not r and not w:
            raise TimeoutError("no answer from connreqd in time")
        if r:
            self._read_some()
        return bool(w)

    def submit(self, method, args, spec):
        with self.lock:
            if self.dead is not None:
                raise self.dead
            self.msgid = self.msgid + 1 if self.msgid < 0xFFFFFFFF else 1
            p = Pending(self, self.msgid, spec)
            self.pending[p.msgid] = p
            view = memoryview(pack(p.msgid, method, args))
            deadline = (None if self.timeout is None
                        else time.monotonic() + self.timeout)
            # Read while writing (docs/protocol.md §2.3): a long pipeline
            # must not block on a daemon waiting for us to read.
            try:
                while view and self.dead is None:
                    if self._poll(deadline, write=True):
                        try:
                            n = self.sock.send(view)
                        except (BlockingIOError, socket.timeout):
                            n = 0
                        view = view[n:]
            except TimeoutError:
                self._lose("timed out sending")
            except OSError as e:
                self._lose(e)
            return p

    def wait(self, p, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            try:
                while not p.done:
                    self._poll(deadline)
            except TimeoutError:
                # Answers come in order: with one missing the connection
                # cannot be trusted to match the rest. Drop it.
                self._lose("no answer within %s s" % timeout)

    def next_note(self, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            while not self.notes:
                if self.dead is not None:
                    raise self.dead
                self._poll(deadline)    # TimeoutError keeps the connection
            return self.notes.popleft()


class Client:
    """A connection to connreqd, made on first use and again after it
    drops. One method per protocol method (the table in connreq.methods),
    with keyword arguments; results are connreq.Result maps with typed
    objects; errors raise connreq.ServerError subclasses.

    path: the socket (default: connreq.default_socket(), the CLI's rules).
    timeout: seconds to wait for an answer (None: forever).
    retries: how many times a call is made again after the connection
    dropped: reads always; writes only with a request_id, which is added
    automatically when the daemon advertises it (server.info features),
    otherwise such a write raises OutcomeUnknown at once.
    backoff, max_backoff: the pause before each retry, doubling."""

    def __init__(self, path=None, *, timeout=30.0, retries=3, backoff=0.05,
                 max_backoff=2.0):
        self.path = path or transport.default_socket()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._conn = None
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def connect(self):
        """Connects now (the checks of cr_connect) if not connected."""
        with self._lock:
            if self._conn is None or not self._conn.alive():
                self._conn = _Conn(self.path, self.timeout)
        return self

    def supports_request_id(self):
        """Whether the daemon takes request_id (asked once per
        connection)."""
        conn = self.connect()._conn
        if conn.supports_rid is None:
            info = conn.submit("server.info", {},
                               spec_for("server.info")).result()
            conn.supports_rid = advertises_request_id(info)
        return conn.supports_rid

    def _invoke(self, spec, args):
        attempt = 0
        while True:
            try:
                if (spec.write and self.retries and "request_id" not in args
                        and self.supports_request_id()):
                    args = dict(args, request_id=uuid.uuid4().hex)
                return self.connect()._conn.submit(
                    spec.wire, args, spec).result()
            except ConnectionLost as e:
                time.sleep(retry_pause(self, e, args, attempt))
            attempt += 1

    def call(self, method, args=None, /, *, write=None, **kwargs):
        """Any method by its wire name, with wire argument names (a dict,
        or keywords): for a method this package does not list yet. A
        method not in the table counts as a write unless write=False."""
        a = dict(args or {}, **kwargs)
        return self._invoke(spec_for(method, write),
                            {k: v for k, v in a.items() if v is not None})

    def pipeline(self):
        """A Pipeline: the same methods, each sending at once and giving a
        Pending; many requests in flight on this connection."""
        return Pipeline(self)

    def events(self, member=None, *, all=False, after=None, timeout=None,
               give_up=None):
        """An EventStream over one feed (member's, or all=True): from after
        (default: the head now), resuming from its last seq across
        dropped connections and daemon restarts."""
        return EventStream(self, member, all, after, give_up)


install(Client, lambda spec: (
    lambda self, **kw: self._invoke(spec, wire_args(spec, kw))))


class Pipeline:
    """client.pipeline().invite_send(...) sends and returns a Pending at
    once; .result() on each waits for its answer (answers are matched by
    msgid). No retry: after a dropped connection each Pending raises
    ConnectionLost (OutcomeUnknown for a write)."""

    def __init__(self, client):
        self.client = client

    def _submit(self, spec, args):
        return self.client.connect()._conn.submit(spec.wire, args, spec)

    def call(self, method, args=None, /, *, write=None, **kwargs):
        a = dict(args or {}, **kwargs)
        return self._submit(spec_for(method, write),
                            {k: v for k, v in a.items() if v is not None})


install(Pipeline, lambda spec: (
    lambda self, **kw: self._submit(spec, wire_args(spec, kw))))


class EventStream(StreamState):
    """Iterates over a feed's events (connreq.Event), in seq order, each
    once. ``cursor`` is the seq of the last event given (or the head it
    started from). When the connection drops (a daemon restart), it
    connects again with backoff and subscribes with after=cursor, so what
    happened meanwhile comes first. CURSOR_EXPIRED (events pruned past the
    cursor) raises CursorExpiredError. give_up: seconds of failed
    reconnecting after which ConnectionLost is raised (None: never)."""

    def __init__(self, client, member, all_, after, give_up=None):
        super().__init__(client, member, all_, after, give_up)
        self._conn = None
        self._closed = False
        try:
            self._subscribe()
        except self.TRANSIENT:
            pass

    def _subscribe(self):
        conn = _Conn(self.path, self.timeout)
        try:
            r = conn.submit("events.subscribe", self.subscribe_args(),
                            SUBSCRIBE).result()
        except BaseException:
            conn.close()
            raise
        self.subscribed(r)
        self._conn = conn

    def close(self):
        self._closed = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        if self._closed:
            raise StopIteration
        return self.next()

    def next(self, timeout=None):
        """The next event; TimeoutError after timeout seconds (None:
        wait for ever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError("no event in %s s" % timeout)
            if self._conn is None:
                try:
                    self._subscribe()
                except self.TRANSIENT as e:
                    d = self.failed(e)
                    time.sleep(d if left is None else min(d, left))
                continue
            try:
                m = self._conn.next_note(left)
            except ConnectionLost:
                self._conn = None
                self.reconnects += 1
                continue
            ev = self.accept(m)
            if ev is not None:
                return ev
