#!/bin/sh
# tests/trust.sh: the client trusts only a socket that is the user's own
# (issue 9, bug 2). Before sending anything, connreq (libconnreq's
# cr_connect) checks that the socket's directory belongs to the user (or
# root) and that nobody else may write to it, and that the peer's uid is the
# user's own or root; connreqd tightens a socket directory of its own that
# others may write to 0700.
#
# An impostor (a Python listener that records what it receives) runs as
# nobody; the client runs as root (the test's own user) and as another
# unprivileged uid, $U, which needs no account (setpriv takes a number).
# Needs root and setpriv; skipped otherwise.

. "$(dirname "$0")/lib/shell.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root and setpriv (runs the impostor as nobody)"
	exit 0
fi
NOBODY=65534
U=65533
# as UID COMMAND...: runs COMMAND as UID, with no groups (in the foreground:
# what runs in the background is started with setpriv itself, so that $!
# is its pid and the cleanup reaches it).
as() {
	uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
if ! as $NOBODY true 2>/dev/null || ! as $U true 2>/dev/null; then
	echo "1..0 # SKIP setpriv cannot switch to uids $NOBODY and $U"
	exit 0
fi
echo "1..18"
chmod 0755 "$tmp"	# the others' way in; it stays root's and not writable

n=0
rc=
err_has() { grep -qF -- "$1" "$tmp/err"; }
err_lacks() { ! grep -qF -- "$1" "$tmp/err"; }
# run [as UID] CONNREQ ARGUMENTS...
run() {
	if [ "$1" = as ]; then
		uid=$2
		shift 2
		as "$uid" "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	else
		"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
}

# The impostor: listens on SOCKET (mode 0777), and for each connection
# appends "conn BYTES" to LOG once the peer closes or is quiet for a second.
cat >"$tmp/impostor.py" <<'EOF'
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
os.umask(0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
	c, _ = s.accept()
	c.settimeout(1.0)
	got = 0
	try:
		while True:
			b = c.recv(65536)
			if not b:
				break
			got += len(b)
	except OSError:
		pass
	c.close()
	with open(log, "a") as f:
		f.write("conn %d\n" % got)
EOF
chmod 0644 "$tmp/impostor.py"
mkdir -m 0700 "$tmp/logs"
chown $NOBODY "$tmp/logs"

# impostor NAME UID SOCKET: starts one, as UID, logging to $tmp/logs/NAME.
impostor() {
	setpriv --reuid="$2" --regid="$2" --clear-groups \
	    "$PY" "$tmp/impostor.py" "$3" "$tmp/logs/$1" \
	    </dev/null >/dev/null 2>>"$tmp/logs/$1.err" &
	wpids="$wpids $!"
	i=0
	while [ ! -S "$3" ] && [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$3" ] || { echo "Bail out! the impostor did not start"; exit 1; }
}
# heard NAME: what impostor NAME recorded so far, a moment after the client
# ran: for "it heard nothing", where a record made later could only be
# missed, never invented.
heard() {
	sleep 0.3
	cat "$tmp/logs/$1" 2>/dev/null
}
# heard_conn NAME: what impostor NAME recorded, once it has recorded a
# connection (it does when the client closes it), 60 s at most (sanitized
# builds on a loaded machine are slow).
heard_conn() {
	i=0
	while [ ! -s "$tmp/logs/$1" ] && [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	cat "$tmp/logs/$1" 2>/dev/null
}

# ---- the issue's case: XDG_RUNTIME_DIR unset, /tmp/connreq-UID squatted ----
squat=/tmp/connreq-$U
rm -rf "$squat"
mkdir -m 0755 "$squat"
chown $NOBODY "$squat"
impostor squat $NOBODY "$squat/connreqd.sock"
as $U env -u XDG_RUNTIME_DIR -u CONNREQ_SOCKET "$CLI" info \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
t "the default directory made by another user: refused, exit 3" \
  '[ $rc -eq 3 ] && [ ! -s "$tmp/out" ]'
t "... saying whose it is" \
  'err_has "$squat belongs to uid $NOBODY, not you: refusing to use it"'
t "... and the impostor heard nothing" '[ -z "$(heard squat)" ]'
rm -rf "$squat"

# ---- root's client, a directory of another user ----
mkdir -m 0755 "$tmp/imp"
chown $NOBODY "$tmp/imp"
impostor imp $NOBODY "$tmp/imp/connreqd.sock"
run -s "$tmp/imp/connreqd.sock" send alice bob --note "private"
t "root's client, another user's directory: refused, exit 3" \
  '[ $rc -eq 3 ] && err_has "$tmp/imp belongs to uid $NOBODY, not you"'
t "... and the impostor heard nothing" '[ -z "$(heard imp)" ]'
XDG_CONFIG_HOME=$tmp "$BIN/connreqd" -s "$tmp/imp/d.sock" -d "$tmp/imp-db" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
t "connreqd refuses another user's directory" \
  '[ $rc -ne 0 ] && err_has "$tmp/imp belongs to another user"'

# ---- a directory of ours that others may write to ----
mkdir "$tmp/open"
chmod 0777 "$tmp/open"
impostor open $NOBODY "$tmp/open/connreqd.sock"
run -s "$tmp/open/connreqd.sock" info
t "our directory, mode 0777: refused, exit 3" \
  '[ $rc -eq 3 ] && err_has "$tmp/open is writable by others: refusing to use it"'
t "... and the impostor heard nothing" '[ -z "$(heard open)" ]'
mkdir -m 0775 "$tmp/grp"
chown $U "$tmp/grp"
run as $U -s "$tmp/grp/connreqd.sock" info
t "a directory of the user, mode 0775: refused, exit 3" \
  '[ $rc -eq 3 ] && err_has "$tmp/grp is writable by its group: refusing to use it"'

XDG_CONFIG_HOME=$tmp "$BIN/connreqd" -s "$tmp/open/s.sock" -d "$tmp/open-db" \
    >>"$tmp/daemon.log" 2>&1 &
dpid=$!
i=0
while ! "$CLI" -s "$tmp/open/s.sock" info >/dev/null 2>&1 &&
    kill -0 $dpid 2>/dev/null && [ $i -lt 1200 ]; do
	sleep 0.05
	i=$((i + 1))
done
t "connreqd tightens its own directory to 0700" \
  '[ "$(stat -c %a "$tmp/open")" = 700 ] && grep -qF "$tmp/open was writable by others: its mode is now 0700" "$tmp/daemon.log"'
run -s "$tmp/open/s.sock" info
t "... and then the client uses it" '[ $rc -eq 0 ]'
kill $dpid
wait $dpid
dpid=

# ---- a peer of another uid, in a directory of ours ----
# The directory is opened for the impostor to make its socket, then closed
# again: what is left is a safe directory with a stranger behind the socket.
mkdir -m 0777 "$tmp/peer"
impostor peer $NOBODY "$tmp/peer/connreqd.sock"
chmod 0700 "$tmp/peer"
run -s "$tmp/peer/connreqd.sock" send alice bob --note "private"
t "root's client, a peer of uid $NOBODY: refused, exit 3" \
  '[ $rc -eq 3 ] && err_has "$tmp/peer/connreqd.sock: the socket'"'"'s peer is uid $NOBODY, not you: refusing to use it"'
t "... and the impostor got nothing" '[ "$(heard_conn peer)" = "conn 0" ]'

mkdir -m 0777 "$tmp/upeer"
chown $U "$tmp/upeer"
impostor upeer $NOBODY "$tmp/upeer/connreqd.sock"
chmod 0700 "$tmp/upeer"
run as $U -s "$tmp/upeer/connreqd.sock" info
t "uid $U's client, a peer of uid $NOBODY: refused, exit 3" \
  '[ $rc -eq 3 ] && err_has "the socket'"'"'s peer is uid $NOBODY, not you"'
t "... and the impostor got nothing" '[ "$(heard_conn upeer)" = "conn 0" ]'

# ---- what is trusted: the user's own daemon, and root ----
mkdir -m 0700 "$tmp/u"
chown $U "$tmp/u"
XDG_CONFIG_HOME="$tmp/u" setpriv --reuid=$U --regid=$U --clear-groups \
    "$BIN/connreqd" -s "$tmp/u/s.sock" -d "$tmp/u/db" >>"$tmp/u.log" 2>&1 &
dpid=$!
i=0
while ! as $U "$CLI" -s "$tmp/u/s.sock" info >/dev/null 2>&1 &&
    kill -0 $dpid 2>/dev/null && [ $i -lt 1200 ]; do
	sleep 0.05
	i=$((i + 1))
done
run as $U -s "$tmp/u/s.sock" send alice bob
t "uid $U's client, uid $U's own daemon: served" \
  '[ $rc -eq 0 ] && grep -q "alice -> bob" "$tmp/out"'
kill $dpid
wait $dpid
dpid=
t "... and the daemon ran clean" 'sanitized "$tmp/u.log"'

mkdir -m 0755 "$tmp/rootd"
impostor rootd 0 "$tmp/rootd/connreqd.sock"
run as $U -s "$tmp/rootd/connreqd.sock" info
t "uid $U's client trusts root's directory and root's socket" \
  'err_lacks "refusing" && heard_conn rootd | grep -q "^conn [1-9]"'
