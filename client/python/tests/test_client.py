"""The synchronous client against a real connreqd."""

import os
import sys

import pytest

import connreq
from connreq import (Client, Connection, Event, Invitation)
from conftest import DAY, T0


def test_installed_from_the_tree():
    # make test runs these tests with a venv's python into which
    # client/python was pip-installed (tests/pyclient.sh): the package
    # must come from there, not from the source tree.
    if os.environ.get("CONNREQ_PY_INSTALLED") != "1":
        pytest.skip("run by tests/pyclient.sh only")
    assert connreq.__file__.startswith(sys.prefix), connreq.__file__
    assert "site-packages" in connreq.__file__


def test_hello_and_typed_results(daemon):
    with Client(daemon.path) as c:
        h = c.hello()
        assert h.protocol == 1 and h.server == "connreqd"
        r = c.invite_send(from_="ann", to="bob", note="hi", priority="high")
        inv = r.invitation
        assert isinstance(inv, Invitation)
        assert (inv.from_, inv.to, inv.note, inv.state, inv.priority) == \
            ("ann", "bob", "hi", "pending", "high")
        assert inv.created_at == T0 and inv.expires_at == T0 + 180 * DAY
        page = c.invite_list(member="bob", box="received")
        assert [i.id for i in page.items] == [inv.id]
        assert isinstance(page.items[0], Invitation)
        assert page.items[0].priority is None      # the recipient's view
        assert page.next is None
        acc = c.invite_accept(actor="bob", id=inv.id)
        assert acc.invitation.state == "accepted"
        assert isinstance(acc.connection, Connection)
        conns = c.connection_list(member="bob")
        assert [(x.a, x.b) for x in conns.items] == [("bob", "ann")]
        assert c.clock_advance(seconds=DAY).now == T0 + DAY
        # the generic call, wire names
        assert c.call("invite.get", id=inv.id).invitation.state == "accepted"
        assert c.call("invite.get", {"id": inv.id, "actor": "bob"}) \
            .invitation.priority is None


def test_errors_carry_code_message_retry_at(daemon):
    with Client(daemon.path) as c:
        with pytest.raises(connreq.SelfInviteError) as e:
            c.invite_send(from_="ann", to="ann")
        assert e.value.code == "SELF_INVITE" and e.value.message
        assert e.value.retry_at is None
        assert isinstance(e.value, connreq.ServerError)
        inv = c.invite_send(from_="ann", to="bob").invitation
        w = c.invite_withdraw(actor="ann", id=inv.id)
        with pytest.raises(connreq.CooldownError) as e:
            c.invite_send(from_="ann", to="bob")
        assert e.value.retry_at == w.cooldown_until > T0
        with pytest.raises(connreq.NotFoundError):
            c.invite_get(id=999)
        with pytest.raises(connreq.UnknownMethodError) as e:
            c.call("no.such.method", write=False)
        assert "no.such.method" in e.value.message
        # the connection is still good after errors
        assert c.hello().protocol == 1


def test_arguments_are_checked_before_sending(daemon):
    with Client(daemon.path) as c:
        with pytest.raises(TypeError, match="from_"):
            c.invite_send(to="bob")
        with pytest.raises(TypeError, match="colour"):
            c.invite_get(id=1, colour="red")
        # None is leaving the argument out (docs/protocol.md §2.1)
        assert c.invite_send(from_="ann", to="bob", note=None) \
            .invitation.note == ""


def test_pipelining_sync(daemon):
    with Client(daemon.path) as c:
        p = c.pipeline()
        pend = [p.invite_send(from_="m%03d" % i, to="bob")
                for i in range(150)]
        pend.append(p.invite_send(from_="ann", to="ann"))
        pend.append(p.hello())
        assert len({x.msgid for x in pend}) == len(pend)
        for i, x in enumerate(pend[:150]):
            assert x.result().invitation.from_ == "m%03d" % i
        with pytest.raises(connreq.SelfInviteError):
            pend[150].result()
        assert pend[151].result().protocol == 1
        assert c.server_info().counts["pending"] == 150


def test_events_resume_across_restart(daemon):
    c = Client(daemon.path)
    s = c.events("bob")
    assert s.cursor == 0
    a = c.invite_send(from_="ann", to="bob").invitation
    ev = s.next(timeout=20)
    assert isinstance(ev, Event) and ev.type == "invitation.received"
    assert ev.invitation.id == a.id and s.cursor == ev.seq
    daemon.restart()
    # sent while the stream is disconnected: it must come on resuming
    b = c.invite_send(from_="carl", to="bob").invitation
    ev2 = s.next(timeout=30)
    assert ev2.invitation.id == b.id and ev2.seq > ev.seq
    assert s.reconnects == 1
    d = c.invite_send(from_="dan", to="bob").invitation
    ev3 = s.next(timeout=20)
    assert ev3.invitation.id == d.id
    with pytest.raises(TimeoutError):
        s.next(timeout=0.2)     # nothing else: no repeats after resuming
    s.close()
    c.close()


def test_cursor_expired_is_raised(daemon):
    c = Client(daemon.path)
    s = c.events("bob", after=0)
    c.invite_send(from_="ann", to="bob")
    assert s.next(timeout=20).type == "invitation.received"
    daemon.restart()
    c.invite_send(from_="carl", to="bob")
    c.clock_advance(seconds=31 * DAY)      # prunes both (30 d retention)
    with pytest.raises(connreq.CursorExpiredError) as e:
        s.next(timeout=30)
    assert e.value.oldest is not None and e.value.oldest > s.cursor
    with pytest.raises(connreq.CursorExpiredError):
        c.events("bob", after=1)
    s.close()
    c.close()


def test_reads_and_writes_go_on_after_a_restart(daemon):
    c = Client(daemon.path)
    assert c.hello().protocol == 1
    daemon.restart()
    # the idle connection died with the daemon: noticed before sending
    assert c.invite_send(from_="ann", to="bob").invitation.id >= 1
    daemon.stop()
    c2 = Client(daemon.path, retries=1, backoff=0.01)
    with pytest.raises(connreq.ConnectionLost):
        c2.hello()
    c.close()


def test_one_client_shared_by_threads(daemon):
    import threading
    c = Client(daemon.path)
    got, errors = [], []

    def work(t):
        try:
            for i in range(20):
                r = c.invite_send(from_="t%d" % t, to="m%02d" % i)
                got.append((r.invitation.from_, r.invitation.to))
        except Exception as e:      # noqa: BLE001 (reported below)
            errors.append(e)
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(got) == sorted(("t%d" % t, "m%02d" % i)
                                 for t in range(4) for i in range(20))
    c.close()


def test_introductions_typed(daemon):
    with Client(daemon.path) as c:
        for a, b in (("ann", "carl"), ("bob", "carl")):
            i = c.invite_send(from_=a, to=b).invitation
            c.invite_accept(actor=b, id=i.id)
        r = c.intro_ask(from_="ann", via="carl", to="bob", note="please")
        intro = r.introduction
        assert isinstance(intro, connreq.Introduction)
        assert (intro.from_, intro.via, intro.to, intro.state) == \
            ("ann", "carl", "bob", "asked")
        assert [x.id for x in c.intro_list(member="carl",
                                           box="received").items] == [intro.id]
        f = c.intro_forward(actor="carl", id=intro.id)
        assert f.introduction.state == "forwarded"
        assert f.introduction.invitation is not None
        assert c.invite_get(actor="ann", id=f.introduction.invitation) \
            .invitation.introduced_by == "carl"
        assert "invitation" not in f  # via sees the introduction alone
        assert c.intro_get(actor="ann", id=intro.id).introduction.state == \
            "forwarded"
