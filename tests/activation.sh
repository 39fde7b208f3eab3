#!/bin/sh
# tests/activation.sh: connreqd under systemd's protocols, without systemd:
# systemd-socket-activate holds the socket and starts connreqd at the first
# connection, which connreqd must then serve; a small Python listener on
# NOTIFY_SOCKET records what it tells systemd (READY=1 once the store is
# open and overdue deadlines are handled, STATUS=, WATCHDOG=1, RELOADING=1,
# STOPPING=1). TAP; run by prove (make test), which sets CONNREQ_BIN.
#
# Rule timing is driven by the virtual clock, never by sleeping; the short
# sleeps below only wait, boundedly, for a process or a line to appear.

BIN=${CONNREQ_BIN:-$(cd "$(dirname "$0")/../build/bin" && pwd)}
CLI=$BIN/connreq
PY=/usr/bin/python3
T0=1767225600			# 2026-01-01 00:00 UTC
DAY=86400

echo "1..19"
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	# Debian's systemd package has it; make deps installs that.
	i=0
	while [ $i -lt 19 ]; do
		i=$((i + 1))
		echo "ok $i # SKIP systemd-socket-activate is not installed"
	done
	exit 0
fi

tmp=$(mktemp -d) || { echo "Bail out! mktemp failed"; exit 1; }
apid=
lpid=
cleanup() {
	for p in $apid $lpid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- helpers ----

# rpc.py SOCKET METHOD JSON_ARGS...: the requests, one after the other on
# one connection, each answer printed as a JSON line {"error", "result"}.
# Only the msgpack this test needs, so it needs no Python package.
cat >"$tmp/rpc.py" <<'EOF'
import json, socket, struct, sys

def pack(o):
    if o is None:
        return b"\xc0"
    if isinstance(o, bool):
        return b"\xc3" if o else b"\xc2"
    if isinstance(o, int):
        assert 0 <= o < 2**32
        return bytes([o]) if o < 128 else b"\xce" + struct.pack(">I", o)
    if isinstance(o, str):
        b = o.encode()
        assert len(b) < 256
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else
                b"\xd9" + bytes([len(b)])) + b
    if isinstance(o, list):
        assert len(o) < 16
        return bytes([0x90 | len(o)]) + b"".join(pack(x) for x in o)
    assert isinstance(o, dict) and len(o) < 16
    return bytes([0x80 | len(o)]) + b"".join(pack(k) + pack(v)
                                             for k, v in o.items())

class More(Exception):
    pass

def unpack(b, i):
    def take(n):
        nonlocal i
        if i + n > len(b):
            raise More()
        i += n
        return b[i - n:i]
    def num(fmt, n):
        return struct.unpack(fmt, take(n))[0]
    t = take(1)[0]
    if t < 0x80:
        return t, i
    if t >= 0xe0:
        return t - 0x100, i
    if 0x80 <= t <= 0x8f or t in (0xde, 0xdf):
        n = t & 0x0f if t <= 0x8f else num(">H", 2) if t == 0xde else num(">I", 4)
        d = {}
        for _ in range(n):
            k, i = unpack(b, i)
            d[k], i = unpack(b, i)
        return d, i
    if 0x90 <= t <= 0x9f or t in (0xdc, 0xdd):
        n = t & 0x0f if t <= 0x9f else num(">H", 2) if t == 0xdc else num(">I", 4)
        a = []
        for _ in range(n):
            v, i = unpack(b, i)
            a.append(v)
        return a, i
    if 0xa0 <= t <= 0xbf or t in (0xd9, 0xda, 0xdb):
        n = (t & 0x1f if t <= 0xbf else num(">B", 1) if t == 0xd9 else
             num(">H", 2) if t == 0xda else num(">I", 4))
        return take(n).decode(), i
    if t in (0xc4, 0xc5, 0xc6):
        n = num(">B", 1) if t == 0xc4 else num(">H", 2) if t == 0xc5 else num(">I", 4)
        return take(n).hex(), i
    simple = {0xc0: None, 0xc2: False, 0xc3: True}
    if t in simple:
        return simple[t], i
    fmts = {0xca: (">f", 4), 0xcb: (">d", 8), 0xcc: (">B", 1), 0xcd: (">H", 2),
            0xce: (">I", 4), 0xcf: (">Q", 8), 0xd0: (">b", 1), 0xd1: (">h", 2),
            0xd2: (">i", 4), 0xd3: (">q", 8)}
    return num(*fmts[t]), i

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(sys.argv[1])
buf = b""
msgid = 0
args = sys.argv[2:]
for method, params in zip(args[0::2], args[1::2]):
    msgid += 1
    s.sendall(pack([0, msgid, method, [json.loads(params)]]))
    while True:
        try:
            msg, used = unpack(buf, 0)
        except More:
            data = s.recv(65536)
            if not data:
                sys.exit("rpc.py: connreqd closed the connection")
            buf += data
            continue
        buf = buf[used:]
        if msg[0] == 1 and msg[1] == msgid:
            print(json.dumps({"error": msg[2], "result": msg[3]}))
            break
EOF

# notify.py SOCKET LOG: a NOTIFY_SOCKET that appends each datagram to LOG,
# followed by a line ".", for at most two minutes.
cat >"$tmp/notify.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.monotonic() + 120
with open(sys.argv[2], "a") as f:
    while time.monotonic() < end:
        try:
            m = s.recv(4096)
        except socket.timeout:
            continue
        f.write(m.decode("utf-8", "replace") + "\n.\n")
        f.flush()
EOF

n=0
sanitized() { ! grep -qE "Sanitizer|runtime error:" "$@"; }
# t DESCRIPTION CONDITION [FILES TO SHOW ON FAILURE]
t() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   failed: $2"
		shift 2
		for f in "$@"; do
			[ -f "$f" ] && sed "s|^|#   $(basename "$f"): |" "$f"
		done
	fi
}
# wait_for CONDITION: polls it for up to 60 s (sanitized builds on a loaded
# machine are slow).
wait_for() {
	i=0
	while ! eval "$1"; do
		[ $i -ge 1200 ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}
# notified LINE: the listener received LINE.
notified() { grep -qxF -- "$1" "$tmp/notify.log"; }
# The ordinal of the datagram whose first line is LINE (first or last one).
datagram_no() {
	awk -v l="$1" -v which="$2" 'BEGIN { k = 1; s = 1 }
	    $0 == "." { k++; s = 1; next }
	    s && $0 == l { if (which == "first" && !f) f = k; last = k }
	    { s = 0 }
	    END { print (which == "first" ? f : last) + 0 }' "$tmp/notify.log"
}
# What systemd-socket-activate passes on: the sanitizers' options, if any.
pass_env=
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	eval "[ -n \"\${$v+x}\" ]" && pass_env="$pass_env -E $v"
done

# ---- a store with an invitation that falls due while connreqd is down ----
XDG_CONFIG_HOME="$tmp" "$BIN/connreqd" -s "$tmp/plain.sock" -d "$tmp/db" \
    --virtual-clock=$T0 >"$tmp/plain.log" 2>&1 &
ppid=$!
wait_for '"$CLI" -s "$tmp/plain.sock" info >/dev/null 2>&1 || ! kill -0 $ppid 2>/dev/null'
"$CLI" -s "$tmp/plain.sock" send carol dave >"$tmp/out" 2>&1
rc=$?
kill "$ppid"
wait "$ppid"
prc=$?
t "setup: a plain connreqd keeps a pending invitation and stops" \
  '[ $rc -eq 0 ] && [ $prc -eq 0 ] && [ ! -e "$tmp/plain.sock" ] && sanitized "$tmp/plain.log"' \
  "$tmp/out" "$tmp/plain.log"

# ---- socket activation, 200 days later: the invitation is overdue ----
$PY "$tmp/notify.py" "$tmp/notify.sock" "$tmp/notify.log" &
lpid=$!
wait_for '[ -S "$tmp/notify.sock" ]'
NOTIFY_SOCKET=$tmp/notify.sock WATCHDOG_USEC=200000 \
    systemd-socket-activate -l "$tmp/s.sock" \
    -E NOTIFY_SOCKET -E WATCHDOG_USEC -E XDG_CONFIG_HOME="$tmp" $pass_env \
    "$BIN/connreqd" -d "$tmp/db" --virtual-clock=$((T0 + 200 * DAY)) \
    >"$tmp/daemon.log" 2>&1 &
apid=$!
wait_for '[ -S "$tmp/s.sock" ] || ! kill -0 $apid 2>/dev/null'
t "systemd-socket-activate listens and has not started connreqd yet" \
  '[ -S "$tmp/s.sock" ] && ! grep -q "^connreqd:" "$tmp/daemon.log" && [ ! -s "$tmp/notify.log" ]' \
  "$tmp/daemon.log"

# The first connection starts connreqd, and is served.
$PY "$tmp/rpc.py" "$tmp/s.sock" hello '{}' \
    invite.send '{"from": "alice", "to": "bob"}' >"$tmp/out" 2>"$tmp/err"
rc=$?
t "the first client's hello is answered" \
  '[ $rc -eq 0 ] && $PY -c "import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r[\"error\"] is None and r[\"result\"][\"server\"] == \"connreqd\" and r[\"result\"][\"protocol\"] == 1" "$tmp/out"' \
  "$tmp/out" "$tmp/err" "$tmp/daemon.log"
t "and so is its invitation, on the same connection" \
  '[ $rc -eq 0 ] && $PY -c "import json, sys
r = json.loads(open(sys.argv[1]).readlines()[1])
i = r[\"result\"][\"invitation\"]
assert r[\"error\"] is None and i[\"id\"] == 2 and i[\"state\"] == \"pending\" and i[\"from\"] == \"alice\"" "$tmp/out"' \
  "$tmp/out" "$tmp/err" "$tmp/daemon.log"
t "connreqd logs that it uses the socket systemd passed" \
  'grep -qF "connreqd: socket $tmp/s.sock: passed by systemd (socket activation)" "$tmp/daemon.log"' \
  "$tmp/daemon.log"
t "it handled the overdue deadlines at start" \
  'grep -qE "handled [1-9][0-9]* deadlines" "$tmp/daemon.log"' "$tmp/daemon.log"
wait_for 'notified READY=1'
t "READY=1 arrives" 'notified READY=1' "$tmp/notify.log" "$tmp/daemon.log"
t "with a status line counted after the overdue expiry" \
  '[ "$(sed -n "/^READY=1\$/{n;p;q}" "$tmp/notify.log")" = "STATUS=0 clients, 0 pending invitations" ]' \
  "$tmp/notify.log"
t "once, before anything else is said" \
  '[ "$(grep -cxF READY=1 "$tmp/notify.log")" -eq 1 ] && [ "$(datagram_no READY=1 first)" -eq 1 ]' \
  "$tmp/notify.log"
wait_for 'notified "STATUS=0 clients, 1 pending invitation"'
t "STATUS= follows the invitation within a second or so" \
  'notified "STATUS=0 clients, 1 pending invitation"' "$tmp/notify.log"
wait_for '[ "$(grep -cxF WATCHDOG=1 "$tmp/notify.log")" -ge 2 ]'
t "WATCHDOG=1 pings, as WATCHDOG_USEC asks" \
  '[ "$(grep -cxF WATCHDOG=1 "$tmp/notify.log")" -ge 2 ] && grep -q "watchdog: pinging every 100 ms" "$tmp/daemon.log"' \
  "$tmp/notify.log" "$tmp/daemon.log"

"$CLI" -s "$tmp/s.sock" --json info >"$tmp/out" 2>"$tmp/err"
rc=$?
t "a later client is served by the same process" \
  '[ $rc -eq 0 ] && kill -0 $apid && $PY -c "import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"counts\"][\"pending\"] == 1 and d[\"counts\"][\"expired\"] == 1" "$tmp/out"' \
  "$tmp/out" "$tmp/err"

# SIGHUP (ExecReload=): RELOADING=1, then READY=1 again.
kill -HUP $apid
wait_for '[ "$(grep -cxF READY=1 "$tmp/notify.log")" -ge 2 ]'
t "SIGHUP says RELOADING=1 with MONOTONIC_USEC=" \
  '[ "$(datagram_no RELOADING=1 first)" -gt 0 ] && grep -qE "^MONOTONIC_USEC=[0-9]+\$" "$tmp/notify.log"' \
  "$tmp/notify.log"
t "then READY=1" \
  '[ "$(datagram_no READY=1 last)" -gt "$(datagram_no RELOADING=1 first)" ]' \
  "$tmp/notify.log"

kill -TERM $apid
wait $apid
rc=$?
apid=
t "SIGTERM stops it cleanly" '[ $rc -eq 0 ] && grep -q "^connreqd: stopped" "$tmp/daemon.log"' \
  "$tmp/daemon.log"
t "after STOPPING=1" 'notified STOPPING=1' "$tmp/notify.log"
t "leaving systemd's socket in place" '[ -S "$tmp/s.sock" ]'
t "no sanitizer report" 'sanitized "$tmp/daemon.log" "$tmp/err"' "$tmp/daemon.log"

# ---- a passed socket connreqd cannot use: a datagram socket ----
systemd-socket-activate --datagram -l "$tmp/dgram.sock" \
    -E XDG_CONFIG_HOME="$tmp" $pass_env \
    "$BIN/connreqd" -d "$tmp/db2" --virtual-clock=$T0 >"$tmp/dgram.log" 2>&1 &
apid=$!
wait_for '[ -S "$tmp/dgram.sock" ] || ! kill -0 $apid 2>/dev/null'
$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"x", sys.argv[1])' "$tmp/dgram.sock"
wait $apid
rc=$?
apid=
t "a datagram socket from systemd is refused, exit 1" \
  '[ $rc -eq 1 ] && grep -q "is not a listening Unix stream socket" "$tmp/dgram.log" && sanitized "$tmp/dgram.log"' \
  "$tmp/dgram.log"
