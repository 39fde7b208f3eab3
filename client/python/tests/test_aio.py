"""The asyncio client against a real connreqd."""

import asyncio

import pytest

import connreq
from connreq import AsyncClient, Invitation


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_async_calls_and_errors(daemon):
    async def main():
        async with AsyncClient(daemon.path) as c:
            assert (await c.hello()).protocol == 1
            r = await c.invite_send(from_="ann", to="bob")
            assert isinstance(r.invitation, Invitation)
            with pytest.raises(connreq.AlreadyPendingError) as e:
                await c.invite_send(from_="ann", to="bob")
            assert e.value.code == "ALREADY_PENDING"
            page = await c.invite_list(member="ann", box="sent")
            assert [i.to for i in page.items] == ["bob"]
            assert (await c.call("invite.get", id=r.invitation.id)) \
                .invitation.to == "bob"
    run(main())


def test_async_pipelining(daemon):
    async def main():
        async with AsyncClient(daemon.path) as c:
            calls = [c.invite_send(from_="s%03d" % i, to="bob")
                     for i in range(150)]
            calls.append(c.invite_send(from_="bob", to="bob"))
            rs = await asyncio.gather(*calls, return_exceptions=True)
            assert [r.invitation.from_ for r in rs[:150]] == \
                ["s%03d" % i for i in range(150)]
            assert isinstance(rs[150], connreq.SelfInviteError)
            # all on one connection: the 151 calls and one server.info
            # (whether the daemon takes request_id), asked once for all
            assert c._conn.msgid == 152
    run(main())


def test_async_events_resume(daemon):
    async def main():
        c = AsyncClient(daemon.path)
        s = await c.events("bob").start()
        a = (await c.invite_send(from_="ann", to="bob")).invitation
        ev = await s.next(timeout=20)
        assert ev.type == "invitation.received" and ev.invitation.id == a.id
        await asyncio.get_running_loop().run_in_executor(None,
                                                        daemon.restart)
        b = (await c.invite_send(from_="carl", to="bob")).invitation
        ev2 = await s.next(timeout=30)
        assert ev2.invitation.id == b.id and s.cursor == ev2.seq
        assert s.reconnects == 1
        # nothing was sent after b: no repeat comes after resuming
        with pytest.raises(asyncio.TimeoutError):
            await s.next(timeout=0.3)
        d = (await c.invite_send(from_="dan", to="bob")).invitation
        async for e in s:           # the async iterator protocol
            assert e.invitation.id == d.id
            break
        await s.close()
        await c.close()
    run(main())


def test_async_cursor_expired(daemon):
    async def main():
        async with AsyncClient(daemon.path) as c:
            s = await c.events("bob", after=0).start()
            await c.invite_send(from_="ann", to="bob")
            first = await s.next(timeout=20)
            await s.close()                 # as a dropped connection would
            await c.invite_send(from_="carl", to="bob")
            await c.clock_advance(seconds=31 * 86400)   # prunes both
            with pytest.raises(connreq.CursorExpiredError) as e:
                await s.next(timeout=20)    # resubscribes after=first.seq
            assert s.cursor == first.seq and e.value.oldest > first.seq
    run(main())
