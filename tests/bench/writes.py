#!/usr/bin/python3
"""tests/bench/writes.py: what a send writes, for docs/performance.md's
"Fewer scattered writes". Not part of make test or make bench.

    tests/bench/writes.py BUILD_BIN [SEED [N [DEPTH]]]

starts BUILD_BIN/connreqd on a new store in a temporary directory (a
virtual clock), sends SEED invitations (the bench's pairs: tests/bench/
bench.c's send_pair) 64 in flight on one connection, then N more (DEPTH in
flight: 1, one at a time, by default), and prints:

- connreqd's CPU (utime + stime, /proc) per send over the N;
- with strace on PATH, a second run of the N under `strace -f` on
  connreqd: the bytes written to data.mdb / 4096 per send and the system
  calls that wrote them;
- the rows each commit put or deleted, per database index of the store's
  layout, from the records left in its log (connreqd is killed, so the
  log keeps them).

Defaults: SEED 20000, N 1000, DEPTH 1. /usr/bin/python3 (Debian's, with
python3-msgpack)."""

import collections
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import msgpack

M64 = (1 << 64) - 1


def mix64(x):
    x ^= x >> 33
    x = (x * 0xff51afd7ed558ccd) & M64
    x ^= x >> 33
    x = (x * 0xc4ceb9fe1a85ec53) & M64
    x ^= x >> 33
    return x


class Daemon:
    def __init__(self, bindir):
        self.dir = tempfile.mkdtemp(prefix="connreq-writes.")
        sock = self.dir + "/s"
        self.proc = subprocess.Popen(
            [bindir + "/connreqd", "-s", sock, "-d", self.dir + "/store",
             "--virtual-clock=1767225600"],
            stderr=open(self.dir + "/log", "w"))
        for _ in range(1000):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)
        self.up = msgpack.Unpacker(raw=False)
        self.msgid = 0
        self.k = 0
        self.errors = 0

    def request(self):
        f = self.k % 500009
        t = mix64(self.k) % 10000000
        if t == f:
            t += 1
        self.k += 1
        self.msgid += 1
        return msgpack.packb([0, self.msgid, "invite.send",
                              [{"from": "u%d" % f, "to": "u%d" % t}]])

    def sends(self, n, depth):
        """n sends, depth in flight."""
        sent = min(depth, n)
        self.sock.sendall(b"".join(self.request() for _ in range(sent)))
        got = 0
        while got < n:
            self.up.feed(self.sock.recv(1 << 16))
            for m in self.up:
                got += 1
                if m[2] is not None:
                    self.errors += 1
                if sent < n:
                    self.sock.sendall(self.request())
                    sent += 1

    def cpu(self):
        f = open("/proc/%d/stat" % self.proc.pid).read().rsplit(")", 1)[1]
        f = f.split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def fds(self):
        out = {}
        for fd in os.listdir("/proc/%d/fd" % self.proc.pid):
            try:
                out[fd] = os.path.basename(
                    os.readlink("/proc/%d/fd/%s" % (self.proc.pid, fd)))
            except OSError:
                pass
        return out

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def log_rows(path, n):
    """Puts and deletes per database index over the last n commits."""
    w = open(path, "rb").read()
    off, recs = 65536, []
    while off + 24 <= len(w):
        ln = struct.unpack(">I", w[off:off + 4])[0]
        if ln == 0 or off + 24 + ln > len(w):
            break
        recs.append(w[off + 24:off + 24 + ln])
        off += 24 + ln
    rows = collections.Counter()
    for r in recs[-n:]:
        q = 0
        while q < len(r):
            op, idx = r[q], r[q + 1]
            kl = struct.unpack(">H", r[q + 2:q + 4])[0]
            q += 4
            vl = 0
            if op == 1:
                vl = struct.unpack(">I", r[q:q + 4])[0]
                q += 4
            rows[("put" if op == 1 else "del", idx)] += 1
            q += kl + vl
    return rows, len(recs[-n:])


def main():
    bindir = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    depth = int(sys.argv[4]) if len(sys.argv) > 4 else 1

    d = Daemon(bindir)
    d.sends(seed, 64)
    c0 = d.cpu()
    d.sends(n, depth)
    c1 = d.cpu()
    d.kill()
    shutil.rmtree(d.dir)
    print("cpu: %.1f us per send (%d sends, %d in flight, after %d)"
          % ((c1 - c0) / n * 1e6, n, depth, seed))

    if shutil.which("strace") is None:
        return
    d = Daemon(bindir)
    d.sends(seed, 64)
    trace = d.dir + "/trace"
    st = subprocess.Popen(["strace", "-f", "-qq", "-p", str(d.proc.pid),
                           "-e", "trace=pwrite64,pwritev,writev",
                           "-e", "signal=none", "-o", trace])
    time.sleep(1.0)
    fds = d.fds()
    d.sends(n, depth)
    time.sleep(0.5)
    st.send_signal(signal.SIGINT)
    st.wait()
    d.kill()
    written, calls = 0, collections.Counter()
    for line in open(trace):
        m = re.search(r"(pwrite64|pwritev|writev)\((\d+),.*= (\d+)$", line)
        if m and fds.get(m.group(2)) == "data.mdb":
            written += int(m.group(3))
            calls[m.group(1)] += 1
    print("data.mdb: %.2f pages written per send; %s"
          % (written / 4096 / n, ", ".join(
              "%s %.2f" % (c, k / n) for c, k in sorted(calls.items()))))
    rows, commits = log_rows(d.dir + "/store/wal", n)
    print("rows per commit (%d commits), by database index: %s" % (
        commits, ", ".join("%s #%d %.2f" % (op, idx, k / max(commits, 1))
                           for (op, idx), k in sorted(rows.items(),
                                                      key=lambda x: x[0][1]))))
    if d.errors:
        print("errors: %d" % d.errors)
    shutil.rmtree(d.dir)


main()
