"""The asyncio client: the same method table as connreq.Client, each
method a coroutine; many calls in flight on one connection (answers matched
by msgid), e.g. with asyncio.gather."""

import asyncio
import uuid

from . import transport
from ._common import (SUBSCRIBE, StreamState, advertises_request_id,
                      install, lost_error, pack, retry_pause, spec_for,
                      unpacker, wire_args)
from .errors import ConnectionLost, UntrustedSocket, from_wire
from .types import convert


class _AConn:
    def __init__(self):
        self.msgid = 0
        self.pending = {}
        self.notes = asyncio.Queue()
        self.dead = None
        self.supports_rid = None
        self.rid_query = None

    @classmethod
    async def open(cls, path, timeout):
        self = cls()
        self.timeout = timeout
        try:
            sock = transport.connect(path, timeout)
            sock.setblocking(False)
            self.reader, self.writer = await asyncio.open_unix_connection(
                sock=sock, limit=1 << 20)
        except UntrustedSocket:
            raise
        except OSError as e:
            raise ConnectionLost("cannot connect to %s: %s" % (path, e))
        self.unpacker = unpacker()
        self.task = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self):
        why = "connreqd closed the connection"
        try:
            while True:
                data = await self.reader.read(262144)
                if not data:
                    break
                self.unpacker.feed(data)
                for msg in self.unpacker:
                    self._dispatch(msg)
        except asyncio.CancelledError:
            why = "closed by the client"
        except (OSError, ValueError) as e:
            why = str(e)
        self._lose(why)

    def _dispatch(self, msg):
        if not isinstance(msg, (list, tuple)) or not msg:
            return
        if msg[0] == 1 and len(msg) == 4:
            ent = self.pending.pop(msg[1], None)
            if ent is not None and not ent[0].done():
                fut, spec = ent
                if msg[2] is not None:
                    fut.set_exception(from_wire(msg[2]))
                else:
                    fut.set_result(convert(msg[3], spec.items))
        elif (msg[0] == 2 and len(msg) == 3 and msg[1] == "event"
              and isinstance(msg[2], (list, tuple)) and msg[2]):
            self.notes.put_nowait(msg[2][0])

    def _lose(self, why):
        if self.dead is None:
            self.dead = ConnectionLost("connection to connreqd lost: %s"
                                       % why)
            self.writer.close()
            self.notes.put_nowait(None)     # wakes a reader of events
        for fut, spec in self.pending.values():
            if not fut.done():
                fut.set_exception(lost_error(spec, why))
        self.pending.clear()

    async def request(self, method, args, spec):
        if self.dead is not None:
            raise self.dead
        self.msgid = self.msgid + 1 if self.msgid < 0xFFFFFFFF else 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.msgid] = (fut, spec)
        self.writer.write(pack(self.msgid, method, args))
        try:
            await self.writer.drain()
            return await asyncio.wait_for(asyncio.shield(fut), self.timeout)
        except asyncio.TimeoutError:
            self._lose("no answer within %s s" % self.timeout)
            return await fut
        except OSError as e:
            self._lose(e)
            return await fut

    async def close(self):
        if self.dead is None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self._lose("closed by the client")


class AsyncClient:
    """As connreq.Client, for asyncio: ``async with AsyncClient() as c:
    r = await c.invite_send(from_="ann", to="bob")``. Pipelining: start
    many calls at once (asyncio.gather); they share the connection."""

    def __init__(self, path=None, *, timeout=30.0, retries=3, backoff=0.05,
                 max_backoff=2.0):
        self.path = path or transport.default_socket()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._conn = None
        self._connecting = None

    async def __aenter__(self):
        await self.connect()
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def connect(self):
        if self._conn is None or self._conn.dead is not None:
            if self._connecting is None:
                self._connecting = asyncio.ensure_future(
                    _AConn.open(self.path, self.timeout))
            try:
                self._conn = await self._connecting
            finally:
                self._connecting = None
        return self._conn

    async def supports_request_id(self):
        conn = await self.connect()
        if conn.supports_rid is None:
            # one server.info for all the writes that start at once
            if conn.rid_query is None:
                conn.rid_query = asyncio.ensure_future(conn.request(
                    "server.info", {}, spec_for("server.info")))
            info = await asyncio.shield(conn.rid_query)
            conn.supports_rid = advertises_request_id(info)
        return conn.supports_rid

    async def _invoke(self, spec, args):
        attempt = 0
        while True:
            try:
                if (spec.write and self.retries and "request_id" not in args
                        and await self.supports_request_id()):
                    args = dict(args, request_id=uuid.uuid4().hex)
                conn = await self.connect()
                return await conn.request(spec.wire, args, spec)
            except ConnectionLost as e:
                await asyncio.sleep(retry_pause(self, e, args, attempt))
            attempt += 1

    async def call(self, method, args=None, /, *, write=None, **kwargs):
        a = dict(args or {}, **kwargs)
        return await self._invoke(spec_for(method, write),
                                  {k: v for k, v in a.items()
                                   if v is not None})

    def events(self, member=None, *, all=False, after=None, give_up=None):
        """An async iterator of events (``async for ev in c.events(...)``),
        resuming as connreq.EventStream does."""
        return AsyncEventStream(self, member, all, after, give_up)


def _make(spec):
    async def f(self, **kw):
        return await self._invoke(spec, wire_args(spec, kw))
    return f


install(AsyncClient, _make)


class AsyncEventStream(StreamState):
    """As connreq.EventStream, for asyncio; subscribes on start() or the
    first next()."""

    def __init__(self, client, member, all_, after, give_up=None):
        super().__init__(client, member, all_, after, give_up)
        self._conn = None

    async def _subscribe(self):
        conn = await _AConn.open(self.path, self.timeout)
        try:
            r = await conn.request("events.subscribe",
                                   self.subscribe_args(), SUBSCRIBE)
        except BaseException:
            await conn.close()
            raise
        self.subscribed(r)
        self._conn = conn

    async def start(self):
        """Subscribes now (so that the cursor is the head now); else the
        first next() does."""
        if self._conn is None:
            await self._subscribe()
        return self

    async def close(self):
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.next()

    async def next(self, timeout=None):
        """The next event; asyncio.TimeoutError after timeout seconds."""
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self):
        while True:
            if self._conn is None:
                try:
                    await self._subscribe()
                except self.TRANSIENT as e:
                    await asyncio.sleep(self.failed(e))
                continue
            m = await self._conn.notes.get()
            if m is None:
                self._conn = None
                self.reconnects += 1
                continue
            ev = self.accept(m)
            if ev is not None:
                return ev
