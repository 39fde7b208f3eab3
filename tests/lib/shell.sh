# tests/lib/shell.sh: what the shell tests share. Sourced first thing by a test
# under tests/; it sets BIN, CLI, PY, T0, DAY, a temporary directory $tmp
# removed at exit with the daemon ($dpid) and any background processes
# listed in $wpids, and CONNREQ_SOCKET for the client.
#
# CONNREQ_PG=1 (the tests *_pg.sh): start_daemon runs connreqd on
# PostgreSQL (--postgres), on a database of a cluster of the test's own
# (tests/pgserve.c: initdb in a temporary directory, a Unix socket only,
# stopped at exit); $backend is then postgresql (else lmdb) and
# `pg_conninfo N` is the conninfo of its N-th database (1: start_daemon's,
# 2: another, for a second store).

BIN=${CONNREQ_BIN:-$(cd "$(dirname "$0")/../build/bin" && pwd)}
CLI=$BIN/connreq
PY=/usr/bin/python3
T0=1767225600			# 2026-01-01 00:00 UTC
DAY=86400

tmp=$(mktemp -d) || { echo "Bail out! mktemp failed"; exit 1; }
dpid=
wpids=
pgpid=
backend=lmdb
[ -n "$CONNREQ_PG" ] && backend=postgresql
cleanup() {
	for p in $wpids; do
		kill "$p" 2>/dev/null
	done
	for p in $wpids; do
		wait "$p" 2>/dev/null
	done
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	if [ -n "$pgpid" ]; then
		kill "$pgpid" 2>/dev/null
		wait "$pgpid" 2>/dev/null
	fi
	cd / && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

CONNREQ_SOCKET=$tmp/s.sock
export CONNREQ_SOCKET

# pg_start: the test's PostgreSQL cluster, with two databases (once; 60 s
# at most).
pg_start() {
	[ -n "$pgpid" ] && return
	"$BIN/../tests/pgserve" 2 >"$tmp/pg" 2>"$tmp/pg.err" &
	pgpid=$!
	i=0
	while ! grep -qx ready "$tmp/pg"; do
		if grep -qx failed "$tmp/pg" || ! kill -0 "$pgpid" 2>/dev/null ||
		    [ $i -ge 1200 ]; then
			echo "Bail out! the PostgreSQL cluster did not start:"
			sed 's/^/# /' "$tmp/pg.err"
			exit 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# pg_conninfo N: the conninfo of the cluster's N-th database (pg_start
# first: in $(...), a cluster started would go with the subshell).
pg_conninfo() {
	pg_start
	sed -n "${1}p" "$tmp/pg"
}

# start_daemon [CONNREQD OPTIONS]: starts connreqd on $tmp/db (on
# PostgreSQL: the cluster's first database), with its configuration from
# $tmp/connreq/connreqd.conf when the test wrote one, and waits until it
# answers (after a kill -9 the old socket file is still there, so the file
# alone says nothing), 60 s at most (sanitized builds on a loaded machine
# are slow).
start_daemon() {
	if [ "$backend" = postgresql ]; then
		pg_start
		set -- --postgres "$(pg_conninfo 1)" "$@"
	fi
	XDG_CONFIG_HOME="$tmp" "$BIN/connreqd" -s "$tmp/s.sock" -d "$tmp/db" "$@" \
	    >>"$tmp/daemon.log" 2>&1 &
	dpid=$!
	i=0
	while ! "$CLI" info >/dev/null 2>&1; do
		if ! kill -0 "$dpid" 2>/dev/null || [ $i -ge 1200 ]; then
			echo "Bail out! connreqd did not start:"
			sed 's/^/# /' "$tmp/daemon.log"
			exit 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# sanitized FILE...: no sanitizer report in them.
sanitized() { ! grep -qE "Sanitizer|runtime error:" "$@"; }

# t DESCRIPTION CONDITION, for tests that run the CLI with its output in
# $tmp/out and $tmp/err and its exit status in $rc: CONDITION is shell code
# about that run, which must also be free of sanitizer reports (a leak
# exits 1, as a refusal does). A test with other needs defines its own.
t() {
	n=$((n + 1))
	if eval "$2" && sanitized "$tmp/err"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   failed: $2"
		echo "#   exit status: $rc"
		sed 's/^/#   out: /' "$tmp/out"
		sed 's/^/#   err: /' "$tmp/err"
	fi
}
