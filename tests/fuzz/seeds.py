#!/usr/bin/env python3
"""tests/fuzz/seeds.py: writes the fuzzers' seed corpus.

    python3 tests/fuzz/seeds.py [--check]     (from the top of the tree)

A valid request for every method, taken from proto/vocab.h's PROTO_METHODS
with the arguments docs/protocol.md §5 lists for it (so a new method gets a
seed, and a method or an argument this script cannot make fails it); a
request with each argument of the wrong type; and the known hostile shapes:
deep nesting, hostile lengths, the 65,016-byte array of nils, truncated
messages, an array-32 header straddling byte 65,536, tops that are not
arrays, wrong msgpack-rpc types, huge msgids, the notification form. For
the dispatch harness, also streams of requests that walk an invitation
through its states. Files are named seed-*; what fuzzing added (named by
libFuzzer, by their SHA-1) is left alone. --check: exit 1 when the
committed seeds differ from what this script writes.
"""
import os
import re
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, "tests", "fuzz", "corpus")


# A minimal msgpack packer (shortest forms, as the daemon packs); the
# hostile shapes are written as raw bytes.
class Raw(bytes):
    """Bytes put in as they are."""


def pack(o):
    if isinstance(o, Raw):
        return bytes(o)
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o <= 0x7f:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack("b", o)
        if 0 <= o <= 0xff:
            return b"\xcc" + struct.pack(">B", o)
        if 0 <= o <= 0xffff:
            return b"\xcd" + struct.pack(">H", o)
        if 0 <= o <= 0xffffffff:
            return b"\xce" + struct.pack(">I", o)
        if 0 <= o:
            return b"\xcf" + struct.pack(">Q", o)
        if o >= -0x80:
            return b"\xd0" + struct.pack(">b", o)
        if o >= -0x8000:
            return b"\xd1" + struct.pack(">h", o)
        if o >= -0x80000000:
            return b"\xd2" + struct.pack(">i", o)
        return b"\xd3" + struct.pack(">q", o)
    if isinstance(o, float):
        return b"\xcb" + struct.pack(">d", o)
    if isinstance(o, str):
        o = o.encode()
        n = len(o)
        if n < 32:
            return bytes([0xa0 | n]) + o
        if n <= 0xff:
            return b"\xd9" + struct.pack(">B", n) + o
        if n <= 0xffff:
            return b"\xda" + struct.pack(">H", n) + o
        return b"\xdb" + struct.pack(">I", n) + o
    if isinstance(o, bytes):
        n = len(o)
        if n <= 0xff:
            return b"\xc4" + struct.pack(">B", n) + o
        if n <= 0xffff:
            return b"\xc5" + struct.pack(">H", n) + o
        return b"\xc6" + struct.pack(">I", n) + o
    if isinstance(o, (list, tuple)):
        n = len(o)
        if n < 16:
            h = bytes([0x90 | n])
        elif n <= 0xffff:
            h = b"\xdc" + struct.pack(">H", n)
        else:
            h = b"\xdd" + struct.pack(">I", n)
        return h + b"".join(pack(x) for x in o)
    if isinstance(o, dict):
        n = len(o)
        if n < 16:
            h = bytes([0x80 | n])
        elif n <= 0xffff:
            h = b"\xde" + struct.pack(">H", n)
        else:
            h = b"\xdf" + struct.pack(">I", n)
        return h + b"".join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(type(o))


def req(msgid, method, args=None):
    return pack([0, msgid, method, [] if args is None else [args]])


def methods():
    """PROTO_METHODS from proto/vocab.h, in order."""
    text = open(os.path.join(TOP, "proto", "vocab.h")).read()
    m = re.search(r"#define PROTO_METHODS\(X\)(.*?)\n\n", text, re.S)
    return re.findall(r'X\(\w+,\s*"([^"]+)"\)', m.group(1))


def method_args():
    """method -> [(argument, required)], from docs/protocol.md §5's table.
    "`member` or `all`" takes the first."""
    text = open(os.path.join(TOP, "docs", "protocol.md")).read()
    sec = text.split("\n## 5. Methods", 1)[1].split("\n## ", 1)[0]
    out = {}
    table = sec.split("| method |", 1)[1].split("\n\n", 1)[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        args = []
        for part in cells[2].split(","):
            names = re.findall(r"`([a-z_]+)(\*?)`", part)
            if names:
                args.append((names[0][0], names[0][1] == "*"))
        out[cells[0].strip("`")] = args
    return out


# A valid value for every argument name §5 uses, and one of a wrong type.
VALID = {
    "from": "alice", "to": "bob", "actor": "alice", "member": "alice",
    "other": "bob", "a": "alice", "b": "bob", "id": 1, "note": "hi",
    "priority": "high", "email": "bob@example.com", "expires_in": 86400,
    "box": "sent", "state": "pending", "older_than": 1209600, "limit": 10,
    "after": 0, "reason": "spam", "invitations_from": "everyone",
    "window": 7776000, "per_day": 5, "max_priority": "low",
    "seconds": 86400, "all": True, "auto_accept_min_mutual": 3,
    "auto_accept_until": 1767225600 + 86400,
    "hold_no_mutual": True, "hold_low_health": False,
    "hold_restricted_days": 30, "hold_new_member_days": 7,
    "via": "carol", "tell_sender": True, "digest_every": 86400,
    "path": "/nonexistent/connreq-fuzz/backup.mdb",
    "rows": [{"id": "ext-1", "type": "connection", "a": "alice",
              "b": "bob", "since": 1767225600}],
}


def wrong(v):
    if isinstance(v, bool):
        return "yes"
    if isinstance(v, int):
        return "1"
    return 1


def seeds_requests(ms, margs):
    """name -> bytes: one valid request per method, then each argument
    wrong, missing (required ones) and nil; also with every optional one."""
    out = {}
    for i, m in enumerate(ms):
        if m not in margs:
            sys.exit("seeds.py: docs/protocol.md §5 has no row for %s" % m)
        for a, _ in margs[m]:
            if a not in VALID:
                sys.exit("seeds.py: no value for argument %r of %s: add it to VALID"
                         % (a, m))
        req_args = {a: VALID[a] for a, r in margs[m] if r}
        all_args = {a: VALID[a] for a, r in margs[m]}
        out["valid-%s" % m] = req(i + 1, m, req_args or None)
        if all_args != req_args:
            out["valid-all-args-%s" % m] = req(i + 1, m, all_args)
        for a, r in margs[m]:
            bad = dict(all_args)
            bad[a] = wrong(VALID[a])
            out["wrongtype-%s-%s" % (m, a)] = req(i + 1, m, bad)
            if r:
                miss = dict(req_args)
                del miss[a]
                out["missing-%s-%s" % (m, a)] = req(i + 1, m, miss)
        out["unknown-arg-%s" % m] = req(i + 1, m, dict(req_args, zzz=1))
    return out


def nest(depth, inner=None):
    o = [] if inner is None else inner
    for _ in range(depth):
        o = [o]
    return o


def seeds_hostile():
    out = {}
    hello = req(7, "hello")
    send = req(9, "invite.send", {"from": "alice", "to": "bob", "note": "hi"})
    # Deep nesting, just below, at and past PROTO_MAX_DEPTH (16).
    for d in (14, 15, 16, 17, 100):
        out["deep-array-%d" % d] = pack([0, 1, "hello", nest(d - 2)])
    out["deep-map-17"] = pack([0, 1, "hello", [
        {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {
            "k": {"l": {"m": {"n": {"o": 1}}}}}}}}}}}}}}}]])
    out["deep-raw-200"] = b"\x91" * 200 + b"\xc0"
    # Hostile lengths.
    out["array32-huge"] = b"\xdd\xff\xff\xff\xff\xc0"
    out["map32-huge"] = b"\xdf\xff\xff\xff\xff\xc0\xc0"
    out["str32-huge"] = b"\x94\x00\x01\xdb\xff\xff\xff\xffhello"
    out["bin32-huge"] = b"\x94\x00\x01\xc6\x7f\xff\xff\xffhello"
    out["ext32-huge"] = b"\x94\x00\x01\xc9\xff\xff\xff\xf0\x01hello"
    out["array16-max"] = b"\x94\x00\x01\xa5hello\xdc\xff\xff" + b"\xc0" * 64
    out["map16-max-args"] = b"\x94\x00\x01\xa5hello\x91\xde\xff\xff\xa1a\xc0"
    out["params-array32-of-4"] = (b"\x94\x00\x01\xa5hello"
                                  b"\xdd\x00\x00\x00\x01\x80")
    out["request-array32-of-4"] = b"\xdd\x00\x00\x00\x04\x00\x05\xa5hello\x90"
    out["request-array16-of-4"] = b"\xdc\x00\x04\x00\x05\xa5hello\x90"
    # 65,016 bytes of an array of nils (bug 5: 25x decoded memory); bare,
    # and as a request's params.
    out["nils-65016"] = b"\xdd" + struct.pack(">I", 65011) + b"\xc0" * 65011
    body = b"\x94\x00\x01\xa5hello"
    n = 65016 - len(body) - 5
    out["nils-65016-params"] = body + b"\xdd" + struct.pack(">I", n) + b"\xc0" * n
    out["nils-4096-elements"] = pack([0, 1, "hello", [None] * 4090])
    out["nils-4097-elements"] = pack([0, 1, "hello", [None] * 4093])
    # Sizes at max_message_bytes (65536).
    for total in (65536, 65537):
        pre = pack([0, 3, "invite.send", [{"from": "alice", "to": "bob",
                                           "note": ""}]])
        # note of k bytes as str32 (5-byte header): the message grows by k.
        k = total - len(pre) - 4
        out["size-%d" % total] = pre[:-1] + b"\xdb" + struct.pack(">I", k) + b"n" * k
    # An array-32 header straddling byte 65,536 (bug 7): in one message,
    # and at that byte of the stream after a first message.
    L = 65534 - 6
    out["array32-straddle-65536"] = (b"\x92\xc6" + struct.pack(">I", L) +
                                     b"x" * L + b"\xdd\x00\x00\x00\x01\xc0")
    first = req(1, "hello", {"zzz": b"y" * (65534 - 40)})
    first = req(1, "hello", {"zzz": b"y" * (65534 - 40 + 65534 - len(first))})
    assert len(first) == 65534, len(first)
    out["stream-array32-straddle-65536"] = first + b"\xdd\x00\x00\x00\x04\x00\x02\xa5hello\x90"
    # Truncated messages.
    for cut in (1, 2, 3, 4, len(send) // 2, len(send) - 1):
        out["truncated-send-%d" % cut] = send[:cut]
    out["truncated-str32-header"] = b"\x94\x00\x01\xdb\x00\x00"
    out["truncated-after-hello"] = hello + send[:10]
    # Tops that are not arrays.
    out["top-map"] = pack({"type": 0, "msgid": 1, "method": "hello"})
    out["top-int"] = pack(0)
    out["top-str"] = pack("hello")
    out["top-nil"] = b"\xc0"
    out["top-bin"] = pack(b"\x94\x00\x01\xa5hello\x90")
    out["top-ext"] = b"\xd4\x01\x02"
    out["top-float"] = pack(1.5)
    out["byte-c1"] = b"\x94\x00\x01\xc1\x90"
    out["byte-c1-top"] = b"\xc1"
    # Wrong msgpack-rpc types and shapes.
    out["type-response"] = pack([1, 1, None, {}])
    out["type-notification"] = pack([2, "event", [{}]])
    out["type-3"] = pack([3, 1, "hello", []])
    out["type-negative"] = pack([-1, 1, "hello", []])
    out["type-str"] = pack(["0", 1, "hello", []])
    out["array-of-3"] = pack([0, 1, "hello"])
    out["array-of-5"] = pack([0, 1, "hello", [], None])
    out["empty-array"] = pack([])
    out["notification-form"] = pack([2, "hello", [{}]])
    out["notification-form-request"] = pack([2, 1, "hello", []])
    # msgids.
    out["msgid-uint32-max"] = req(0xffffffff, "hello")
    out["msgid-2pow32"] = req(0x100000000, "hello")
    out["msgid-uint64-max"] = req(0xffffffffffffffff, "hello")
    out["msgid-negative"] = req(-1, "hello")
    out["msgid-int8-positive"] = b"\x94\x00\xd0\x05\xa5hello\x90"
    out["msgid-str"] = pack([0, "1", "hello", []])
    out["msgid-float"] = pack([0, 1.0, "hello", []])
    out["msgid-nil"] = pack([0, None, "hello", []])
    # Methods and params.
    out["method-empty"] = pack([0, 1, "", []])
    out["method-int"] = pack([0, 1, 5, []])
    out["method-bin"] = pack([0, 1, b"hello", []])
    out["method-unknown"] = req(1, "invite.sen")
    out["method-long-invalid-utf8"] = pack([0, 1, Raw(b"\xd9\x80" + b"\xc3\x28\x01" * 40 + b"\xe2\x82" + b"m" * 6), []])
    out["method-control-chars"] = pack([0, 1, "hel\nlo\x00\x1b", []])
    out["params-map"] = pack([0, 1, "hello", {}])
    out["params-nil"] = pack([0, 1, "hello", None])
    out["params-two-maps"] = pack([0, 1, "hello", [{}, {}]])
    out["params-int"] = pack([0, 1, "hello", [1]])
    out["args-int-keys"] = pack([0, 1, "member.settings.get", [{1: "alice"}]])
    out["args-repeated-key"] = (b"\x94\x00\x01\xb3member.settings.get\x91\x82"
                                b"\xa6member\xa5alice\xa6member\xa3bob")
    out["args-65"] = req(1, "hello", {"k%d" % i: i for i in range(65)})
    out["args-long-unknown-name"] = req(1, "hello", {"\u00e9" * 100: 1})
    out["args-nil-required"] = req(1, "member.settings.get", {"member": None})
    out["member-invalid-utf8"] = pack([0, 1, "member.settings.get",
                                       [{"member": Raw(b"\xa3a\xff\xfe")}]])
    out["member-65-bytes"] = req(1, "member.settings.get", {"member": "m" * 65})
    out["member-control"] = req(1, "member.settings.get", {"member": "a\x01"})
    out["note-301-chars"] = req(1, "invite.send", {"from": "a", "to": "b",
                                                  "note": "\u00e9" * 301})
    out["note-control"] = req(1, "invite.send", {"from": "a", "to": "b",
                                                "note": "a\x00b"})
    out["expires-in-0"] = req(1, "invite.send", {"from": "a", "to": "b",
                                                "expires_in": 0})
    out["uint-max-args"] = req(1, "invite.list", {
        "member": "a", "box": "sent", "older_than": 2**64 - 1,
        "limit": 2**64 - 1, "after": 2**64 - 1})
    out["events-read-after-max"] = req(1, "events.read", {"all": True,
                                                         "after": 2**64 - 1})
    out["events-member-and-all"] = req(1, "events.read", {
        "member": "a", "all": True, "after": 0})
    out["clock-advance-max"] = req(1, "clock.advance", {"seconds": 2**64 - 1})
    out["clock-advance-int64-max"] = req(1, "clock.advance", {"seconds": 2**63 - 1})
    out["window-max"] = req(1, "stats.get", {"member": "a", "window": 2**64 - 1})
    # Pipelined: several requests in one stream, then bad bytes.
    out["pipeline-3"] = hello + send + req(10, "invite.get", {"id": 1})
    out["pipeline-then-bad"] = hello + b"\xc1" + hello
    out["pipeline-then-malformed"] = hello + pack([1, 2, None, {}]) + hello
    return out


def seeds_streams():
    """Streams of requests through an invitation's states (dispatch)."""
    s = {}
    n = [0]

    def r(m, a=None):
        n[0] += 1
        return req(n[0], m, a)

    def send(f="alice", t="bob", **kw):
        a = {"from": f, "to": t}
        a.update(kw)
        return r("invite.send", a)

    day = 86400
    s["stream-send-accept"] = (send(note="hi") + r("invite.accept", {"actor": "bob", "id": 1}) +
                               r("connection.list", {"member": "alice"}) +
                               r("connection.remove", {"actor": "alice", "other": "bob"}) +
                               r("events.read", {"all": True, "after": 0}))
    s["stream-send-ignore-withdraw-resend"] = (
        send(priority="low") + r("invite.ignore", {"actor": "bob", "id": 1}) +
        r("invite.withdraw", {"actor": "alice", "id": 1}) +
        r("clock.advance", {"seconds": 22 * day}) +
        r("invite.resend", {"actor": "alice", "id": 1, "note": "again"}) +
        r("invite.get", {"id": 2, "actor": "bob"}) +
        r("invite.history", {"a": "alice", "b": "bob"}) +
        r("events.read", {"member": "bob", "after": 0}))
    s["stream-mutual"] = send() + send("bob", "alice") + r("invite.list", {
        "member": "alice", "box": "sent"})
    s["stream-report-block"] = (
        send() + r("invite.report", {"actor": "bob", "id": 1, "reason": "dont_know"}) +
        r("member.block", {"actor": "bob", "other": "carol"}) + send("carol", "bob") +
        r("member.unblock", {"actor": "bob", "other": "carol"}) +
        r("invite.can_send", {"from": "alice", "to": "bob"}) +
        r("stats.get", {"member": "alice"}))
    s["stream-settings-email"] = (
        r("member.settings.set", {"member": "bob", "email": "Bob@Example.com",
                                  "invitations_from": "email"}) +
        send() + send(email="bob@example.com") +
        r("member.settings.get", {"member": "bob"}) +
        r("member.settings.set", {"member": "bob", "invitations_from": "nobody"}) +
        r("invite.can_send", {"from": "carol", "to": "bob"}))
    s["stream-stale-plan"] = (
        send() + send("alice", "carol") + send("alice", "dave") +
        r("clock.advance", {"seconds": 15 * day}) +
        r("invite.advise", {"member": "alice"}) +
        r("plan.withdraw_stale", {"member": "alice", "per_day": 1}) +
        r("plan.list", {"member": "alice"}) +
        r("clock.advance", {"seconds": 2 * day}) +
        r("plan.cancel", {"actor": "alice", "id": 4}) +
        r("clock.advance", {"seconds": 200 * day}) +
        r("invite.list", {"member": "bob", "box": "received", "state": "expired"}) +
        r("server.info"))
    s["stream-subscribe"] = (
        r("events.subscribe", {"member": "bob"}) + send() +
        r("events.unsubscribe") + r("events.subscribe", {"all": True, "after": 5}))
    s["stream-many-sends"] = b"".join(send("alice", "m%d" % i, note="n" * 200)
                                      for i in range(60))
    return s


def write(dirname, seeds, check):
    d = os.path.join(CORPUS, dirname)
    os.makedirs(d, exist_ok=True)
    stale = {f for f in os.listdir(d) if f.startswith("seed-")}
    differ = []
    for name, data in seeds.items():
        f = "seed-" + name
        stale.discard(f)
        p = os.path.join(d, f)
        old = open(p, "rb").read() if os.path.exists(p) else None
        if old == data:
            continue
        differ.append(f)
        if not check:
            open(p, "wb").write(data)
    for f in stale:
        differ.append(f)
        if not check:
            os.unlink(os.path.join(d, f))
    return differ


def main():
    check = "--check" in sys.argv[1:]
    ms = methods()
    margs = method_args()
    extra = sorted(set(margs) - set(ms))
    if extra:
        sys.exit("seeds.py: docs/protocol.md §5 has methods vocab.h lacks: %s"
                 % ", ".join(extra))
    reqs = seeds_requests(ms, margs)
    hostile = seeds_hostile()
    differ = write("decode", dict(reqs, **hostile), check)
    differ += write("dispatch", dict(reqs, **hostile, **seeds_streams()), check)
    if check and differ:
        print("seeds.py: the committed seeds differ: %s" % ", ".join(differ))
        sys.exit(1)


if __name__ == "__main__":
    main()
