#!/bin/sh
# tests/import.sh: bulk import (connreq import, import.rows) end to end
# against a real connreqd on a virtual clock: connections and invitations
# with their own times, a re-run all duplicates, a used id with another
# row refused, bad lines refused by line number while the rest import,
# send limits bypassed, imported invitations expiring as sends do, and
# connreqd --check clean after. TAP; tests/import_pg.sh runs it on
# PostgreSQL.

. "$(dirname "$0")/lib/shell.sh"
mkdir -p "$tmp/connreq"
printf '[limits]\nsends_per_week = 100\n' >"$tmp/connreq/connreqd.conf"
start_daemon --virtual-clock=$((T0 + 30 * DAY))

n=0
rc=
run() {
	"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
out_has() { grep -qF -- "$1" "$tmp/out"; }
out_lacks() { ! grep -qF -- "$1" "$tmp/out"; }

# Connections and invitations, with times in the past.
cat >"$tmp/a.jsonl" <<END
{"id": "c1", "type": "connection", "a": "alice", "b": "bob", "since": $((T0 + DAY))}
{"id": "c2", "type": "connection", "a": "alice", "b": "carol", "since": $T0}

{"id": "i1", "type": "invitation", "from": "dave", "to": "alice", "created_at": $((T0 + 20 * DAY)), "note": "hello", "priority": "high"}
{"id": "i2", "type": "invitation", "from": "erin", "to": "alice", "created_at": $((T0 + 25 * DAY)), "expires_at": $((T0 + 40 * DAY))}
END
run import "$tmp/a.jsonl"
t "import: connections and invitations imported, exit 0" \
  '[ $rc -eq 0 ] && out_has "4 imported, 0 duplicates, 0 refused"'
run connections alice
t "import: the connections keep their own times" \
  'out_has "bob" && out_has "carol" && out_has "2026-01-02"'
run received alice
t "import: the invitations are pending in the recipient's box" \
  'out_has "dave" && out_has "erin"'
run --json show 2
t "import: an invitation keeps its created_at, note, priority and expiry" \
  '[ $rc -eq 0 ] && $PY -c "import json,sys; d=json.load(open(sys.argv[1]))[\"invitation\"]; assert d[\"created_at\"] == $((T0 + 25 * DAY)) and d[\"expires_at\"] == $((T0 + 40 * DAY)), d" "$tmp/out"'

# The same file again: all duplicates.
run import - <"$tmp/a.jsonl"
t "import again (stdin): every row a duplicate, exit 0" \
  '[ $rc -eq 0 ] && out_has "0 imported, 4 duplicates, 0 refused"'

# Bad lines are refused with their line numbers; the others import.
cat >"$tmp/b.jsonl" <<END
{"id": "c1", "type": "connection", "a": "alice", "b": "bob", "since": $T0}
this is not JSON
{"id": "m1", "type": "connection", "a": "frank"}
{"id": "w1", "type": "connection", "a": "frank", "b": "gina", "since": "yesterday"}
{"id": "s1", "type": "connection", "a": "frank", "b": "frank", "since": $T0}
{"id": "ok1", "type": "connection", "a": "frank", "b": "gina", "since": $T0}
{"id": "p1", "type": "invitation", "from": "bob", "to": "dave", "created_at": $T0}
{"id": "p2", "type": "connection", "a": "alice", "b": "dave", "since": $T0}
{"id": "x1", "type": "friendship", "a": "frank", "b": "hugo", "since": $T0}
{"id": "t1"} trailing
END
run import "$tmp/b.jsonl"
t "import: a used id with another row is refused, with its line" \
  '[ $rc -eq 1 ] && out_has "line 1: INVALID_ARGUMENT: the id was imported before with another row"'
t "import: a line that is not JSON is refused, saying where" \
  'out_has "line 2: INVALID_ARGUMENT: not JSON: not a JSON value at byte 1"'
t "import: text after a line's JSON value is refused, saying where" \
  'out_has "line 10: INVALID_ARGUMENT: not JSON: text after the value at byte 14"'
t "import: a missing field is refused" "out_has \"line 3: INVALID_ARGUMENT: missing argument 'b'\""
t "import: a wrong type is refused" "out_has \"line 4: INVALID_ARGUMENT: argument 'since' must be an integer\""
t "import: a self pair is refused" 'out_has "line 5: SELF_INVITE"'
t "import: a connection beside a pending invitation is refused" \
  'out_has "line 8: ALREADY_PENDING"'
t "import: an unknown type is refused" "out_has \"line 9: INVALID_ARGUMENT: argument 'type' must be one of\""
t "import: the refusals in line order, those connreq makes (not JSON) among connreqd's" \
  '[ "$(sed -n "s/^line \([0-9]*\):.*/\1/p" "$tmp/out" | tr "\n" " ")" = "1 2 3 4 5 8 9 10 " ]'
t "import: the good rows import beside the bad, exit 1" \
  'out_has "2 imported, 0 duplicates, 8 refused" && out_lacks "line 6" && out_lacks "line 7"'
run --json import "$tmp/b.jsonl"
t "import --json: one JSON object, each refusal with its line, code and message" \
  '[ $rc -eq 1 ] && $PY -c "import json,sys
d = json.load(open(sys.argv[1]))
assert [r[\"line\"] for r in d[\"refusals\"]] == [1, 2, 3, 4, 5, 8, 9, 10], d
assert {\"line\": 5, \"code\": \"SELF_INVITE\", \"message\": \"a member cannot be paired with itself\"} in d[\"refusals\"], d
assert (d[\"imported\"], d[\"duplicates\"], d[\"refused\"]) == (0, 2, 8), d" "$tmp/out"'
run --json import "$tmp/a.jsonl"
t "import --json: no refusal, an empty list" \
  '[ $rc -eq 0 ] && $PY -c "import json,sys
d = json.load(open(sys.argv[1]))
assert d == {\"refusals\": [], \"imported\": 0, \"duplicates\": 4, \"refused\": 0}, d" "$tmp/out"'

# Across batches (1,000 rows each): refusals still in line order, a line
# refused by connreq after the last batch's too; a file of bad lines only.
i=1
: >"$tmp/e.jsonl"
while [ $i -le 2500 ]; do
	case $i in
	1|1500|2500) echo "not json $i" ;;
	1200) echo "{\"id\": \"e$i\", \"type\": \"connection\", \"a\": \"q\", \"b\": \"q\", \"since\": $T0}" ;;
	*) echo "{\"id\": \"e$i\", \"type\": \"connection\", \"a\": \"e$i\", \"b\": \"f$i\", \"since\": $T0}" ;;
	esac
	i=$((i + 1))
done >>"$tmp/e.jsonl"
run import "$tmp/e.jsonl"
t "import across batches: refusals in line order, the last after the last batch" \
  '[ $rc -eq 1 ] && [ "$(sed -n "s/^line \([0-9]*\):.*/\1/p" "$tmp/out" | tr "\n" " ")" = "1 1200 1500 2500 " ] && out_has "2496 imported, 0 duplicates, 4 refused"'
printf 'x\n\n{"id": 1} y\n' >"$tmp/f.jsonl"
run import "$tmp/f.jsonl"
t "import of bad lines only: each told, in order, nothing sent" \
  '[ $rc -eq 1 ] && [ "$(sed -n "s/^line \([0-9]*\):.*/\1/p" "$tmp/out" | tr "\n" " ")" = "1 3 " ] && out_has "0 imported, 0 duplicates, 2 refused"'
i=1
while [ $i -le 2500 ]; do
	echo "bad $i"
	i=$((i + 1))
done >"$tmp/g.jsonl"
echo "{\"id\": \"g1\", \"type\": \"connection\", \"a\": \"g1\", \"b\": \"g2\", \"since\": $T0}" >>"$tmp/g.jsonl"
echo "bad 2502" >>"$tmp/g.jsonl"
run import "$tmp/g.jsonl"
t "import of 2,500 bad lines, a row, a bad line: every refusal told once, in order" \
  '[ $rc -eq 1 ] && sed -n "s/^line \([0-9]*\):.*/\1/p" "$tmp/out" >"$tmp/nums" && [ "$(wc -l <"$tmp/nums")" -eq 2501 ] && sort -n -c "$tmp/nums" && [ "$(tail -1 "$tmp/nums")" = 2502 ] && out_has "1 imported, 0 duplicates, 2501 refused"'

# An import is not a send: 200 invitations from one sender while
# sends_per_week is 100.
i=0
: >"$tmp/c.jsonl"
while [ $i -lt 200 ]; do
	echo "{\"id\": \"big$i\", \"type\": \"invitation\", \"from\": \"zed\", \"to\": \"m$i\", \"created_at\": $((T0 + 29 * DAY))}" >>"$tmp/c.jsonl"
	i=$((i + 1))
done
run import "$tmp/c.jsonl"
t "import: 200 invitations from one sender past sends_per_week 100" \
  '[ $rc -eq 0 ] && out_has "200 imported, 0 duplicates, 0 refused"'

# An invitation already expired is refused.
echo "{\"id\": \"old\", \"type\": \"invitation\", \"from\": \"yan\", \"to\": \"xi\", \"created_at\": $T0, \"expires_at\": $((T0 + DAY))}" >"$tmp/d.jsonl"
run import "$tmp/d.jsonl"
t "import: an invitation past its expiry is refused" \
  '[ $rc -eq 1 ] && out_has "line 1: INVALID_ARGUMENT: the invitation expired before the import"'

# Imported invitations expire by the virtual clock as sends do.
run clock advance 11d
run --json show 2
t "an imported invitation expires at its expires_at" \
  '$PY -c "import json,sys; d=json.load(open(sys.argv[1]))[\"invitation\"]; assert d[\"state\"] == \"expired\", d" "$tmp/out"'

# The store is sound after.
kill "$dpid"
wait "$dpid"
dpid=
if [ "$backend" = postgresql ]; then
	set -- --postgres "$(pg_conninfo 1)"
else
	set -- -d "$tmp/db"
fi
"$BIN/connreqd" --check "$@" >"$tmp/out" 2>"$tmp/err"
rc=$?
t "connreqd --check is clean after the imports" '[ $rc -eq 0 ]'
echo "1..$n"
