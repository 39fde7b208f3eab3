#!/usr/bin/python3
"""tests/interop/protocol.py: connreqd driven by a program written from
docs/protocol.md alone, in Python with only Debian's python3-msgpack: no
client library of ours. TAP; run by prove (make test), which sets
CONNREQ_BIN to the directory holding connreqd. With CONNREQ_PG set
(tests/interop/protocol_pg.py), connreqd runs on PostgreSQL, on a cluster
the test starts (tests/pgserve.c, beside connreqd's directory).

It starts connreqd on a virtual clock in a temporary directory, connects to
its socket and checks what the document promises: hello, sending, listing
and withdrawing invitations, the cooldown (COOLDOWN with retry_at), other
error responses, pipelining, events read with events.read and pushed after
events.subscribe, events.unsubscribe, and a malformed message.

The shebang is /usr/bin/python3 on purpose: the Debian python, which has
python3-msgpack, not whatever python3 comes first on PATH."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack

T0 = 1767225600                 # 2026-01-01 00:00 UTC
DAY = 86400
INVITATION_KEYS = {"id", "from", "to", "note", "priority", "state",
                   "created_at", "updated_at", "expires_at", "resend_of",
                   "attempt", "reminded_at", "introduced_by", "automatic"}

n = 0
failed = 0


def ok(cond, desc, *diag):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, desc))
    if not cond:
        failed += 1
        for d in diag:
            for line in str(d).splitlines():
                print("#   " + line)
    sys.stdout.flush()
    return cond


def bail(why):
    print("Bail out! " + why)
    sys.exit(1)


class RPCError(Exception):
    def __init__(self, error):
        super().__init__("%s: %s" % (error.get("code"), error.get("message")))
        self.error = error


class Conn:
    """One connection: requests out, answers and notifications in (§2)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.unpacker = msgpack.Unpacker(raw=False)
        self.msgid = 0
        self.events = []        # notifications that came before an answer

    def close(self):
        self.sock.close()

    def send(self, method, args=None):
        self.msgid += 1
        self.sock.sendall(msgpack.packb([0, self.msgid, method,
                                         [args if args is not None else {}]]))
        return self.msgid

    def message(self):
        """The next whole message; EOFError at the end of the stream."""
        while True:
            for msg in self.unpacker:
                return msg
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connreqd closed the connection")
            self.unpacker.feed(data)

    def raw_message(self):
        """The next whole message as its bytes, and decoded."""
        buf = b""
        while True:
            self.unpacker.feed(b"")
            for msg in self.unpacker:
                return buf[:self.unpacker.tell()], msg
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connreqd closed the connection")
            buf += data
            self.unpacker.feed(data)

    def reply(self, msgid):
        """[1, msgid, error, result], keeping the notifications met."""
        while True:
            msg = self.message()
            if msg[0] == 2:
                self.events.append(msg)
                continue
            if msg[0] != 1 or msg[1] != msgid:
                raise AssertionError("expected the answer to %d, got %r"
                                     % (msgid, msg))
            return msg

    def call(self, method, args=None):
        _, _, error, result = self.reply(self.send(method, args))
        if error is not None:
            raise RPCError(error)
        return result

    def error(self, method, args=None):
        """The error map of a call that must fail (None if it did not)."""
        _, _, error, result = self.reply(self.send(method, args))
        if error is None or result is not None:
            return None
        return error

    def event(self):
        """The next notification's event map (§2.5)."""
        if self.events:
            msg = self.events.pop(0)
        else:
            msg = self.message()
        if msg[0] != 2 or msg[1] != "event" or len(msg[2]) != 1:
            raise AssertionError("expected a notification, got %r" % (msg,))
        return msg[2][0]


def worked_example():
    """§9's request and response, the bytes of its two xxd dumps."""
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "docs", "protocol.md")
    with open(doc) as f:
        text = f.read()
    sec = text[text.index("\n## 9. "):]
    sec = sec[:sec.index("\n## 10. ")]
    dumps, cur = [], None
    for line in sec.splitlines():
        if line.startswith("```"):
            if cur:
                dumps.append(bytes.fromhex("".join(cur)))
            cur = None if cur is not None else []
            continue
        if cur is not None and len(line) > 10 and line[8:10] == ": ":
            cur.append(line[10:51].replace(" ", ""))
    if len(dumps) != 2:
        bail("docs/protocol.md §9: expected two xxd dumps, found %d"
             % len(dumps))
    return dumps


def main():
    bindir = os.environ.get("CONNREQ_BIN") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
        "bin")
    daemon = os.path.join(bindir, "connreqd")
    if not os.access(daemon, os.X_OK):
        bail("no connreqd in %s (CONNREQ_BIN)" % bindir)
    tmp = tempfile.mkdtemp(prefix="connreq-interop.")
    path = os.path.join(tmp, "s.sock")
    store = ["-d", os.path.join(tmp, "db")]
    pg = None
    if os.environ.get("CONNREQ_PG"):
        # connreqd --postgres, on a cluster of the test's own
        # (tests/pgserve.c: one database; the cluster goes when it does).
        pg = subprocess.Popen([os.path.join(bindir, "..", "tests", "pgserve"),
                               "1"], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
        lines = [line.decode().strip() for line in pg.stdout]
        if lines[-1:] != ["ready"]:
            pg.wait()
            shutil.rmtree(tmp, ignore_errors=True)
            bail("the PostgreSQL cluster did not start")
        store = ["--postgres", lines[0]]
    log = open(os.path.join(tmp, "daemon.log"), "wb")
    env = dict(os.environ, XDG_CONFIG_HOME=tmp)
    proc = subprocess.Popen([daemon, "-s", path] + store +
                            ["--virtual-clock=%d" % T0],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(path):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                with open(os.path.join(tmp, "daemon.log")) as f:
                    bail("connreqd did not start: " + f.read())
            time.sleep(0.05)
        run(path)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        ok(rc == 0, "SIGTERM stops connreqd with exit status 0", rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pg is not None:
            pg.terminate()
            pg.wait()
        log.close()
        if failed:
            with open(os.path.join(tmp, "daemon.log")) as f:
                for line in f.read().splitlines()[-20:]:
                    print("# daemon: " + line)
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % n)
    sys.exit(1 if failed else 0)


def run(path):
    c = Conn(path)

    # §5 hello
    r = c.call("hello")
    ok(r.get("protocol") == 1 and r.get("server") == "connreqd"
       and isinstance(r.get("version"), str),
       "hello: protocol 1, server connreqd, a version", r)
    # §2.1: params [] is taken as [{}].
    c.msgid += 1
    c.sock.sendall(msgpack.packb([0, c.msgid, "hello", []]))
    msg = c.reply(c.msgid)
    ok(msg[2] is None and msg[3].get("protocol") == 1,
       "hello with params [] is answered", msg)

    info = c.call("server.info")
    pol = info.get("policy", {})
    ok(info.get("virtual_clock") is True and info.get("now") == T0,
       "server.info: on the virtual clock, at its start", info)
    ok(pol.get("expire_after") == 180 * DAY
       and pol.get("resend_cooldown") == [21 * DAY]
       and pol.get("stale_after") == 14 * DAY
       and pol.get("note_max_chars") == 300,
       "server.info: the default policy", pol)
    backend = "postgresql" if os.environ.get("CONNREQ_PG") else "lmdb"
    ok(info.get("store", {}).get("backend") == backend,
       "server.info: the store's backend, " + backend, info.get("store"))

    # §5 invite.send, as §9's worked example: its request's bytes, sent as
    # they are on a connection of their own, answered with its response's.
    req, want = worked_example()
    ok(msgpack.unpackb(req, raw=False) == [0, 1, "invite.send", [
        {"from": "alice", "to": "bob", "note": "Hi Bob",
         "priority": "high"}]], "§9: the request is an invite.send", req)
    w = Conn(path)
    w.sock.sendall(req)
    got, msg = w.raw_message()
    w.close()
    ok(got == want, "§9: the response is the document's, byte for byte "
       "(%d bytes)" % len(want), got.hex(), want.hex())
    inv = msg[3]["invitation"]
    ok(set(inv) == INVITATION_KEYS, "an invitation has its 14 keys",
       sorted(inv))
    ok(inv["from"] == "alice" and inv["to"] == "bob"
       and inv["note"] == "Hi Bob" and inv["priority"] == "high"
       and inv["state"] == "pending",
       "invite.send: alice -> bob, pending, with note and priority", inv)
    ok(inv["created_at"] == T0 and inv["updated_at"] == T0
       and inv["expires_at"] == T0 + 180 * DAY and inv["resend_of"] is None
       and inv["attempt"] == 1 and inv["reminded_at"] is None
       and inv["introduced_by"] is None,
       "invite.send: times, expiry in 180 d, attempt 1, introduced by no one",
       inv)
    first = inv["id"]
    ok(isinstance(first, int) and first >= 1, "ids start at 1", first)

    # §5 invite.list, both boxes
    r = c.call("invite.list", {"member": "bob", "box": "received"})
    ok([i["id"] for i in r["items"]] == [first] and r["next"] is None,
       "invite.list: bob's received box holds it; next is nil", r)
    r = c.call("invite.list", {"member": "alice", "box": "sent",
                               "state": "pending", "priority": "high"})
    ok([i["id"] for i in r["items"]] == [first],
       "invite.list: alice's sent box, filtered by state and priority", r)
    r = c.call("invite.list", {"member": "alice", "box": "received"})
    ok(r["items"] == [] and r["next"] is None,
       "invite.list: alice received nothing", r)

    # §5 events.read: bob is told of the invitation.
    r = c.call("events.read", {"member": "bob", "after": 0})
    evs = r["events"]
    ok(len(evs) == 1 and evs[0]["type"] == "invitation.received"
       and evs[0]["member"] == "bob" and evs[0]["at"] == T0
       and evs[0]["invitation"]["id"] == first
       and r["next"] == r["head"] == evs[0]["seq"],
       "events.read: bob's feed holds invitation.received", r)
    r = c.call("events.read", {"all": True, "after": r["head"]})
    ok(r["events"] == [] and r["next"] == r["head"],
       "events.read: caught up is events [] with next = head", r)

    # §5 events.subscribe, on a connection of its own
    sub = Conn(path)
    head = sub.call("events.subscribe", {"member": "bob"})["head"]
    ok(isinstance(head, int) and head >= 1, "events.subscribe: {head}", head)
    second = c.call("invite.send", {"from": "carol", "to": "bob"}
                    )["invitation"]["id"]
    ev = sub.event()
    ok(ev["type"] == "invitation.received" and ev["member"] == "bob"
       and ev["seq"] > head and ev["invitation"]["id"] == second
       and ev["invitation"]["from"] == "carol",
       "a notification [2, \"event\", [event]] is pushed to the subscriber",
       ev)

    # §5 invite.withdraw and the cooldown
    r = c.call("invite.withdraw", {"actor": "alice", "id": first})
    ok(r["invitation"]["state"] == "withdrawn"
       and r["cooldown_until"] == T0 + 21 * DAY,
       "invite.withdraw: withdrawn, cooldown_until now + 21 d", r)
    cooldown_until = r["cooldown_until"]
    r = c.call("invite.list", {"member": "bob", "box": "received"})
    ok([i["id"] for i in r["items"]] == [second],
       "a withdrawn invitation leaves the recipient's list", r)
    e = c.error("invite.send", {"from": "alice", "to": "bob"})
    ok(e is not None and e.get("code") == "COOLDOWN"
       and e.get("retry_at") == cooldown_until
       and isinstance(e.get("message"), str) and e["message"],
       "invite.send in the cooldown: COOLDOWN with retry_at", e)
    e = c.error("invite.get", {"id": first, "actor": "bob"})
    ok(e is not None and e.get("code") == "NOT_FOUND",
       "the recipient cannot see a withdrawn invitation: NOT_FOUND", e)

    # The recipient is not told of a withdrawal (default policy): the next
    # event in bob's feed is the next invitation to him.
    third = c.call("invite.send", {"from": "dave", "to": "bob"}
                   )["invitation"]["id"]
    ev = sub.event()
    ok(ev["type"] == "invitation.received"
       and ev["invitation"]["id"] == third,
       "bob is not told of the withdrawal; he is of dave's invitation", ev)

    # Ignoring is silent: the sender sees pending.
    c.call("invite.ignore", {"actor": "bob", "id": third})
    r = c.call("invite.get", {"id": third})
    ok(r["invitation"]["state"] == "pending",
       "an ignored invitation looks pending to its sender", r)
    r = c.call("invite.get", {"id": third, "actor": "bob"})
    ok(r["invitation"]["state"] == "ignored",
       "and ignored to its recipient", r)

    # Accepting connects; the subscriber is told.
    r = c.call("invite.accept", {"actor": "bob", "id": second})
    ok(r["invitation"]["state"] == "accepted"
       and r["connection"] == {"a": "carol", "b": "bob", "since": T0},
       "invite.accept: accepted, connection {a, b, since}", r)
    ev = sub.event()
    ok(ev["type"] == "connection.created" and ev["other"] == "carol"
       and ev["connection"]["b"] == "carol",
       "bob is told: connection.created, other carol", ev)

    # Other error responses (§6), each on a connection that stays open.
    cases = [
        ("invite.send", {"from": "erin", "to": "erin"}, "SELF_INVITE"),
        ("invite.send", {"from": "carol", "to": "bob"}, "ALREADY_CONNECTED"),
        ("invite.send", {"from": "dave", "to": "bob"}, "ALREADY_PENDING"),
        ("invite.send", {"from": "erin", "to": "bob", "note": "x" * 301},
         "NOTE_TOO_LONG"),
        ("invite.get", {"id": 999}, "NOT_FOUND"),
        ("invite.accept", {"actor": "dave", "id": third}, "NOT_PERMITTED"),
        ("invite.ignore", {"actor": "bob", "id": third}, "INVALID_STATE"),
        ("invite.send", {"to": "bob"}, "INVALID_ARGUMENT"),
        ("invite.send", {"from": "erin", "to": "bob", "colour": "red"},
         "INVALID_ARGUMENT"),
        ("invite.get", {"id": -1}, "INVALID_ARGUMENT"),
        ("invite.list", {"member": "bob", "box": "sent", "limit": 0},
         "INVALID_ARGUMENT"),
        ("events.read", {"after": 0}, "INVALID_ARGUMENT"),
        ("no.such.method", {}, "UNKNOWN_METHOD"),
    ]
    for method, args, code in cases:
        e = c.error(method, args)
        ok(e is not None and e.get("code") == code
           and isinstance(e.get("message"), str)
           and "retry_at" not in e,
           "%s %s: %s" % (method, sorted(args), code), e)
    e = c.error("invite.send", {"to": "bob"})
    ok(e is not None and e.get("message") == "missing argument 'from'",
       "a missing argument is named", e)

    # Pipelining (§2.3): all sent at once, answered in request order.
    ids = [c.send("invite.send", {"from": "p%d" % i, "to": "q"})
           for i in range(20)]
    got = [c.reply(m) for m in ids]
    ok([g[1] for g in got] == ids and all(g[2] is None for g in got),
       "20 pipelined requests are answered in order", [g[1] for g in got])

    # clock.advance (§7): the cooldown ends, alice may invite bob again.
    r = c.call("clock.advance", {"seconds": 21 * DAY})
    ok(r["now"] == T0 + 21 * DAY, "clock.advance moves the clock", r)
    r = c.call("events.read", {"member": "alice", "after": 0})
    ok(any(e["type"] == "cooldown.ended" and e["at"] == cooldown_until
           for e in r["events"]),
       "alice is told cooldown.ended, at cooldown_until", r)
    r = c.call("invite.resend", {"actor": "alice", "id": first})
    ok(r["invitation"]["resend_of"] == first
       and r["invitation"]["attempt"] == 2
       and r["invitation"]["note"] == "Hi Bob",
       "after the cooldown: invite.resend, attempt 2, the old note", r)
    ev = sub.event()
    ok(ev["type"] == "invitation.received"
       and ev["invitation"]["id"] == r["invitation"]["id"],
       "bob is told of the resent invitation", ev)

    # events.unsubscribe: no event after its answer.
    r = sub.call("events.unsubscribe")
    ok(r == {}, "events.unsubscribe: {}", r)
    c.call("invite.send", {"from": "frank", "to": "bob"})
    r = sub.call("hello")
    ok(sub.events == [], "no event after events.unsubscribe", sub.events)
    sub.close()

    # A cursor past the head (§8.5).
    head = c.call("server.info")["events"]["head"]
    e = c.error("events.read", {"member": "bob", "after": head + 5})
    ok(e is not None and e.get("code") == "INVALID_ARGUMENT",
       "events.read after > head: INVALID_ARGUMENT", e)
    c.close()

    # A malformed message (§2.4): the request's start is read, the msgid
    # answered with MALFORMED, and the connection closed.
    bad = Conn(path)
    bad.sock.sendall(bytes([0x94, 0x00, 0x07, 0xc1]))
    try:
        msg = bad.message()
    except (EOFError, ConnectionError) as exc:
        msg = exc
    ok(isinstance(msg, list) and msg[0] == 1 and msg[1] == 7
       and msg[2].get("code") == "MALFORMED" and msg[3] is None,
       "the byte 0xc1: MALFORMED, with the msgid", msg)
    try:
        rest = bad.message()
    except (EOFError, ConnectionError):
        rest = None
    ok(rest is None, "then the connection is closed", rest)
    bad.close()

    # A msgid in a wider encoding is echoed by value (§2.2).
    w = Conn(path)
    w.sock.sendall(bytes([0x94, 0x00, 0xce, 0x00, 0x00, 0x01, 0x00])
                   + msgpack.packb("hello") + msgpack.packb([{}]))
    msg = w.message()
    ok(msg[0] == 1 and msg[1] == 256 and msg[2] is None,
       "a uint32-encoded msgid 256 comes back as 256", msg)
    w.close()


if __name__ == "__main__":
    main()
