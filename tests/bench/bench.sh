#!/bin/sh
# tests/bench/bench.sh: make bench. Starts, in one temporary directory,
# connreqd on a new store, Redis (appendonly yes, appendfsync always, no
# snapshots) and a PostgreSQL 15 cluster (run as nobody, defaults for
# durability), each on a Unix socket only; prints the machine; runs the load
# generator (tests/bench/bench.c), which prints one line per case; stops all
# three (also on failure or Ctrl-C) and removes the directory.
#
# connreqd and redis-server run with tests/faults/iofault.c preloaded in
# count-only mode (IOFAULT_COUNT), which counts their syncs: a mutex and an
# atomic add per write or sync on a store file, nothing else.
#
# The cases of issue 10's targets (idle-10k, fanout-1k, expire-1m and the
# opt-in big-store) start connreqds of their own, in the same temporary
# directory (bench.c, --build and --work); Redis and PostgreSQL are started
# only when a comparison case is selected, or the opt-in capacity case
# (issue 11's capacity model, docs/scaling.md: stores of BENCH_CAP_N
# invitations on LMDB and on PostgreSQL, databases capacity_N of this
# cluster).
#
# Environment: BENCH_BIN (the build directory: bin/connreqd, lib/libiofault.so,
# tests/bench/bench, tests/bench/mkstore), BENCH_SECONDS (5), BENCH_REPS (3),
# BENCH_CASES (all but big-store and capacity), BENCH_KEEP=1 keeps the temporary
# directory, BENCH_NOCOUNT=1 runs both without the shim (no sync counts: to
# see what counting costs); BENCH_EXPIRE_N (1000000) for expire-1m;
# BENCH_BIG=1 adds big-store, BENCH_BIG_N (10000000) and BENCH_BIG_DIR
# (BENCH_BIN/bench-big: its stores, kept for the next run, and capacity's
# LMDB stores, cap-N); BENCH_CAP_N (1000000,10000000): capacity's sizes,
# BENCH_CAP_REUSE=1: its LMDB stores of the last run, not built anew;
# BENCH_IMPORT_N (1000000) for import-1m.
set -eu

BIN=${BENCH_BIN:-$(pwd)/build}
PGBIN=/usr/lib/postgresql/15/bin
NOBODY=65534
BENCH_BIG_DIR=${BENCH_BIG_DIR:-$BIN/bench-big}
export BENCH_BIG_DIR

# Redis and PostgreSQL: only for the comparison cases.
PEERS=1
if [ -n "${BENCH_CASES:-}" ]; then
	PEERS=
	for c in $(echo "$BENCH_CASES" | tr ',' ' '); do
		case $c in
		idle-10k | fanout-1k | expire-1m | big-store | import-1m) ;;
		*) PEERS=1 ;;
		esac
	done
fi

for f in "$BIN/bin/connreqd" "$BIN/lib/libiofault.so" "$BIN/tests/bench/bench" \
    "$BIN/tests/bench/mkstore" \
    ${PEERS:+"$PGBIN/initdb" "$PGBIN/pg_ctl" "$PGBIN/pgbench" "$PGBIN/psql"} \
    ${PEERS:+/usr/bin/redis-server /usr/bin/redis-cli}; do
	[ -x "$f" ] || { echo "bench: $f is missing (make bench installs it)" >&2; exit 1; }
done

PRELOAD=$BIN/lib/libiofault.so
[ "${BENCH_NOCOUNT:-}" = 1 ] && PRELOAD=
T=$(mktemp -d /tmp/connreq-bench.XXXXXX)
chmod 711 "$T"
CR_PID= RD_PID= PG_UP= CP1_PID= CP2_PID= CPEER_PID=

stop() {
	st=$?
	trap - EXIT INT TERM
	[ -n "$CR_PID" ] && kill "$CR_PID" 2>/dev/null && wait "$CR_PID" 2>/dev/null
	[ -n "$RD_PID" ] && kill "$RD_PID" 2>/dev/null && wait "$RD_PID" 2>/dev/null
	for p in $CP1_PID $CP2_PID $CPEER_PID; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "$PG_UP" ] && setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	    "$PGBIN/pg_ctl" -D "$T/pg/data" -m fast -w stop >/dev/null 2>&1
	if [ "$st" != 0 ]; then
		for l in "$T/connreq/log" "$T/redis/log" "$T/pg/log" \
		    "$T/cpg1/log" "$T/cpg2/log"; do
			[ -f "$l" ] && { echo "== $l" >&2; tail -n 20 "$l" >&2; }
		done
	fi
	if [ "${BENCH_KEEP:-}" = 1 ]; then
		echo "bench: kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$st"
}
trap stop EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for WHAT COMMAND...: up to 10 s
	what=$1; shift; i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "bench: $what did not start" >&2; exit 1; }
		sleep 0.1
	done
}

# --- the machine
dev=$(df -P "$T" | awk 'NR == 2 { print $1 }')
fstype=$(df -PT "$T" | awk 'NR == 2 { print $2 }')
disk=$(lsblk -ndo NAME,ROTA,SIZE,MODEL "$(echo "$dev" | sed 's/[0-9]*$//;s/p$//')" 2>/dev/null |
    awk 'NR == 1 { m = ""; for (i = 4; i <= NF; i++) m = m " " $i
        printf "%s, %s, rotational=%s%s", $1, $3, $2, m }' || true)
echo "# make bench $(date -u '+%Y-%m-%d %H:%M UTC'), connreq $(git describe --always --dirty 2>/dev/null || echo '?')"
echo "# machine: $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "# temp dir $T: $fstype on $dev${disk:+ ($disk)}"
[ -z "$PEERS" ] ||
    echo "# $(/usr/bin/redis-server --version | cut -d' ' -f1-3); $("$PGBIN/postgres" --version)"
echo "# BENCH_SECONDS=${BENCH_SECONDS:-5} BENCH_REPS=${BENCH_REPS:-3}; shared machine: load is noisy"

# --- connreqd: default configuration, a new store
mkdir -m 700 "$T/connreq" "$T/connreq/cfg" "$T/connreq/store"
XDG_CONFIG_HOME=$T/connreq/cfg LD_PRELOAD=$PRELOAD \
    IOFAULT_DIR=$T/connreq/store IOFAULT_COUNT=$T/connreq/counts \
    "$BIN/bin/connreqd" -s "$T/connreq/sock" -d "$T/connreq/store" \
    >"$T/connreq/log" 2>&1 &
CR_PID=$!
wait_for connreqd test -S "$T/connreq/sock"

if [ -z "$PEERS" ]; then
	"$BIN/tests/bench/bench" --connreq "$T/connreq/sock" --build "$BIN" \
	    --work "$T" ${PRELOAD:+--connreq-counts "$T/connreq/counts"}
	exit 0
fi

# --- Redis: Unix socket only, every write fsynced before the answer
mkdir -m 700 "$T/redis" "$T/redis/data"
cat >"$T/redis/redis.conf" <<EOF
port 0
unixsocket $T/redis/sock
unixsocketperm 700
dir $T/redis/data
appendonly yes
appendfsync always
save ""
daemonize no
logfile $T/redis/log
EOF
LD_PRELOAD=$PRELOAD IOFAULT_DIR=$T/redis/data \
    IOFAULT_COUNT=$T/redis/counts /usr/bin/redis-server "$T/redis/redis.conf" &
RD_PID=$!
wait_for redis-server /usr/bin/redis-cli -s "$T/redis/sock" ping

# --- PostgreSQL 15: initdb as nobody, Unix socket only, durability defaults
mkdir -m 755 "$T/pg"
chown $NOBODY:$NOBODY "$T/pg"
(cd "$T/pg" && setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    env HOME="$T/pg" "$PGBIN/initdb" -D "$T/pg/data" -U postgres \
    --auth=trust -E UTF8 >"$T/pg/initdb.log" 2>&1) ||
    { cat "$T/pg/initdb.log" >&2; exit 1; }
(cd "$T/pg" && setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    env HOME="$T/pg" "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$T/pg' -c max_connections=100" \
    start >/dev/null)
PG_UP=1
psql() { "$PGBIN/psql" -h "$T/pg" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql -d postgres -c 'CREATE DATABASE bench'
# The same work as an invite.send: an invitation row and an event row in
# one transaction, one pending invitation per pair (a partial unique index).
psql -d bench <<'EOF'
CREATE TABLE invitations (
	id bigserial PRIMARY KEY,
	from_id text NOT NULL,
	to_id text NOT NULL,
	state text NOT NULL DEFAULT 'pending',
	note text NOT NULL DEFAULT '',
	priority text NOT NULL DEFAULT 'medium',
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX invitations_pending_pair ON invitations (from_id, to_id)
	WHERE state = 'pending';
CREATE TABLE events (
	id bigserial PRIMARY KEY,
	member text NOT NULL,
	type text NOT NULL,
	invitation_id bigint NOT NULL,
	at timestamptz NOT NULL
);
EOF
# One statement (one round trip, one transaction), as connreqd's send is one
# request: the fairest shape for PostgreSQL. The pairs are drawn like the
# generator's (500,009 senders, 10,000,000 recipients).
cat >"$T/pg/send.sql" <<'EOF'
\set f random(0, 500008)
\set t random(0, 9999999)
WITH i AS (INSERT INTO invitations (from_id, to_id, expires_at) VALUES ('u' || :f, 'u' || :t, now() + interval '180 days') ON CONFLICT DO NOTHING RETURNING id, to_id) INSERT INTO events (member, type, invitation_id, at) SELECT to_id, 'invitation.received', id, now() FROM i;
EOF

# The gets' script: one invitation by id, as invite.get (ids of the rows
# the send cases made).
cat >"$T/pg/get.sql" <<'EOF'
\set i random(1, 10000)
SELECT id, from_id, to_id, state, note, priority, created_at, updated_at, expires_at FROM invitations WHERE id = :i;
EOF

# The same inserts as an invite.send, one transaction a send: the script
# above writes two rows where a send writes nine (an invitation, its pair,
# its sender's log row, both members, three deadlines and an event), so
# this one writes those nine rows, into connreqd's own schema (made by a
# connreqd started once on the database `peer`, then stopped), with
# connreqd's indexes. It leaves out what a send reads (the limits, the
# pair, the recipient's settings) and the counters: all in the script's
# favour. The event's bytes are a real invitation.received's.
psql -d postgres -c 'CREATE DATABASE peer'
mkdir -m 700 "$T/cpeer" "$T/cpeer/cfg"
XDG_CONFIG_HOME=$T/cpeer/cfg "$BIN/bin/connreqd" -s "$T/cpeer/sock" \
    --postgres "host=$T/pg dbname=peer user=postgres" >"$T/cpeer/log" 2>&1 &
CPEER_PID=$!
wait_for "connreqd on the database peer" test -S "$T/cpeer/sock"
kill "$CPEER_PID" && wait "$CPEER_PID" 2>/dev/null || :
CPEER_PID=
psql -d peer -c 'CREATE SEQUENCE peer_events'
settings='\x000000006b11a27700000000000000000000000000000000000000000000000000000000000000'
event='\x85a3736571cf4000000000000001a474797065b3696e7669746174696f6e2e7265636569766564a26174ce6b11a277a66d656d626572a87531373839363839aa696e7669746174696f6e8fa2696411a466726f6da6753132303136a2746fa87531373839363839a46e6f7465a0a87072696f72697479c0a57374617465a770656e64696e67aa637265617465645f6174ce6b11a277aa757064617465645f6174ce6b11a277aa657870697265735f6174ce6bfef077a9726573656e645f6f66c0a7617474656d7074c0ab72656d696e6465645f6174c0ad696e74726f64756365645f6279c0a96175746f6d61746963c2ac6d757475616c5f636f756e7400'
cat >"$T/pg/send-same.sql" <<EOF
\\set f random(0, 500008)
\\set t random(0, 9999999)
WITH c AS (SELECT floor(extract(epoch FROM now()))::bigint AS n),
i AS (INSERT INTO invitations (id, state, priority, attempt, created_at,
    updated_at, expires_at, stale_at, reminded_at, ignored, reported,
    resend_of, sender, recipient, note, held, automatic, remind_at,
    introduced_by)
  SELECT nextval('invitation_ids'), 0, 1, 1, n, n, n + 15552000,
    n + 1209600, 0, false, false, 0, convert_to('u' || :f, 'UTF8'),
    convert_to('u' || :t, 'UTF8'), '', false, false, n + 604800, '' FROM c
  ON CONFLICT DO NOTHING
  RETURNING id, sender, recipient, created_at, expires_at, stale_at,
    remind_at),
p AS (INSERT INTO pairs SELECT sender, recipient, id, 0, 0, 1 FROM i
  ON CONFLICT (sender, recipient) DO UPDATE SET open_id = EXCLUDED.open_id,
    attempts = pairs.attempts + 1),
l AS (INSERT INTO logs SELECT 0, sender, created_at, id, 0 FROM i),
m AS (INSERT INTO members (member, invitations_from, email,
    restricted_until, restricted_at, open_sent, settings)
  SELECT sender, 0::smallint, ''::bytea, 0, 0, 1, '$settings'::bytea FROM i
  UNION ALL
  SELECT recipient, 0::smallint, ''::bytea, 0, 0, 0, '$settings'::bytea
    FROM i
  ON CONFLICT (member) DO UPDATE SET
    open_sent = members.open_sent + EXCLUDED.open_sent),
d AS (INSERT INTO dues SELECT expires_at, 1, id FROM i
  UNION ALL SELECT stale_at, 2, id FROM i
  UNION ALL SELECT remind_at, 6, id FROM i)
INSERT INTO events SELECT nextval('peer_events'), created_at, recipient,
  true, '$event'::bytea FROM i;
EOF

# --- connreqd on PostgreSQL (issue 11): two daemons on one database of
# the same cluster, each with its own socket and configuration.
psql -d postgres -c 'CREATE DATABASE connreq'
for n in 1 2; do
	mkdir -m 700 "$T/cpg$n" "$T/cpg$n/cfg"
	XDG_CONFIG_HOME=$T/cpg$n/cfg "$BIN/bin/connreqd" -s "$T/cpg$n/sock" \
	    --postgres "host=$T/pg dbname=connreq user=postgres" \
	    >"$T/cpg$n/log" 2>&1 &
	eval CP${n}_PID=$!
	wait_for "connreqd --postgres" test -S "$T/cpg$n/sock"
done

"$BIN/tests/bench/bench" --connreq "$T/connreq/sock" --redis "$T/redis/sock" \
    --build "$BIN" --work "$T" --pgbench "$PGBIN/pgbench -n -M prepared -h $T/pg -U postgres -f $T/pg/send.sql bench" \
    --pgbench-get "$PGBIN/pgbench -n -M prepared -h $T/pg -U postgres -f $T/pg/get.sql bench" \
    --pgbench-same "$PGBIN/pgbench -n -M prepared -h $T/pg -U postgres -f $T/pg/send-same.sql peer" \
    --pgstore "$T/cpg1/sock,$T/cpg2/sock" --pg-admin "host=$T/pg user=postgres" \
    ${PRELOAD:+--connreq-counts "$T/connreq/counts" --redis-counts "$T/redis/counts"}
