#!/bin/sh
# tests/policy_cli.sh: the commands of limits, health, advice and clean-up
# (can-send, stats, advise, cleanup, plans, plan-cancel, settings, block,
# unblock, report), send's --email, --expires-in and warnings, the grouped
# policy of info, and watch's lines for notices, end to end against a real
# connreqd on a virtual clock with small limits. TAP; run by prove (make
# test), which sets CONNREQ_BIN to the directory holding connreq and
# connreqd.
#
# Rule timing is driven by `connreq clock advance`, never by sleeping; the
# short sleeps below only wait, boundedly, for output to appear.

. "$(dirname "$0")/lib/shell.sh"

# Small limits, so that a few sends reach them.
mkdir -p "$tmp/connreq"
cat >"$tmp/connreq/connreqd.conf" <<'EOF'
[limits]
sends_per_week = 3
pending_warn = 2
invites_per_pair = 2
withdrawals_per_day = 2

[health]
restrict_min_decided = 4
reports_to_restrict = 2
restrict_for = 7d
EOF

start_daemon --virtual-clock=$T0
unset COLUMNS NO_COLOR

# ---- helpers ----
n=0
rc=
run() {
	"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# Quiet commands that set the scene; a failure is a bail-out.
do_() {
	if ! "$CLI" "$@" >"$tmp/do.out" 2>&1; then
		echo "Bail out! connreq $*:"
		sed 's/^/# /' "$tmp/do.out"
		exit 1
	fi
}
# t DESCRIPTION CONDITION: CONDITION is shell code about the last run,
# which must also be free of sanitizer reports.
out_has() { grep -qF -- "$1" "$tmp/out"; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
out_re() { grep -qE -- "$1" "$tmp/out"; }
err_re() { grep -qE -- "$1" "$tmp/err"; }
out_lacks() { ! grep -qF -- "$1" "$tmp/out"; }
out_empty() { [ ! -s "$tmp/out" ]; }
err_empty() { [ ! -s "$tmp/err" ]; }
out_lines() { [ "$(wc -l <"$tmp/out")" -eq "$1" ]; }
# The first (last) line of the last run's stdout that starts with $1,
# blanks squeezed.
line() { grep -E "^$1" "$tmp/out" | head -n 1 | tr -s ' '; }
lastline() { grep -E "^$1" "$tmp/out" | tail -n 1 | tr -s ' '; }
# The stdout of the last run is one JSON document; Python assertions
# about it as d.
json() {
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2] if len(sys.argv) > 2 else "")' "$tmp/out" "$@" 2>>"$tmp/err"
}
# The id of the invitation or plan in the last run's JSON.
json_id() {
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
print((d.get("invitation") or d.get("plan"))["id"])' "$tmp/out"
}
# wait_for FILE STRING: until FILE holds STRING, 60 s at most (sanitized
# builds on a loaded machine are slow).
wait_for() {
	i=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		[ $i -ge 1200 ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}
# watcher NAME ARGS...: `connreq watch ARGS...` in the background, output
# in NAME.out and NAME.err, once it has subscribed.
watcher() {
	name=$1
	shift
	"$CLI" watch "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	wpids="$wpids $!"
	wait_for "$tmp/$name.err" "connreq: watching " ||
	    { echo "Bail out! watch $* did not start"; exit 1; }
}
# Points the checks at a watcher's output.
watched() {
	cp "$tmp/$1.out" "$tmp/out"
	cp "$tmp/$1.err" "$tmp/err"
	rc=0
}

# ---- info: the policy in groups ----
run info
t "info: the policy in groups: policy, limits, health, server" \
  '[ $rc -eq 0 ] && [ "$(grep -E "^[a-z]+$" "$tmp/out" | tr "\n" " ")" = "policy limits health server " ]'
t "info: durations as days, limits as numbers, 0 as off" \
  'out_re "^  max expire after +180d$" && out_re "^  pair window +365d$" && out_re "^  reports window +30d$" && out_re "^  restrict for +7d$" && out_re "^  sends per week +3$" && out_re "^  sends per day +off$" && out_re "^  pending max +200$"'
t "info: rates as percentages" \
  'out_re "^  healthy rate +30%$" && out_re "^  restrict below rate +20%$" && out_re "^  restrict min decided +4$"'
t "info: the sections follow the file, limits under limits" \
  '[ "$(sed -n "/^limits$/,/^health$/p" "$tmp/out" | grep -c "^  ")" -eq 8 ]'

# Watchers of what follows: ivan is reported and restricted; everyone.
watcher ivan ivan
watcher all --all

# ---- can-send and send: the weekly limit, warnings ----
run can-send alice bob
t "can-send: yes, exit 0" '[ $rc -eq 0 ] && [ "$(head -n 1 "$tmp/out")" = "yes: alice may invite bob" ] && err_empty'
t "can-send: the quota, each row against its limit" \
  'out_re "^QUOTA +USED +LIMIT$" && [ "$(line "sent this week")" = "sent this week 0 3" ] && [ "$(line "sent today")" = "sent today 0 off" ] && [ "$(line pending)" = "pending 0 200 warning at 2" ] && [ "$(line "sent to bob")" = "sent to bob 0 2 within 365d" ]'
run --json can-send alice bob
t "can-send --json: the result map" \
  '[ $rc -eq 0 ] && out_lines 1 && json "assert d[\"allowed\"] is True and \"code\" not in d; q = d[\"quota\"]; assert (q[\"week_limit\"], q[\"day_limit\"], q[\"pending_warn\"], q[\"pair_limit\"]) == (3, 0, 2, 2), q"'

run send alice bob --expires-in 3d
t "send --expires-in: it expires then" \
  '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, pending, medium priority, sent just now, expires in 3d" && err_empty'
run send alice carol
t "send: a warning is printed on stderr, and the send is done" \
  '[ $rc -eq 0 ] && out_has "invitation 2: alice -> carol, pending" && err_has "connreq: warning: PENDING_WARN: many of your invitations are pending: withdraw stale ones" && err_has "connreq: \`connreq advise alice\` says which to withdraw"'
run --json send alice dave
t "send --json: warnings in the map, and on stderr" \
  '[ $rc -eq 0 ] && out_lines 1 && json "assert [w[\"code\"] for w in d[\"warnings\"]] == [\"PENDING_WARN\"]" && err_has "warning: PENDING_WARN: "'
run send alice erin --expires-in soon
t "send --expires-in: a bad duration is a usage error" \
  '[ $rc -eq 2 ] && err_has "--expires-in: not a duration" && err_has "usage: connreq send FROM TO"'
run send alice erin --expires-in 200d
t "send --expires-in: beyond max expire after is refused" \
  '[ $rc -eq 2 ] && err_has "connreq: INVALID_ARGUMENT: expires_in may be at most"'

run can-send alice erin
t "can-send: no, with the code, the daemon's message, exit 1" \
  '[ $rc -eq 1 ] && head -n 1 "$tmp/out" | grep -q "^no: RATE_LIMITED: you sent 3 invitations in the last 7 days"'
t "can-send: when it will be allowed" \
  'out_has "alice may send invitations again in 7d (2026-01-08 00:00 UTC)" && [ "$(line "sent this week")" = "sent this week 3 3 reached" ]'
run --json can-send alice erin
t "can-send --json: allowed false, code, retry_at; exit 1" \
  '[ $rc -eq 1 ] && json "assert d[\"allowed\"] is False and d[\"code\"] == \"RATE_LIMITED\" and d[\"retry_at\"] == $T0 + 7 * $DAY and d[\"quota\"][\"week_used\"] == 3"'
run send alice erin
t "send: RATE_LIMITED, and when it will be allowed" \
  '[ $rc -eq 1 ] && out_empty && err_has "connreq: RATE_LIMITED: " && err_has "connreq: you may try again in 7d (2026-01-08 00:00 UTC)"'

# ---- settings: who may invite; --email ----
run settings bob
t "settings: the defaults" \
  '[ $rc -eq 0 ] && [ "$(line member)" = "member bob" ] && out_re "^invitations from +everyone" && [ "$(line email)" = "email none" ]'
run settings bob --from email
t "settings --from email needs an address" \
  '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT"'
run settings bob --from email --email bob@example.com
t "settings: set both" \
  '[ $rc -eq 0 ] && out_re "^invitations from +email \(only people who give the email address\)$" && [ "$(line email)" = "email bob@example.com" ]'
run --json settings bob
t "settings --json: the map" \
  '[ $rc -eq 0 ] && json "assert d == {\"member\": \"bob\", \"invitations_from\": \"email\", \"email\": \"bob@example.com\", \"auto_accept_min_mutual\": 0, \"auto_accept_until\": None, \"hold_no_mutual\": False, \"hold_low_health\": False, \"hold_restricted_days\": 0, \"hold_new_member_days\": 0, \"digest_every\": 0, \"own\": []}, d"'
run can-send frank bob
t "can-send: EMAIL_REQUIRED, with what to do" \
  '[ $rc -eq 1 ] && out_has "no: EMAIL_REQUIRED: " && err_has "give their email address with --email ADDR"'
run can-send frank bob --email bob@example.com
t "can-send --email: yes" '[ $rc -eq 0 ] && out_has "yes: frank may invite bob"'
run send frank bob
t "send: EMAIL_REQUIRED without --email" \
  '[ $rc -eq 1 ] && err_has "connreq: EMAIL_REQUIRED: " && err_has "--email ADDR"'
run send frank bob --email BOB@example.com
t "send --email: the address, in any case, lets it through" \
  '[ $rc -eq 0 ] && out_has "invitation 4: frank -> bob, pending"'
run settings bob --from nobody
run can-send gina bob
t "settings --from nobody: no one may invite" \
  '[ $rc -eq 1 ] && out_has "no: NOT_PERMITTED: "'
run settings bob --from all
t "settings: a bad --from" '[ $rc -eq 2 ] && err_has "--from: not everyone, email or nobody: all"'
run settings bob --email nope
t "settings: a bad --email" '[ $rc -eq 2 ] && err_has "--email: not an address: nope"'
run settings bob
t "settings: no digest by the policy" '[ $rc -eq 0 ] && [ "$(line digest)" = "digest off" ]'
run settings bob --digest 1d
t "settings --digest 1d: a digest every day" \
  '[ $rc -eq 0 ] && [ "$(line digest)" = "digest every 1d, of the invitations waiting" ]'
run --json settings bob --digest off
t "settings --digest off: 0" '[ $rc -eq 0 ] && json "assert d[\"digest_every\"] == 0, d"'
run --json settings bob --digest 12h
run --json settings bob --digest default
t "settings --digest default: back to the policy's (off)" \
  '[ $rc -eq 0 ] && json "assert d[\"digest_every\"] == 0, d"'
run settings bob --digest 10m
t "settings --digest under an hour: INVALID_ARGUMENT" \
  '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT" && err_has "digest_every must be 0 (off) or 3600"'
run settings bob --digest soon
t "settings: a bad --digest" '[ $rc -eq 2 ] && err_has "--digest: not a duration"'

# ---- block, unblock ----
do_ send gina hank					# 5
run block hank gina
t "block: says what it means" \
  '[ $rc -eq 0 ] && out_has "hank blocked gina: neither may invite the other"'
t "block: says what becomes of their invitations" \
  'out_has "hank'"'"'s pending invitation to gina is withdrawn and their connection removed, if any; gina'"'"'s to hank is ignored, if any (it looks pending to them)"'
run block hank stranger
t "block of a stranger: does not claim an invitation or connection was removed" \
  '[ $rc -eq 0 ] && ! out_has "are gone" && out_has "if any"'
run unblock hank stranger
t "unblock: the block lifted, said so" \
  '[ $rc -eq 0 ] && out_has "hank unblocked stranger"'
run unblock hank stranger
t "unblock with no block: says nothing changed, not 'unblocked'" \
  '[ $rc -eq 0 ] && out_has "hank had not blocked stranger: nothing changed" && ! out_has "unblocked"'
run show 5 --as gina
t "block: gina's pending invitation still looks pending to her (as behind a closed door)" \
  '[ $rc -eq 0 ] && out_has "invitation 5: gina -> hank, pending"'
run show 5 --as hank
t "block: hank sees it ignored" \
  '[ $rc -eq 0 ] && out_has "invitation 5: gina -> hank, ignored"'
run can-send gina hank
t "block: the blocked one may not invite" '[ $rc -eq 1 ] && out_has "no: NOT_PERMITTED"'
run can-send hank gina
t "block: nor the one who blocked" '[ $rc -eq 1 ] && out_has "no: NOT_PERMITTED"'
run --json unblock hank gina
t "unblock --json" '[ $rc -eq 0 ] && json "assert d == {\"other\": \"gina\", \"blocked\": False, \"changed\": True}, d"'
run can-send hank gina
t "unblock: invitations are possible again" '[ $rc -eq 0 ] && out_has "yes: hank may invite gina"'
run can-send gina hank
t "unblock: gina's invitation is still open" '[ $rc -eq 1 ] && out_has "no: ALREADY_PENDING"'
run block hank hank
t "block: not oneself" '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT"'
run unblock hank
t "unblock: usage" '[ $rc -eq 2 ] && err_has "usage: connreq unblock ACTOR OTHER"'

# ---- report, and the restriction it brings ----
do_ send ivan judy					# 6
do_ send ivan ken					# 7
run report judy 6
t "report: --reason is needed" \
  '[ $rc -eq 2 ] && err_has "--reason" && err_has "usage: connreq report ACTOR ID --reason dont_know|spam"'
run report judy 6 --reason maybe
t "report: a bad --reason" '[ $rc -eq 2 ] && err_has "--reason: not dont_know or spam: maybe"'
run report ivan 6 --reason spam
t "report: only the recipient" '[ $rc -eq 1 ] && err_has "NOT_PERMITTED"'
run report judy 6 --reason spam
t "report --reason spam: ignored, the sender not told" \
  '[ $rc -eq 0 ] && out_has "invitation 6: ivan -> judy, ignored" && out_has "judy reported it as spam: it is ignored, and ivan is not told"'
run --json report ken 7 --reason dont_know
t "report --reason dont_know --json: the invitation as its recipient sees it" \
  '[ $rc -eq 0 ] && json "assert d[\"invitation\"][\"state\"] == \"ignored\""'
run show 7
t "report: its sender still sees it pending" '[ $rc -eq 0 ] && out_has "invitation 7: ivan -> ken, pending"'
run can-send ivan zed
t "two reports: ivan is restricted, and can-send says until when" \
  '[ $rc -eq 1 ] && out_has "no: RESTRICTED: " && out_has "ivan may send invitations again in 7d (2026-01-08 00:00 UTC)"'
run send ivan zed
t "send: RESTRICTED, and when it will be allowed" \
  '[ $rc -eq 1 ] && err_has "connreq: RESTRICTED: " && err_has "you may try again in 7d (2026-01-08 00:00 UTC)"'
run stats ivan
t "stats: the restriction, until when" \
  '[ $rc -eq 0 ] && out_re "^restricted +yes, may not send until 2026-01-08 00:00 UTC \(in 7d\)$"'
t "stats: the restrictions counted, and how long a next one would last" \
  '[ $rc -eq 0 ] && out_re "^restrictions 1 in the last 365d; a next one would last 7d$"'
run --json stats ivan
t "stats --json: restrictions, next_restriction_for" \
  '[ $rc -eq 0 ] && json "assert d[\"restrictions\"] == 1 and d[\"next_restriction_for\"] == 7 * $DAY, d"'
run report ken 7 --reason spam
t "report: only a pending invitation, once" '[ $rc -eq 1 ] && err_has "INVALID_STATE"'

# ---- stats ----
do_ send leo m1						# 8
do_ send leo m2						# 9
do_ send leo m3						# 10
do_ accept m1 8
do_ accept m2 9
do_ withdraw leo 10
run stats leo
t "stats: the counts" \
  '[ $rc -eq 0 ] && [ "$(head -n 1 "$tmp/out")" = "leo over the last 90d (to 2026-01-01 00:00 UTC)" ] && [ "$(line sent)" = "sent 3" ] && [ "$(line accepted)" = "accepted 2" ] && [ "$(line withdrawn)" = "withdrawn 1" ] && [ "$(line expired)" = "expired 0" ] && [ "$(line pending)" = "pending 0" ]'
t "stats: the rate, and too few decided to judge" \
  'out_re "^acceptance +67% of 3 decided" && out_re "^health +not enough decided yet \(3 of 4\)$" && out_re "^restricted +no$"'
t "stats: a 40-column bar with the healthy band marked" \
  'out_re "^ +\[#{12}\|#{8}\|#{7}\.{13}\]$" && out_re "^ {26}30% {6}50%  the healthy band$"'
t "stats: the quota" \
  '[ "$(line "sent this week")" = "sent this week 3 3 reached" ] && [ "$(lastline pending)" = "pending 0 200 warning at 2" ]'
t "stats: no colour when stdout is not a terminal" '! grep -q "$(printf "\033")" "$tmp/out"'
# On a terminal: colour, unless NO_COLOR.
tty_run() {
	$PY -c 'import os, pty, subprocess, sys
m, s = pty.openpty()
env = dict(os.environ, TERM="xterm")
if sys.argv[1] != "-":
    env["NO_COLOR"] = sys.argv[1]
p = subprocess.Popen(sys.argv[2:], stdin=s, stdout=s, stderr=s, env=env)
os.close(s)
out = b""
while True:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
p.wait()
sys.stdout.buffer.write(out)
sys.exit(p.returncode)' "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
tty_run - "$CLI" stats leo
t "stats on a terminal: the bar in colour" \
  '[ $rc -eq 0 ] && grep -q "$(printf "\033")\[3[0-9]m#" "$tmp/out"'
tty_run 1 "$CLI" stats leo
t "stats on a terminal with NO_COLOR: no colour" \
  '[ $rc -eq 0 ] && out_has "acceptance" && ! grep -q "$(printf "\033")" "$tmp/out"'
run --json stats leo
t "stats --json: the result map" \
  '[ $rc -eq 0 ] && json "assert d[\"sent\"] == 3 and abs(d[\"acceptance_rate\"] - 2/3) < 1e-9 and d[\"health\"] == \"insufficient_data\" and d[\"healthy_band\"] == [0.3, 0.5] and d[\"restricted_until\"] is None and d[\"window\"] == 90 * $DAY"'
run stats nobody
t "stats: nothing decided" \
  '[ $rc -eq 0 ] && out_re "^acceptance +none decided yet$" && out_re "^ +\[\.{12}\|\.{8}\|\.{20}\]$"'
run stats leo --window soon
t "stats --window: a bad duration" '[ $rc -eq 2 ] && err_has "--window: not a duration"'

# ---- advise, cleanup: the scene ----
do_ send nora p1 --priority low				# 11
do_ send nora p2 --priority high			# 12
do_ send oscar q1 --priority low			# 13
do_ send oscar q2					# 14
do_ send oscar q3					# 15

# ---- day 3: an invitation sent --expires-in 3d expires ----
do_ clock advance 3d
run show 1
t "--expires-in 3d: expired on day 3" '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, expired just now"'

# ---- day 7: the week's limit and ivan's restriction end ----
do_ clock advance 4d
run can-send alice erin
t "can-send: allowed again when it said" '[ $rc -eq 0 ] && out_has "yes: alice may invite erin"'
run can-send ivan zed
t "restriction: over after 7 days" '[ $rc -eq 0 ]'
do_ settings bob --from everyone
do_ resend alice 1					# 16
do_ withdraw alice 16
run can-send alice bob
t "can-send: COOLDOWN, and when alice may invite bob again" \
  '[ $rc -eq 1 ] && out_has "no: COOLDOWN: " && out_has "alice may invite bob again in 3w (2026-01-29 00:00 UTC)" && [ "$(line "sent to bob")" = "sent to bob 2 2 within 365d: reached" ]'
do_ send leo m4						# 17
do_ withdraw leo 17
run stats leo
t "stats: healthy at 50%, the bar up to the band's top" \
  '[ $rc -eq 0 ] && out_re "^acceptance +50% of 4 decided" && out_re "^ +\[#{12}\|#{8}\|\.{20}\]$" && out_re "^health +healthy$"'
run stats leo --window 1d
t "stats --window: only what was sent within it" \
  '[ $rc -eq 0 ] && [ "$(head -n 1 "$tmp/out")" = "leo over the last 1d (to 2026-01-08 00:00 UTC)" ] && [ "$(line sent)" = "sent 1" ] && [ "$(line withdrawn)" = "withdrawn 1" ]'

# ivan's watcher: each notice on a line of its own.
wait_for "$tmp/ivan.out" "you may send invitations again"
watched ivan
cat >"$tmp/want" <<'EOF'
2026-01-01 00:00  warning: PENDING_WARN: many of your invitations are pending: withdraw stale ones
2026-01-01 00:00  your invitations were reported too often: sending is paused (until 2026-01-08 00:00)
2026-01-08 00:00  you may send invitations again
EOF
t "watch MEMBER: a warning, a restriction and its end" \
  'diff "$tmp/want" "$tmp/out" >"$tmp/diff" || { sed "s/^/# diff: /" "$tmp/diff"; false; }'
wait_for "$tmp/all.out" "ivan may send invitations again"
watched all
t "watch --all: the notices name the member" \
  'out_has "2026-01-01 00:00  warning to ivan: PENDING_WARN: many of your invitations are pending" && out_has "2026-01-01 00:00  ivan may not send invitations (until 2026-01-08 00:00): too many reports" && out_has "2026-01-08 00:00  ivan may send invitations again"'

# ---- day 15 (January 16): advice ----
do_ clock advance 8d
do_ send nora p3					# 18
run advise nora
t "advise: a table, newest first" \
  '[ $rc -eq 0 ] && out_re "^ID +TO +AGE +PRIORITY +ADVICE +REASON$" && [ "$(grep -E "^[0-9]" "$tmp/out" | awk "{print \$1}" | tr "\n" " ")" = "18 12 11 " ]'
t "advise: wait, let expire, withdraw, with reasons" \
  'out_re "^18 +p3 +just now +medium +wait +pending 0 days" && out_re "^12 +p2 +2w +high +let expire +pending 15 days but high priority" && out_re "^11 +p1 +2w +low +withdraw +pending 15 days: withdraw it"'
t "advise: fits in 80 columns without a terminal or \$COLUMNS" \
  '[ "$(awk "length > 80" "$tmp/out" | wc -l)" -eq 0 ] && out_re "\.\.\.$"'
t "advise: says what cleanup would do" \
  '[ "$(tail -n 1 "$tmp/out")" = "\`connreq cleanup nora\` withdraws the one marked" ]'
COLUMNS=60 "$CLI" advise nora >"$tmp/out" 2>"$tmp/err"
rc=$?
t "advise: \$COLUMNS narrows the reasons, cut with an ellipsis" \
  '[ $rc -eq 0 ] && [ "$(grep -E "^[0-9]" "$tmp/out" | awk "length > 60" | wc -l)" -eq 0 ] && [ "$(grep -cE "^[0-9].{56}\.\.\.$" "$tmp/out")" -eq 3 ]'
COLUMNS=20 "$CLI" advise nora >"$tmp/out" 2>"$tmp/err"
rc=$?
t "advise: too narrow for the rows, each reason goes on a line of its own, 12 characters of it at least" \
  '[ $rc -eq 0 ] && out_re "^18 +p3 +just now +medium +wait$" && [ "$(grep -A1 "^18 " "$tmp/out" | tail -n 1)" = "    reason: pending 0..." ]'
COLUMNS=400 "$CLI" advise nora >"$tmp/out" 2>"$tmp/err"
rc=$?
t "advise: a wide terminal shows the whole reason" \
  '[ $rc -eq 0 ] && out_re "withdraw it, a few a day, to keep your acceptance rate healthy$"'
run --json advise nora
t "advise --json: the items" \
  '[ $rc -eq 0 ] && json "assert [(i[\"id\"], i[\"advice\"]) for i in d[\"items\"]] == [(18, \"wait\"), (12, \"let_expire\"), (11, \"withdraw\")] and d[\"items\"][1][\"age\"] == 15 * $DAY and d[\"items\"][0][\"to\"] == \"p3\""'
run advise zoe
t "advise: nothing pending" '[ $rc -eq 0 ] && out_has "nothing to advise: zoe has no pending invitations"'

# ---- cleanup, plans ----
watcher oscar oscar
run cleanup oscar --per-day 5
t "cleanup: the plan, capped by the policy's withdrawals a day" \
  '[ $rc -eq 0 ] && out_re "^plan [0-9]+ for oscar: withdraw 3 pending invitations, 2 a day$" && out_has "  (sent 14d ago or more, of medium or low priority," && out_has "  lowest priority and oldest first)" && out_has "(not 5 a day: the policy allows 2 withdrawals a day)"'
t "cleanup: what it did now, and the schedule" \
  '[ "$(line "withdrawn now")" = "withdrawn now 2" ] && [ "$(line "to go")" = "to go 1" ] && out_re "^DAY +WHEN +WITHDRAWALS$" && out_re "^2026-01-17 00:00 UTC +in 1d +1$"'
t "cleanup: when it ends, how to stop it" \
  'out_has "it ends in 1d (2026-01-17 00:00 UTC) at the latest" && out_re "^\`connreq plan-cancel oscar [0-9]+\` stops it$"'
plan=$(sed -n 's/^plan \([0-9]*\) for oscar.*/\1/p' "$tmp/out")
run sent oscar --state withdrawn
t "cleanup: lowest priority first, then the oldest" \
  '[ "$(grep -E "^[0-9]" "$tmp/out" | awk "{print \$1}" | tr "\n" " ")" = "14 13 " ]'
run plans oscar
t "plans: the plan, active" \
  '[ $rc -eq 0 ] && out_re "^ID +STATE +WITHDRAWN +SKIPPED +PER DAY +NEXT +MADE +ENDS$" && [ "$(line "$plan ")" = "$plan active 2 of 3 0 2 in 1d just now 2026-01-17 00:00 UTC" ]'
do_ clock advance 1d
run plans oscar
t "plans: done the next day" '[ $rc -eq 0 ] && [ "$(line "$plan ")" = "$plan done 3 of 3 0 2 - 1d ago -" ]'
run --json plans oscar
t "plans --json" \
  '[ $rc -eq 0 ] && json "p = d[\"items\"][0]; assert (p[\"id\"], p[\"state\"], p[\"done\"], p[\"total\"], p[\"next_at\"], p[\"schedule\"]) == ($plan, \"done\", 3, 3, None, [])"'
wait_for "$tmp/oscar.out" "is done"
watched oscar
cat >"$tmp/want" <<EOF
2026-01-16 00:00  your clean-up plan $plan: 2 of 3 withdrawn
2026-01-17 00:00  your clean-up plan $plan is done: 3 of 3 withdrawn
EOF
t "watch MEMBER: a plan's progress and its end" \
  'diff "$tmp/want" "$tmp/out" >"$tmp/diff" || { sed "s/^/# diff: /" "$tmp/diff"; false; }'
wait_for "$tmp/all.out" "oscar's clean-up plan $plan is done"
watched all
t "watch --all: plans name their member" \
  'out_has "2026-01-16 00:00  oscar'"'"'s clean-up plan $plan: 2 of 3 withdrawn" && out_has "2026-01-17 00:00  oscar'"'"'s clean-up plan $plan is done: 3 of 3 withdrawn"'
run plan-cancel oscar "$plan"
t "plan-cancel: a plan that is done" '[ $rc -eq 1 ] && err_has "INVALID_STATE"'
run cleanup oscar
t "cleanup: nothing left to withdraw: said on stdout, exit 0" \
  '[ $rc -eq 0 ] && out_has "nothing to withdraw: no pending invitation" && [ ! -s "$tmp/err" ]'
run --json cleanup oscar
t "cleanup --json: nothing to withdraw, the NOT_FOUND map, exit 0" \
  '[ $rc -eq 0 ] && json "assert d[\"code\"] == \"NOT_FOUND\""'

run --json cleanup nora --per-day 1 --older-than 1w --max-priority high
t "cleanup --json: the plan map" \
  '[ $rc -eq 0 ] && json "p = d[\"plan\"]; assert (p[\"state\"], p[\"total\"], p[\"done\"], p[\"per_day\"], p[\"older_than\"], p[\"max_priority\"]) == (\"active\", 2, 1, 1, 7 * $DAY, \"high\") and p[\"schedule\"] == [{\"at\": $T0 + 17 * $DAY, \"count\": 1}] and p[\"ends_at\"] == $T0 + 17 * $DAY"'
nplan=$(json_id)
run plan-cancel oscar "$nplan"
t "plan-cancel: only its member" '[ $rc -eq 1 ] && err_has "NOT_PERMITTED"'
run plan-cancel nora x1
t "plan-cancel: a bad id" '[ $rc -eq 2 ] && err_has "not a plan id: x1"'
run plan-cancel nora "$nplan"
t "plan-cancel: what was withdrawn and what stays" \
  '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "plan $nplan is cancelled: it withdrew 1 of 2; the 1 left stays pending" ]'
run plans nora
t "plans: cancelled" '[ $rc -eq 0 ] && [ "$(line "$nplan ")" = "$nplan cancelled 1 of 2 0 1 - just now -" ]'
run cleanup nora --max-priority urgent
t "cleanup: a bad --max-priority" '[ $rc -eq 2 ] && err_has "--max-priority: not high, medium or low: urgent"'
run cleanup nora --per-day 0
t "cleanup: --per-day 0" '[ $rc -eq 2 ] && err_has "--per-day"'
run plans zoe
t "plans: none" '[ $rc -eq 0 ] && out_has "no clean-up plans for zoe"'

# ---- day 30 (January 31): the cooldown is over, the pair's limit is not ----
do_ clock advance 14d
run can-send alice bob
t "can-send: PAIR_LIMIT, allowed again a year after the first" \
  '[ $rc -eq 1 ] && out_has "no: PAIR_LIMIT: " && out_has "alice may invite bob again in 11mo (2027-01-01 00:00 UTC)"'
run send alice bob
t "send: PAIR_LIMIT on stderr, with when" \
  '[ $rc -eq 1 ] && err_has "connreq: PAIR_LIMIT: " && err_has "you may try again in 11mo (2027-01-01 00:00 UTC)"'

# ---- usage, help ----
run can-send alice
t "can-send: usage" '[ $rc -eq 2 ] && err_has "usage: connreq can-send FROM TO [--email ADDR]"'
run stats
t "stats: usage" '[ $rc -eq 2 ] && err_has "usage: connreq stats MEMBER [--window DURATION]"'
run advise nora --all
t "advise: no options" '[ $rc -eq 2 ] && err_has "unknown option: --all"'
run help
t "help: lists the new commands" \
  '[ $rc -eq 0 ] && (for c in can-send report advise cleanup plans plan-cancel stats block unblock settings; do out_re "^  $c( |\$)" || exit 1; done)'
for c in can-send report advise cleanup plans plan-cancel stats block unblock settings; do
	run help $c
	t "help $c: usage and a paragraph" \
	  '[ $rc -eq 0 ] && out_has "usage: connreq $c " && [ "$(grep -c "^$" "$tmp/out")" -eq 1 ] && [ "$(sed "1,/^$/d" "$tmp/out" | wc -l)" -ge 1 ]'
done
run send --help
t "send --help: --email and --expires-in" \
  '[ $rc -eq 0 ] && out_has "[--email ADDR]" && out_has "[--expires-in DURATION]"'
run -s "$tmp/none.sock" stats leo
t "stats: unreachable, exit 3" '[ $rc -eq 3 ] && out_empty'

# ---- settings: the hold filters (issue 12) ----
run settings ivy
t "settings: the hold filters, the policy's" \
  '[ $rc -eq 0 ] && out_re "^hold: no mutual +no \(the policy.s default\)$" && out_re "^hold: new member +off \(the policy.s default\)$"'
run settings ivy --hold-new-member-days 30 --hold-no-mutual no
t "settings --hold-*: ivy's own" \
  '[ $rc -eq 0 ] && out_re "^hold: new member +within 30 days$" && out_re "^hold: no mutual +no$"'
run --json settings ivy
t "settings --json: own names them" \
  '[ $rc -eq 0 ] && json "assert d[\"own\"] == [\"hold_no_mutual\", \"hold_new_member_days\"] and d[\"hold_new_member_days\"] == 30, d"'
run send jay ivy
t "send: held for ivy, pending to jay as any" \
  '[ $rc -eq 0 ] && out_has "jay -> ivy, pending"'
run held ivy
t "held: ivy's held list has it" '[ $rc -eq 0 ] && out_re "^[0-9]+ +jay +ivy +pending "'
run received ivy
t "held: not in ivy's received list" '[ $rc -eq 0 ] && out_has "no received invitations for ivy"'
run settings ivy --hold-new-member-days default
t "settings --hold-new-member-days default: the policy's again" \
  '[ $rc -eq 0 ] && out_re "^hold: new member +off \(the policy.s default\)$" && out_re "^hold: no mutual +no$"'
run settings ivy --hold-low-health maybe
t "settings: a bad --hold-low-health" '[ $rc -eq 2 ] && err_has "--hold-low-health: not yes, no or default: maybe"'
run settings ivy --hold-restricted-days 4000
t "settings: too many days" '[ $rc -eq 2 ] && err_has "hold_restricted_days must be 0 (off) to 3650 days"'

# ---- the end ----
for p in $wpids; do
	kill "$p" 2>/dev/null
	wait "$p"
done
wpids=
cat "$tmp"/*.err >"$tmp/err" 2>/dev/null
: >"$tmp/out"
rc=0
t "watchers: no sanitizer reports" 'true'
kill "$dpid"
wait "$dpid"
rc=$?
dpid=
cp "$tmp/daemon.log" "$tmp/err"
t "connreqd stops cleanly" '[ $rc -eq 0 ] && err_has "stopped"'

echo "1..$n"
