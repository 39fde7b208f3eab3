#!/usr/bin/python3
"""tests/crash/crashtest.py: kill -9 cycles (make crashtest; make check runs
a short form through tests/crash.sh). TAP on stdout.

Four writer processes send, accept, ignore, withdraw and resend among a
small set of members, over msgpack-rpc (docs/protocol.md §2) with only
Debian's python3-msgpack. Each appends every operation that was answered
with success to a log of its own before it goes on; an operation whose
answer never came is unknown and is not logged. The driver kills connreqd
with SIGKILL at a random moment, runs `connreqd --check` on the stopped
store (it must be clean), restarts the daemon on the same store, and checks
what the writers were told:

- every acknowledged operation is there, in its answered state or a later
  legal one (pending -> accepted, ignored, withdrawn, expired; ignored ->
  accepted by mutual interest, withdrawn, expired; the others final);
- no id was given twice (by two acknowledged sends or resends);
- the `all` feed is gap-free from seq 1, with no seq twice.

Each cycle checks every operation acknowledged so far, against the
invitations as the members' boxes list them (invite.list: a few requests
per member, not one per operation), and reads the new part of the feed;
every FULL_EVERY cycles, and after the last, it reads the whole feed. The writers reconnect by themselves (bounded polls).

Time runs on the daemon's virtual clock: writers advance it now and then,
so that invitations expire, stale reminders fall due and cooldowns end.

Usage: crashtest.py [--cycles N] [--writers N] [--seed N] [--max-delay S]
CONNREQ_BIN names the directory of connreqd (default build/bin)."""

import argparse
import json
import os
import random
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
MEMBERS = ["m%d" % i for i in range(8)]
FULL_EVERY = 100
# Limits off, so that the writers keep writing; short times, so that the
# deadlines fall due as the writers advance the clock.
CONFIG = """[policy]
resend_cooldown = 1d
stale_after = 2d
expire_after = 10d
max_expire_after = 10d
[limits]
sends_per_week = 0
pending_warn = 0
pending_max = 0
invites_per_pair = 0
withdrawals_per_day = 0
duplicate_note_warn = 0
[health]
restrict_below_rate = 0
reports_to_restrict = 0
[events]
retention = 3650d
"""

# What may follow an acknowledged state (docs/protocol.md §4, §5).
LATER = {
    "pending": {"pending", "accepted", "ignored", "withdrawn", "expired"},
    "ignored": {"ignored", "accepted", "withdrawn", "expired"},
    "accepted": {"accepted"},
    "withdrawn": {"withdrawn"},
    "expired": {"expired"},
}


class RPCError(Exception):
    def __init__(self, error):
        super().__init__("%s: %s" % (error.get("code"), error.get("message"))
                         if isinstance(error, dict) else str(error))
        self.code = error.get("code") if isinstance(error, dict) else None


class Gone(Exception):
    """The connection broke: the daemon is down."""


class Conn:
    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.unpacker = msgpack.Unpacker(raw=False)
        self.msgid = 0

    def close(self):
        self.sock.close()

    def call(self, method, args=None):
        self.msgid += 1
        try:
            self.sock.sendall(msgpack.packb(
                [0, self.msgid, method, [args if args is not None else {}]]))
            while True:
                for msg in self.unpacker:
                    if msg[0] == 1 and msg[1] == self.msgid:
                        if msg[2] is not None:
                            raise RPCError(msg[2])
                        return msg[3]
                data = self.sock.recv(65536)
                if not data:
                    raise Gone()
                self.unpacker.feed(data)
        except (OSError, ValueError) as e:
            raise Gone() from e


def connect(path, deadline, stop_path=None):
    """Connects, polling while the daemon is down, until deadline (or
    until stop_path exists)."""
    while True:
        try:
            return Conn(path)
        except OSError:
            if time.monotonic() > deadline or (
                    stop_path is not None and os.path.exists(stop_path)):
                raise
            time.sleep(0.01)


# The writers --------------------------------------------------------------

def writer(idx, sock_path, log_path, seed, stop_path):
    rng = random.Random(seed)
    log = open(log_path, "a", buffering=1)
    mine = []                   # [id, from, to] of this writer's invitations
    conn = None
    while not os.path.exists(stop_path):
        if conn is None:
            try:
                conn = connect(sock_path, time.monotonic() + 120,
                               stop_path)
            except OSError:
                continue
        op = rng.random()
        try:
            entry = step(conn, rng, op, mine)
        except Gone:
            conn.close()
            conn = None
            continue
        except RPCError:
            continue            # refused: answered, but nothing to check
        if entry is not None:
            log.write(json.dumps(entry) + "\n")
    log.close()


def pick(rng, mine):
    """One of this writer's invitations, the recent ones more often."""
    if not mine:
        return None
    n = len(mine)
    i = n - 1 - min(int(rng.expovariate(1 / 8)), n - 1)
    return mine[i]


def inv_entry(op, inv, **more):
    e = {"op": op, "id": inv["id"], "from": inv["from"], "to": inv["to"],
         "state": inv["state"]}
    e.update(more)
    return e


def step(conn, rng, op, mine):
    if op < 0.40 or not mine:
        a, b = rng.sample(MEMBERS, 2)
        args = {"from": a, "to": b, "note": "hi %d" % rng.randrange(1000)}
        if rng.random() < 0.3:
            args["expires_in"] = rng.randrange(DAY // 2, 5 * DAY)
        r = conn.call("invite.send", args)
        inv = r["invitation"]
        mine.append([inv["id"], a, b])
        return inv_entry("send", inv)
    if op < 0.55:
        i = pick(rng, mine)
        inv = conn.call("invite.accept", {"actor": i[2], "id": i[0]})
        return inv_entry("accept", inv["invitation"])
    if op < 0.65:
        i = pick(rng, mine)
        inv = conn.call("invite.ignore", {"actor": i[2], "id": i[0]})
        return inv_entry("ignore", inv["invitation"])
    if op < 0.80:
        i = pick(rng, mine)
        inv = conn.call("invite.withdraw", {"actor": i[1], "id": i[0]})
        return inv_entry("withdraw", inv["invitation"])
    if op < 0.92:
        i = pick(rng, mine)
        r = conn.call("invite.resend", {"actor": i[1], "id": i[0]})
        inv = r["invitation"]
        mine.append([inv["id"], i[1], i[2]])
        return inv_entry("resend", inv, old=i[0])
    if op < 0.985:
        a, b = rng.sample(MEMBERS, 2)
        conn.call("connection.remove", {"actor": a, "other": b})
        return None
    conn.call("clock.advance", {"seconds": rng.randrange(3600, DAY)})
    return None


# The checks ---------------------------------------------------------------

def pages(conn, member, box):
    """Every invitation in member's box, newest first, a page at a time."""
    after = 0
    while True:
        r = conn.call("invite.list", {"member": member, "box": box,
                                      "limit": 1000, "after": after})
        yield from r["items"]
        if r["next"] is None:
            return
        after = r["next"]


def snapshot(conn):
    """Every invitation's state as the store has it: id -> (state, from,
    to, resend_of). Each is read in its sender's sent box (where one the
    recipient ignored shows as pending, §4); a pending one that is not in
    its recipient's received box was ignored (or withdrawn since, which
    is also a legal successor). A few pages per member, whatever the
    number of operations to check: under the sanitizers each request
    costs milliseconds."""
    states = {}
    for m in MEMBERS:
        for inv in pages(conn, m, "sent"):
            states[inv["id"]] = [inv["state"], inv["from"], inv["to"],
                                 inv.get("resend_of")]
    seen = {}
    for m in MEMBERS:
        for inv in pages(conn, m, "received"):
            seen[inv["id"]] = inv["state"]
    for i, st in states.items():
        # Pending to its sender: ignored, unless the recipient still
        # lists it; then as the recipient saw it, later (it may have been
        # accepted, by mutual interest too, or have expired meanwhile).
        if st[0] == "pending":
            st[0] = seen.get(i, "ignored")
    return states


def check_ops(conn, entries):
    """The problems among these acknowledged operations (read from the
    writers' logs before this call, so each was answered before)."""
    bad = []
    states = snapshot(conn) if entries else {}
    for e in entries:
        got = states.get(e["id"])
        if got is None:
            bad.append("%s of %d acknowledged (%s), now missing" %
                       (e["op"], e["id"], e["state"]))
            continue
        st, frm, to, resend_of = got
        if (frm, to) != (e["from"], e["to"]):
            bad.append("%d is %s -> %s, was %s -> %s" %
                       (e["id"], frm, to, e["from"], e["to"]))
        if st not in LATER[e["state"]]:
            bad.append("%s of %d acknowledged %s, now %s" %
                       (e["op"], e["id"], e["state"], st))
        if e["op"] == "resend" and resend_of != e["old"]:
            bad.append("resend %d: resend_of %r, acknowledged %d" %
                       (e["id"], resend_of, e["old"]))
    return bad


def read_feed(conn, after):
    """The all feed after `after`, to its head: the seqs, in order."""
    seqs = []
    while True:
        r = conn.call("events.read", {"all": True, "after": after,
                                      "limit": 1000})
        for ev in r["events"]:
            seqs.append(ev["seq"])
        if len(r["events"]) < 1000:
            return seqs, r["head"]
        after = r["next"]


def check_feed(seqs, start):
    """Seqs must be start, start+1, ... with none twice."""
    bad = []
    want = start
    for s in seqs:
        if s != want:
            bad.append("all feed: seq %d where %d was due" % (s, want))
            break
        want += 1
    return bad


class Logs:
    """The writers' logs, read as they grow (whole lines only)."""

    def __init__(self, paths):
        self.paths = paths
        self.pos = [0] * len(paths)
        self.partial = [""] * len(paths)

    def new(self):
        out = []
        for i, p in enumerate(self.paths):
            try:
                with open(p) as f:
                    f.seek(self.pos[i])
                    data = f.read()
                    self.pos[i] = f.tell()
            except FileNotFoundError:
                continue
            data = self.partial[i] + data
            lines = data.split("\n")
            self.partial[i] = lines.pop()
            out.extend(json.loads(l) for l in lines if l)
        return out


# The driver ---------------------------------------------------------------

class Daemon:
    def __init__(self, binary, conf, store, sock, logf):
        self.args = [binary, "-c", conf, "-d", store, "-s", sock,
                     "--virtual-clock=%d" % T0]
        self.sock = sock
        self.logf = logf
        self.proc = None

    def start(self, wait=60):
        self.proc = subprocess.Popen(self.args, stdout=self.logf,
                                     stderr=self.logf)
        deadline = time.monotonic() + wait
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("connreqd exited with %d at start" %
                                   self.proc.returncode)
            try:
                c = Conn(self.sock)
                c.call("hello")
                return c
            except (OSError, Gone):
                if time.monotonic() > deadline:
                    raise RuntimeError("connreqd did not answer in %ds" % wait)
                time.sleep(0.01)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-delay", type=float, default=0.5,
                    help="the longest run between kills, in seconds")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory")
    opt = ap.parse_args()
    seed = opt.seed if opt.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    bindir = os.environ.get("CONNREQ_BIN", "build/bin")
    binary = os.path.join(bindir, "connreqd")
    tmp = tempfile.mkdtemp(prefix="connreq-crash-")
    conf = os.path.join(tmp, "connreqd.conf")
    store = os.path.join(tmp, "store")
    sock = os.path.join(tmp, "s.sock")
    stop_path = os.path.join(tmp, "stop")
    with open(conf, "w") as f:
        f.write(CONFIG)
    logf = open(os.path.join(tmp, "connreqd.log"), "ab")
    env_home = {"XDG_CONFIG_HOME": tmp}
    os.environ.update(env_home)

    print("1..%d" % (opt.cycles + 1))
    print("# seed %d, %d writers, %d cycles, up to %.2fs between kills, in %s"
          % (seed, opt.writers, opt.cycles, opt.max_delay, tmp))
    sys.stdout.flush()
    d = Daemon(binary, conf, store, sock, logf)
    try:
        conn = d.start()
    except (RuntimeError, OSError) as e:
        print("Bail out! %s (log: %s)" % (e, tmp))
        return 1
    paths = [os.path.join(tmp, "writer%d.log" % i) for i in range(opt.writers)]
    procs = []
    for i in range(opt.writers):
        pid = os.fork()
        if pid == 0:
            try:
                writer(i, sock, paths[i], seed * 100 + i, stop_path)
            except BaseException as e:     # a writer must not die quietly
                print("# writer %d: %s: %s" % (i, type(e).__name__, e))
                sys.stdout.flush()
            finally:
                os._exit(0)
        procs.append(pid)

    logs = Logs(paths)
    acked = []                  # every acknowledged operation
    ids = {}                    # id -> (writer op) that created it
    feed_seen = 0               # the all feed is checked up to here
    failed = 0
    started = time.monotonic()
    n = 0
    try:
        for cycle in range(1, opt.cycles + 1):
            time.sleep(rng.uniform(0, opt.max_delay))
            conn.close()
            d.kill()
            problems = []
            chk = subprocess.run([binary, "--check", "-d", store],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            if chk.returncode != 0:
                problems.append("connreqd --check exited %d:\n%s" %
                                (chk.returncode, chk.stdout))
            conn = d.start()
            new = logs.new()
            for e in new:
                if e["op"] in ("send", "resend"):
                    if e["id"] in ids:
                        problems.append("id %d given twice: %s and %s" %
                                        (e["id"], ids[e["id"]], e))
                    ids[e["id"]] = e
            full = cycle % FULL_EVERY == 0 or cycle == opt.cycles
            todo = acked + new
            problems += check_ops(conn, todo)
            acked += new
            if full:
                seqs, head = read_feed(conn, 0)
                problems += check_feed(seqs, 1)
            else:
                # From the last event checked, which must still be there.
                seqs, head = read_feed(conn, max(feed_seen - 1, 0))
                problems += check_feed(seqs, max(feed_seen, 1))
            if seqs:
                feed_seen = seqs[-1]
            n += 1
            ok = not problems
            if not ok:
                failed += 1
            print("%s %d - cycle %d: %d acknowledged (%d new), %d checked, "
                  "feed to %d%s" % ("ok" if ok else "not ok", n, cycle,
                                    len(acked), len(new), len(todo),
                                    feed_seen, ", all" if full else ""))
            for p in problems[:20]:
                for line in p.splitlines():
                    print("#   " + line)
            sys.stdout.flush()
    except (RuntimeError, Gone, RPCError, OSError) as e:
        # The daemon died or stopped answering: that is a failure too.
        print("Bail out! cycle %d: %s: %s" % (n + 1, type(e).__name__, e))
        print("# kept %s" % tmp)
        sys.stdout.flush()
        d.stop()
        return 1
    finally:
        open(stop_path, "w").close()
        for pid in procs:
            os.waitpid(pid, 0)
    # What the writers logged after the last check.
    final = logs.new()
    bad = check_ops(conn, final)
    conn.close()
    d.stop()
    chk = subprocess.run([binary, "--check", "-d", store],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if chk.returncode != 0:
        bad.append("connreqd --check after the stop exited %d:\n%s" %
                   (chk.returncode, chk.stdout))
    acked += final
    n += 1
    print("%s %d - after the writers stopped: %d more acknowledged, "
          "--check clean after the stop"
          % ("ok" if not bad else "not ok", n, len(final)))
    for p in bad[:20]:
        for line in p.splitlines():
            print("#   " + line)
    if bad:
        failed += 1
    ops = {}
    for e in acked:
        ops[e["op"]] = ops.get(e["op"], 0) + 1
    print("# %d cycles, %d acknowledged operations (%s), %d events, "
          "%d invitations, %.1fs" %
          (opt.cycles, len(acked),
           ", ".join("%s %d" % kv for kv in sorted(ops.items())),
           feed_seen, len(ids), time.monotonic() - started))
    logf.close()
    if failed == 0 and not opt.keep:
        shutil.rmtree(tmp)
    else:
        print("# kept %s" % tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
