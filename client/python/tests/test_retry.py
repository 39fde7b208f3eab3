"""Retries, request_id and msgid matching, against a scripted server on a
socket of the test's own (the daemon does not take request_id yet, and
answers in order, so neither can be shown with it)."""

import asyncio
import os
import socket
import threading

import msgpack
import pytest

import connreq
from connreq import AsyncClient, Client


class FakeServer:
    """Speaks msgpack-rpc on path. server.info advertises features; the
    first invite.send on each of the first `drop` connections makes it
    close that connection without answering (a daemon dying after the
    commit); every request is recorded in `seen`. With reverse=True it
    answers the requests of one read in reverse order."""

    def __init__(self, path, features=(), drop=1, reverse=False):
        self.path, self.features = path, list(features)
        self.drop, self.reverse = drop, reverse
        self.seen = []
        self.conns = 0
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _answer(self, msgid, method, args):
        if method == "server.info":
            r = {"protocol": 1}
            if self.features:
                r["features"] = self.features
            return [1, msgid, None, r]
        if method == "invite.send":
            return [1, msgid, None, {"invitation": {
                "id": 7, "from": args["from"], "to": args["to"]}}]
        return [1, msgid, None, {"echo": msgid}]

    def _serve(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.conns += 1
            drop = self.conns <= self.drop
            up = msgpack.Unpacker(raw=False)
            with c:
                while True:
                    data = c.recv(65536)
                    if not data:
                        break
                    up.feed(data)
                    out = []
                    dropped = False
                    for m in up:
                        self.seen.append((self.conns, m[2], m[3][0]))
                        if m[2] == "invite.send" and drop:
                            dropped = True
                            break
                        out.append(self._answer(m[1], m[2], m[3][0]))
                    if self.reverse:
                        out.reverse()
                    c.sendall(b"".join(msgpack.packb(o) for o in out))
                    if dropped:
                        break

    def close(self):
        self.lsock.close()


@pytest.fixture
def fake(tmpdir700):
    made = []

    def make(**kw):
        s = FakeServer(os.path.join(tmpdir700, "f.sock"), **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def sends(server):
    return [(conn, args) for conn, m, args in server.seen
            if m == "invite.send"]


def test_write_retried_with_request_id_when_advertised(fake):
    srv = fake(features=["request_id"])
    r = Client(srv.path, backoff=0.01).invite_send(from_="ann", to="bob")
    assert r.invitation.id == 7
    s = sends(srv)
    assert [c for c, _ in s] == [1, 2]             # sent, dropped, again
    rid = s[0][1]["request_id"]
    assert isinstance(rid, str) and 0 < len(rid.encode()) <= 64
    assert s[1][1] == s[0][1]                      # the same id and args


def test_write_not_retried_without_request_id(fake):
    srv = fake()
    with pytest.raises(connreq.OutcomeUnknown):
        Client(srv.path, backoff=0.01).invite_send(from_="ann", to="bob")
    s = sends(srv)
    assert len(s) == 1 and "request_id" not in s[0][1]
    # a read is retried on a new connection
    srv.drop = 0
    assert Client(srv.path).hello().echo is not None


def test_caller_request_id_is_kept(fake):
    srv = fake(features=["request_id"])
    Client(srv.path, backoff=0.01).invite_send(from_="a", to="b",
                                              request_id="mine-1")
    assert [a["request_id"] for _, a in sends(srv)] == ["mine-1", "mine-1"]


def test_async_write_retried_with_request_id(fake):
    srv = fake(features=["request_id"])

    async def main():
        async with AsyncClient(srv.path, backoff=0.01) as c:
            return await c.invite_send(from_="ann", to="bob")
    assert asyncio.run(main()).invitation.to == "bob"
    s = sends(srv)
    assert len(s) == 2 and s[0][1] == s[1][1] and "request_id" in s[0][1]


def test_async_write_not_retried_without_request_id(fake):
    srv = fake()

    async def main():
        async with AsyncClient(srv.path, backoff=0.01) as c:
            await c.invite_send(from_="ann", to="bob")
    with pytest.raises(connreq.OutcomeUnknown):
        asyncio.run(main())
    assert len(sends(srv)) == 1


def test_answers_matched_by_msgid(fake):
    srv = fake(drop=0, reverse=True)
    c = Client(srv.path)
    p = c.pipeline()
    pend = [p.call("x.read", write=False, n=i) for i in range(20)]
    assert [x.result().echo for x in pend] == [x.msgid for x in pend]
    c.close()

    async def main():
        async with AsyncClient(srv.path) as a:
            rs = await asyncio.gather(*[a.call("x.read", write=False, n=i)
                                        for i in range(20)])
            return [r.echo for r in rs]
    assert asyncio.run(main()) == list(range(1, 21))
