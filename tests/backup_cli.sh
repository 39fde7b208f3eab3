#!/bin/sh
# tests/backup_cli.sh: `connreq backup FILE` when server.info no longer
# names its backup. The CLI begins the backup, then polls server.info until
# the backup it names ends; but server.info keeps only the last backup
# begun, so a second one begun (by another client) between the first's end
# and the CLI's next poll hid the first's end from it: the CLI polled
# forever. Played by a scripted connreqd (no store involved, so no _pg
# twin): store.backup answers "running", server.info names another path.
# TAP; run by prove (make test).

. "$(dirname "$0")/lib/shell.sh"

n=0
rc=
run() {
	timeout 10 "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
out_has() { grep -qF -- "$1" "$tmp/out"; }
err_has() { grep -qF -- "$1" "$tmp/err"; }

# The scripted daemon: msgpack-rpc on SOCKET; store.backup {path} is
# "running", server.info's backup a later one to /elsewhere/other.mdb,
# done.
cat >"$tmp/fake.py" <<'EOF'
import os, socket, sys, msgpack
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
def backup(path, state):
	return {"state": state, "path": path, "bytes": 4096,
	    "started_at": 1767225600000, "took_ms": 5, "error": None}
while True:
	c, _ = s.accept()
	up = msgpack.Unpacker(raw=False)
	try:
		while True:
			b = c.recv(65536)
			if not b:
				break
			up.feed(b)
			for m in up:
				_, msgid, method, params = m
				if method == "store.backup":
					res = {"backup": backup(params[0]["path"], "running")}
				elif method == "server.info":
					res = {"backup": backup("/elsewhere/other.mdb", "done")}
				else:
					res = {}
				c.sendall(msgpack.packb([1, msgid, None, res]))
	except OSError:
		pass
	c.close()
EOF
"$PY" "$tmp/fake.py" "$CONNREQ_SOCKET" </dev/null >/dev/null 2>"$tmp/fake.err" &
wpids="$wpids $!"
i=0
while [ ! -S "$CONNREQ_SOCKET" ] && [ $i -lt 1200 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$CONNREQ_SOCKET" ] || { echo "Bail out! the scripted daemon did not start"; exit 1; }

run backup "$tmp/gone.mdb"
t "a later backup hides this one's end, no file: failed, not a wait forever" \
  '[ $rc -eq 1 ] && err_has "backup to $tmp/gone.mdb failed: server.info names a later backup (to /elsewhere/other.mdb), and $tmp/gone.mdb is not there"'

printf 'a copy' >"$tmp/there.mdb"
run backup "$tmp/there.mdb"
t "... the file there (a backup is renamed into place whole): done" \
  '[ $rc -eq 0 ] && out_has "backup: $tmp/there.mdb, 6 (its end was not seen: server.info names a later backup, to /elsewhere/other.mdb)"'

run --json backup "$tmp/there.mdb"
t "... --json: its path, done, its bytes" \
  '[ $rc -eq 0 ] && $PY -c "import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"path\"] == sys.argv[2] and d[\"state\"] == \"done\" and d[\"bytes\"] == 6, d" "$tmp/out" "$tmp/there.mdb"'

echo "1..$n"
