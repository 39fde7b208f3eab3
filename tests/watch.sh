#!/bin/sh
# tests/watch.sh: `connreq watch`, end to end against a real connreqd on a
# virtual clock: the lines of each event type, --json, --all, --after,
# --exec, and a watcher that outlives a kill -9 of the daemon. TAP; run by
# prove (make test), which sets CONNREQ_BIN to the directory holding
# connreq and connreqd.
#
# Rule timing is driven by `connreq clock advance`, never by sleeping; the
# short sleeps below only wait, boundedly, for output to appear.

. "$(dirname "$0")/lib/shell.sh"
# Everything runs in $tmp: the hostile notes below would touch files here.
cd "$tmp" || { echo "Bail out! cd $tmp failed"; exit 1; }

# ---- helpers ----
n=0
rc=
show=
run() {
	"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	show="$tmp/out $tmp/err"
}
# Quiet commands that make events; a failure is a bail-out.
do_() {
	if ! "$CLI" "$@" >"$tmp/do.out" 2>&1; then
		echo "Bail out! connreq $*:"
		sed 's/^/# /' "$tmp/do.out"
		exit 1
	fi
}
# t DESCRIPTION CONDITION: CONDITION is shell code; on failure the files in
# $show are printed. Each must also be free of sanitizer reports.
t() {
	n=$((n + 1))
	if eval "$2" && sanitized /dev/null $show; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   failed: $2"
		echo "#   exit status: $rc"
		for f in $show; do
			sed "s|^|#   $(basename "$f"): |" "$f"
		done
	fi
}
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }
count() { grep -cF -- "$2" "$1"; }
lines() { wc -l <"$1" | tr -d ' '; }

# wait_for FILE STRING [COUNT]: until FILE holds STRING COUNT times
# (default 1), 60 s at most (sanitized builds on a loaded machine are slow).
wait_for() {
	i=0
	while :; do
		# A file not made yet counts as 0 matches (grep -c prints
		# nothing for it, which `[` would refuse).
		found=$(grep -cF -- "$2" "$1" 2>/dev/null)
		[ "${found:-0}" -ge "${3:-1}" ] && return 0
		[ $i -ge 1200 ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}
# wait_lines FILE N: until FILE has N lines, 60 s at most.
wait_lines() {
	i=0
	while [ "$(lines "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		[ $i -ge 1200 ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}
# watcher NAME ARGS...: starts `connreq ARGS...` in the background, output
# in NAME.out and NAME.err, and waits until it has subscribed.
watcher() {
	name=$1
	shift
	"$CLI" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	eval "pid_$name=\$!"
	wpids="$wpids $!"
	wait_for "$tmp/$name.err" "connreq: watching " ||
	    wait_for "$tmp/$name.err" "connreq: "
}
# stop NAME [SIGNAL]: stops a watcher (TERM by default); rc is its status.
stop() {
	eval "p=\$pid_$1"
	kill "-${2:-TERM}" "$p" 2>/dev/null
	wait "$p"
	rc=$?
	wpids=$(echo "$wpids" | tr ' ' '\n' | grep -vx "$p" | tr '\n' ' ')
}
# py CODE: Python assertions; j(NAME) is the list of JSON objects, one a
# line, in NAME.out.
py() {
	$PY -c 'import json, os, sys
def j(name):
    return [json.loads(l) for l in open(name + ".out")]
exec(sys.argv[1])' "$1" 2>>"$tmp/py.err"
}

start_daemon --virtual-clock=$T0

# ---- watchers, then the events they watch ----
# A stale value in the environment must not reach --exec as if it were the
# event's.
CONNREQ_EVENT_OTHER=stale
export CONNREQ_EVENT_OTHER
EXEC_LOG=$tmp
export EXEC_LOG
exec_cmd='printf "%s|%s|%s|%s|%s|%s|%s|%s\n" "$CONNREQ_EVENT_SEQ" "$CONNREQ_EVENT_TYPE" "$CONNREQ_EVENT_AT" "$CONNREQ_EVENT_MEMBER" "${CONNREQ_EVENT_ID-unset}" "${CONNREQ_EVENT_FROM-unset}" "${CONNREQ_EVENT_TO-unset}" "${CONNREQ_EVENT_OTHER-unset}" >>"$EXEC_LOG/exec.env"; cat >>"$EXEC_LOG/exec.json"; [ "$CONNREQ_EVENT_TYPE" != cooldown.ended ] || exit 3'

watcher bob watch bob
watcher bobj --json watch bob
watcher all watch --all
watcher exec watch bob --json --exec "$exec_cmd"
unset CONNREQ_EVENT_OTHER
show="$tmp/bob.err"
t "watch: says on stderr what it watches, from the head" \
  'has "$tmp/bob.err" "connreq: watching bob'"'"'s notifications as they come (Ctrl-C stops); only new ones: \`connreq watch bob --after 0\` shows those kept from before too" && [ ! -s "$tmp/bob.out" ]'
show="$tmp/all.err"
t "watch --all: says so" 'has "$tmp/all.err" "connreq: watching every member'"'"'s events as they come"'

# Notes and member ids a shell would run, were they ever put in a command.
evil_note='$(touch pwned1) `touch pwned2` '"'"'; touch pwned3; '"'"
evil_member='x$(touch pwned4)'

do_ send alice bob --note "$evil_note"		# 1
do_ accept bob 1
do_ send bob dave				# 2
do_ accept dave 2
do_ send erin bob				# 3
do_ ignore bob 3
do_ send bob frank				# 4
do_ send bob gina				# 5
do_ withdraw bob 5				# cooldown until day 21
do_ send "$evil_member" bob			# 6
do_ clock advance 14d				# bob reminded of 6 at day 7;
						# 4, 3 and 6 are stale
do_ clock advance 7d				# bob may invite gina again

cat >"$tmp/bob.want" <<'EOF'
2026-01-01 00:00  alice invited you (invitation 1, note: "$(touch pwned1) `touch pwned2` '; touch pwned3; '")
2026-01-01 00:00  you and alice are now connected
2026-01-01 00:00  dave accepted your invitation 2
2026-01-01 00:00  you and dave are now connected
2026-01-01 00:00  erin invited you (invitation 3)
2026-01-01 00:00  x$(touch pwned4) invited you (invitation 6)
2026-01-08 00:00  reminder: x$(touch pwned4) invited you 7 days ago (invitation 6): accept or ignore it
2026-01-15 00:00  your invitation 4 to frank is 14 days old: consider withdrawing it or letting it expire
2026-01-22 00:00  you may invite gina again
EOF
wait_for "$tmp/bob.out" "you may invite gina again"
show="$tmp/bob.out $tmp/bob.err"
t "watch MEMBER: one line per notification, from bob's point of view" \
  'diff "$tmp/bob.want" "$tmp/bob.out" >"$tmp/diff" || { sed "s/^/# diff: /" "$tmp/diff"; false; }'
t "watch MEMBER: stale at 14d, the end of the cooldown at 21d" \
  'has "$tmp/bob.out" "2026-01-15 00:00  your invitation 4 to frank is 14 days old" && has "$tmp/bob.out" "2026-01-22 00:00  you may invite gina again"'
t "watch MEMBER: bob never hears that he ignored an invitation" \
  'lacks "$tmp/bob.out" "ignored" && lacks "$tmp/bob.out" "withdrew"'

wait_for "$tmp/all.out" "bob may invite gina again"
show="$tmp/all.out $tmp/all.err"
t "watch --all: names both parties" \
  'has "$tmp/all.out" "2026-01-01 00:00  alice invited bob (invitation 1, note: " && has "$tmp/all.out" "  bob accepted alice'"'"'s invitation 1" && has "$tmp/all.out" "  alice is now connected with bob" && has "$tmp/all.out" "  bob is now connected with alice"'
t "watch --all: shows the ignore bob's watcher never sees" \
  'has "$tmp/all.out" "2026-01-01 00:00  bob ignored erin'"'"'s invitation 3"'
t "watch --all: shows a withdrawal the recipient is not told of" \
  'has "$tmp/all.out" "  bob withdrew invitation 5 to gina"'
t "watch --all: the recipients' reminders, of what they did not ignore" \
  'has "$tmp/all.out" "2026-01-08 00:00  frank was reminded of bob'"'"'s invitation 4, 7 days old" && has "$tmp/all.out" "  bob was reminded of x\$(touch pwned4)'"'"'s invitation 6, 7 days old" && lacks "$tmp/all.out" "of erin'"'"'s invitation 3"'
t "watch --all: stale reminders of every sender" \
  'has "$tmp/all.out" "2026-01-15 00:00  bob was reminded that invitation 4 to frank is 14 days old" && has "$tmp/all.out" "  erin was reminded that invitation 3 to bob is 14 days old"'

wait_lines "$tmp/bobj.out" 9
show="$tmp/bobj.out $tmp/bobj.err $tmp/py.err"
t "watch --json: one event map a line, bob's, in seq order" \
  'py "
e = j(\"bobj\")
assert len(e) == 9, len(e)
assert all(x[\"member\"] == \"bob\" for x in e)
s = [x[\"seq\"] for x in e]
assert s == sorted(set(s)), s
assert [x[\"type\"] for x in e] == [\"invitation.received\", \"connection.created\", \"invitation.accepted\", \"connection.created\", \"invitation.received\", \"invitation.received\", \"invitation.reminder\", \"invitation.stale\", \"cooldown.ended\"], e
assert e[0][\"invitation\"][\"note\"].startswith(\"\$(touch pwned1)\")
assert e[0][\"at\"] == $T0 and e[6][\"at\"] == $T0 + 7 * $DAY and e[7][\"at\"] == $T0 + 14 * $DAY and e[8][\"at\"] == $T0 + 21 * $DAY
assert e[6][\"invitation\"][\"id\"] == 6 and e[6][\"invitation\"][\"state\"] == \"pending\"
assert e[1][\"other\"] == \"alice\" and e[5][\"invitation\"][\"from\"] == \"$evil_member\"
"'

# ---- --exec ----
wait_for "$tmp/exec.err" "exited with status 3"
show="$tmp/exec.out $tmp/exec.err $tmp/exec.env $tmp/py.err"
t "watch --exec: CMD gets the event in its environment and as JSON on stdin" \
  'py "
e = j(\"exec\")
env = [l.rstrip(\"\\n\").split(\"|\") for l in open(\"exec.env\")]
stdin = [json.loads(l) for l in open(\"exec.json\")]
assert stdin == e, (stdin, e)
assert len(env) == len(e) == 9, env
for x, v in zip(e, env):
    inv = x.get(\"invitation\")
    want = [str(x[\"seq\"]), x[\"type\"], str(x[\"at\"]), x[\"member\"],
            str(inv[\"id\"]) if inv else \"unset\",
            inv[\"from\"] if inv else \"unset\",
            inv[\"to\"] if inv else \"unset\",
            x.get(\"other\", \"unset\")]
    assert v == want, (v, want)
"'
t "watch --exec: a failing CMD is reported, and watch goes on" \
  '[ "$(count "$tmp/exec.err" "connreq: --exec: the command exited with status 3")" -eq 1 ] && has "$tmp/exec.err" "cooldown.ended" && kill -0 $pid_exec'
do_ send harry bob				# 7
wait_lines "$tmp/exec.env" 10
t "watch --exec: runs CMD for the events after a failure" \
  '[ "$(lines "$tmp/exec.env")" -eq 10 ] && tail -n 1 "$tmp/exec.env" | grep -q "|invitation.received|.*|7|harry|bob|unset$"'
show=
t "watch --exec: no note or member id was ever run by a shell" \
  '[ ! -e "$tmp/pwned1" ] && [ ! -e "$tmp/pwned2" ] && [ ! -e "$tmp/pwned3" ] && [ ! -e "$tmp/pwned4" ] && ! ls "$tmp" | grep -q "touch"'
stop exec
show="$tmp/exec.err"
t "watch --exec: SIGTERM ends it, exit 0" '[ $rc -eq 0 ]'

# ---- connreqd is killed and comes back ----
wait_for "$tmp/bob.out" "harry invited you"
kill -KILL "$dpid"
wait "$dpid" 2>/dev/null
dpid=
for w in bob bobj all; do
	wait_for "$tmp/$w.err" "connreq: lost connreqd at $tmp/s.sock"
done
show="$tmp/bob.err"
t "restart: the watcher says once that it lost connreqd" \
  '[ "$(count "$tmp/bob.err" "connreq: lost connreqd")" -eq 1 ] && kill -0 $pid_bob'
sleep 1					# a few tries while nothing listens
start_daemon --virtual-clock		# same store, the clock where it stood
do_ accept bob 7
do_ send bob ivan				# 8
do_ send judy bob --note "after the restart"	# 9
do_ ignore bob 9
for w in bob bobj all; do
	wait_for "$tmp/$w.err" "connreq: connreqd is back"
done
wait_for "$tmp/bob.out" "judy invited you"
show="$tmp/bob.out $tmp/bob.err"
t "restart: it says once that connreqd is back, and carries on" \
  '[ "$(count "$tmp/bob.err" "connreq: lost connreqd")" -eq 1 ] && [ "$(count "$tmp/bob.err" "connreq: connreqd is back; going on after event ")" -eq 1 ] && tail -n 2 "$tmp/bob.out" | head -n 1 | grep -qx "2026-01-22 00:00  you and harry are now connected" && tail -n 1 "$tmp/bob.out" | grep -qxF "2026-01-22 00:00  judy invited you (invitation 9, note: \"after the restart\")"'
t "restart: nothing printed twice" \
  '[ -z "$(sort "$tmp/bob.out" | uniq -d)" ] && [ "$(lines "$tmp/bob.out")" -eq 12 ]'

# Every event exactly once: the seqs the watchers printed, across the
# restart, are those a replay from the start prints.
wait_lines "$tmp/bobj.out" 12
watcher replay --json watch bob --after 0
wait_lines "$tmp/replay.out" 12
watcher replay_all --json watch --all --after 0
head=$(tail -n 1 "$tmp/replay_all.out" | $PY -c 'import json, sys; print(json.load(sys.stdin)["seq"])')
wait_lines "$tmp/all.out" "$head"
show="$tmp/bobj.out $tmp/bobj.err $tmp/replay.out $tmp/py.err"
t "restart: --json printed every event of bob's exactly once" \
  'py "
a = [x[\"seq\"] for x in j(\"bobj\")]
b = [x[\"seq\"] for x in j(\"replay\")]
assert a == b, (a, b)
assert len(set(a)) == len(a) == 12
"'
show="$tmp/all.out $tmp/all.err $tmp/replay_all.out $tmp/py.err"
t "restart: --all printed every event exactly once" \
  'py "
b = [x[\"seq\"] for x in j(\"replay_all\")]
assert b == list(range(1, len(b) + 1)), b
" && [ "$(lines "$tmp/all.out")" -eq "$head" ] && [ -z "$(sort "$tmp/all.out" | uniq -d)" ] && has "$tmp/all.out" "bob ignored judy'"'"'s invitation 9"'
show="$tmp/replay.out $tmp/replay.err"
t "watch --after 0: replays everything kept, then goes on live" \
  'has "$tmp/replay.err" "after event 0" && kill -0 $pid_replay'
stop replay INT
t "watch: SIGINT ends it, exit 0, and says how to go on" \
  '[ $rc -eq 0 ] && grep -q "^connreq: stopped after event [0-9]*; \`connreq watch bob --after [0-9]*\` carries on from there$" "$tmp/replay.err"'
stop replay_all

watcher bob2 watch bob --after 6
show="$tmp/bob2.out $tmp/bob2.err"
wait_for "$tmp/bob2.out" "judy invited you"
t "watch --after SEQ: only what came after SEQ" \
  '[ "$(lines "$tmp/bob2.out")" -eq 9 ] && head -n 1 "$tmp/bob2.out" | grep -qx "2026-01-01 00:00  you and dave are now connected"'
stop bob2

# ---- live only, expiry ----
# To day 181 in steps no longer than the retention (30 days), as a real
# clock would go: connreqd prunes what is older than 30 days at the end of
# each step, and must not prune what the step itself made (the test at the
# end jumps 60 days at once).
watcher live watch bob
for step in 30d 30d 30d 30d 30d 10d; do	# 8 is stale at day 35;
	do_ clock advance $step			# 4 expires at day 180
done
wait_for "$tmp/live.out" "expired"
show="$tmp/live.out $tmp/live.err"
t "watch without --after: new events only; an expiry" \
  '[ "$(lines "$tmp/live.out")" -eq 2 ] && head -n 1 "$tmp/live.out" | grep -qx "2026-02-05 00:00  your invitation 8 to ivan is 14 days old: consider withdrawing it or letting it expire" && tail -n 1 "$tmp/live.out" | grep -qx "2026-06-30 00:00  your invitation 4 to frank expired"'
wait_for "$tmp/all.out" "frank expired"
show="$tmp/all.out"
t "watch --all: expiries name the sender" \
  'has "$tmp/all.out" "2026-06-30 00:00  bob'"'"'s invitation 4 to frank expired"'
stop live

# ---- the cursor has expired: events older than 30 days are gone ----
run watch bob --after 1
t "watch --after 1 once events were pruned: CURSOR_EXPIRED, exit 1" \
  '[ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q "^connreq: CURSOR_EXPIRED: " "$tmp/err" && grep -q "^connreq: the oldest event kept is [0-9]*; \`connreq watch bob --after [0-9]*\` starts there" "$tmp/err"'
run --json watch bob --after 1
t "watch --json: CURSOR_EXPIRED as a JSON error map with the oldest seq" \
  '[ $rc -eq 1 ] && py "
d = json.load(open(\"out\"))
assert d[\"code\"] == \"CURSOR_EXPIRED\" and d[\"oldest\"] > 1, d
"'
run watch bob --after 999999
t "watch --after past the last event: refused" \
  '[ $rc -eq 2 ] && has "$tmp/err" "INVALID_ARGUMENT"'

# ---- stop the running ones ----
for w in bob bobj all; do
	stop $w
	eval "rc_$w=\$rc"
done
show="$tmp/bob.err $tmp/bobj.err $tmp/all.err"
t "watchers end with exit 0 on SIGTERM" \
  '[ "$rc_bob$rc_bobj$rc_all" = 000 ]'

# A watcher must see the stale reminder a long clock advance makes, although
# the reminder is dated more than 30 days before the new now. connreqd makes
# it and prunes it in the same transaction (timers_run), then closes the
# subscriber as fallen behind; watch then exits with CURSOR_EXPIRED.
watcher long watch bob
do_ send bob kate				# 10, stale at day 195
do_ clock advance 60d				# to day 241
i=0
while ! has "$tmp/long.out" "kate" && ! has "$tmp/long.err" "CURSOR_EXPIRED" &&
    [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
show="$tmp/long.out $tmp/long.err"
n=$((n + 1))
if has "$tmp/long.out" "2026-07-15 00:00  your invitation 10 to kate is 14 days old"; then
	echo "ok $n - a long clock advance: the stale reminder it makes is seen"
else
	echo "not ok $n - a long clock advance: the stale reminder it makes is seen"
	sed 's/^/#   long.err: /' "$tmp/long.err"
fi
stop long

# ---- usage, unreachable, help ----
run watch
t "usage: a MEMBER or --all is needed" \
  '[ $rc -eq 2 ] && has "$tmp/err" "watch: name a MEMBER, or --all" && has "$tmp/err" "usage: connreq watch MEMBER|--all [--after SEQ] [--json]"'
run watch bob --all
t "usage: not both" '[ $rc -eq 2 ] && has "$tmp/err" "not both"'
run watch bob --after soon
t "usage: a bad --after" '[ $rc -eq 2 ] && has "$tmp/err" "--after: not an event number: soon"'
run watch --all=yes
t "usage: --all takes no value" '[ $rc -eq 2 ] && has "$tmp/err" "--all takes no value"'
run watch bob --exec
t "usage: --exec needs its CMD" '[ $rc -eq 2 ] && has "$tmp/err" "--exec needs a value"'
run watch bob carol
t "usage: one member" '[ $rc -eq 2 ] && has "$tmp/err" "too many arguments"'
run -s "$tmp/none.sock" watch bob
t "unreachable at the start: exit 3, says how to start connreqd" \
  '[ $rc -eq 3 ] && [ ! -s "$tmp/out" ] && has "$tmp/err" "$tmp/none.sock" && has "$tmp/err" "start it with \`connreqd -s $tmp/none.sock\`"'
run watch --help
t "watch --help" \
  '[ $rc -eq 0 ] && has "$tmp/out" "usage: connreq watch MEMBER|--all [--after SEQ] [--json] [--exec CMD]" && has "$tmp/out" "CONNREQ_EVENT_SEQ" && has "$tmp/out" "/bin/sh -c CMD"'
run help
t "help lists watch" '[ $rc -eq 0 ] && grep -q "^  watch MEMBER|--all" "$tmp/out"'

# ---- PostgreSQL: two daemons on one database ----
# A watcher is told what the other daemon's clients did (issue 11: a
# subscriber on daemon B sees A's events); the feed itself across daemons
# is tests/test_pg_feed.c's.
if [ "$backend" = postgresql ]; then
	XDG_CONFIG_HOME="$tmp" "$BIN/connreqd" -s "$tmp/b.sock" \
	    --postgres "$(pg_conninfo 1)" --virtual-clock >>"$tmp/b.log" 2>&1 &
	bpid=$!
	wpids="$wpids $bpid"
	i=0
	while ! "$CLI" -s "$tmp/b.sock" info >/dev/null 2>&1; do
		if ! kill -0 "$bpid" 2>/dev/null || [ $i -ge 1200 ]; then
			echo "Bail out! the second connreqd did not start:"
			sed 's/^/# /' "$tmp/b.log"
			exit 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	watcher onb -s "$tmp/b.sock" watch lena
	watcher ona watch mia
	id=$("$CLI" --json send mia lena --note "through A" |
	    $PY -c 'import json, sys; print(json.load(sys.stdin)["invitation"]["id"])')
	wait_for "$tmp/onb.out" "mia invited you"
	show="$tmp/onb.out $tmp/onb.err"
	t "two daemons: a watcher on B is told of a send through A" \
	  'has "$tmp/onb.out" "mia invited you (invitation $id, note: \"through A\")"'
	do_ -s "$tmp/b.sock" accept lena "$id"
	wait_for "$tmp/ona.out" "you and lena are now connected"
	show="$tmp/ona.out $tmp/ona.err"
	t "two daemons: a watcher on A is told of the acceptance through B" \
	  'has "$tmp/ona.out" "lena accepted your invitation $id" && has "$tmp/ona.out" "you and lena are now connected"'
	wait_for "$tmp/onb.out" "you and mia are now connected"
	show="$tmp/onb.out $tmp/onb.err"
	t "two daemons: and B's watcher of the connection its own client made" \
	  '[ "$(lines "$tmp/onb.out")" -eq 2 ] && has "$tmp/onb.out" "you and mia are now connected"'
	stop onb
	stop ona
	kill "$bpid"
	wait "$bpid"
	rc=$?
	wpids=$(echo "$wpids" | tr ' ' '\n' | grep -vx "$bpid" | tr '\n' ' ')
	show="$tmp/b.log"
	t "two daemons: B stops cleanly" '[ $rc -eq 0 ] && has "$tmp/b.log" "stopped"'
fi

# ---- the end ----
kill "$dpid"
wait "$dpid"
rc=$?
dpid=
show="$tmp/daemon.log"
t "connreqd stops cleanly" '[ $rc -eq 0 ] && has "$tmp/daemon.log" "stopped"'
show=
t "no sanitizer reports from any watcher" 'sanitized "$tmp"/*.err'

echo "1..$n"
