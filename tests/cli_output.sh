#!/bin/sh
# tests/cli_output.sh: connreq's output for people: every list fits a
# 60-column terminal with the longest member ids and notes (cut with "..."
# or the last column on lines of its own) while --json keeps them whole;
# colour for states on a terminal only (a pty), never with NO_COLOR set,
# TERM=dumb or --json; --local dates. TAP; run by prove (make test).

. "$(dirname "$0")/lib/shell.sh"
start_daemon --virtual-clock=$T0

n=0
rc=
run() {
	"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
do_() { "$CLI" "$@" >/dev/null 2>>"$tmp/setup.err" || echo "# setup failed: $*"; }
out_has() { grep -qF -- "$1" "$tmp/out"; }
out_re() { grep -qE -- "$1" "$tmp/out"; }
# No line of the last run's output wider than $1 characters (UTF-8 aware,
# colour aside), but for a command to type (`connreq cleanup ID`), which
# names a member whole.
fits() {
	$PY -c 'import sys
w = int(sys.argv[2])
import re
text = re.sub("\033\\[[0-9;]*m", "", open(sys.argv[1], encoding="utf-8").read())
bad = [l for l in text.split("\n") if len(l) > w and not l.startswith("`")]
for l in bad: print("# too wide (%d): %s" % (len(l), l))
sys.exit(1 if bad else 0)' "$tmp/out" "$1"
}
# ptyrun COLS ENV... -- ARGS: connreq on a pseudo-terminal COLS wide, its
# output (the terminal's, \r\n made \n) in $tmp/out.
ptyrun() {
	$PY - "$CLI" "$@" >"$tmp/out" 2>"$tmp/err" <<'PYEOF'
import fcntl, os, pty, struct, subprocess, sys, termios
cli, cols, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
k = rest.index("--")
env = dict(os.environ)
env.pop("NO_COLOR", None)
env.pop("COLUMNS", None)
env["TERM"] = "xterm"
for kv in rest[:k]:
    key, _, val = kv.partition("=")
    env[key] = val
m, s = pty.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
p = subprocess.Popen([cli] + rest[k + 1:], stdout=s, stderr=s, stdin=s, env=env)
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
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(p.returncode)
PYEOF
	rc=$?
}
ESC=$(printf '\033')

# ---- a store with the longest ids and notes ----
L=$(printf 'm%.0s' $(seq 64))		# a member id of 64 bytes, the most
K=$(printf 'k%.0s' $(seq 64))
NOTE=$($PY -c 'print(("We met at the meetup, " * 20)[:300])')	# 300, the most
do_ send "$L" "$K" --note "$NOTE"
do_ accept "$K" 1
do_ send "$L" bob --note "$NOTE" --priority low
do_ send "$K" bob --note "$NOTE"
do_ send bob ann --note "$NOTE"
do_ send ann "$L" --note "$NOTE"
do_ ignore "$L" 5
do_ send "$K" carol
do_ accept carol 6
do_ settings bob --hold-no-mutual yes
do_ send zed bob --note "$NOTE"
do_ intro-ask "$L" "$K" carol --note "$NOTE"
do_ clock advance 15d
do_ cleanup "$K" --per-day 1

# ---- widths ----
for cmd in "sent $L" "sent $K" "received bob" "received $K" "ignored $L" \
    "held bob" "advise $L" "connections $L" "connections $K" \
    "mutual $L carol" "intros $K" "intros $L --asked" "plans $K"; do
	# shellcheck disable=SC2086
	COLUMNS=60 "$CLI" $cmd >"$tmp/out" 2>"$tmp/err"
	rc=$?
	t "$(echo "$cmd" | cut -c1-24): rows fit 60 columns (\$COLUMNS)" \
	  '[ $rc -eq 0 ] && [ -s "$tmp/out" ] && fits 60'
done
COLUMNS=60 "$CLI" sent "$L" >"$tmp/out" 2>&1
t "sent: long ids cut with ..., the note on a line of its own" \
  'out_re "^2 +mmmmm\.\.\. +bob +pending +low " && out_re "^    note: We met at the meetup, .*\.\.\.$"'
COLUMNS=60 "$CLI" intros "$K" >"$tmp/out" 2>&1
t "intros: ids and the note cut" \
  'out_re "^[0-9]+ +mmmmm\.\.\. +kkkkk\.\.\. +carol +asked +2w ago +We met.*\.\.\.$"'
ptyrun 60 -- sent "$L"
t "on a 60-column terminal (a pty), without \$COLUMNS: rows fit" \
  '[ $rc -eq 0 ] && fits 60 && out_re "mmmmm\.\.\."'
COLUMNS=400 "$CLI" sent "$L" >"$tmp/out" 2>&1
t "a wide terminal: ids whole" 'out_has "$L  bob"'
run --json sent "$L"
t "--json: ids and notes whole, whatever the width" \
  '[ $rc -eq 0 ] && out_has "\"$NOTE\"" && out_has "\"$L\"" && ! grep -q "\.\.\." "$tmp/out"'

# ---- singular and plural ----
run show 2
t "1 day, not 1 days: an invitation sent 15 days ago is \"2w ago\"" \
  '[ $rc -eq 0 ] && out_has "sent 2w ago"'
do_ send pia quin
do_ clock advance 1d
run advise pia
t "advise: \"pending 1 day\", not \"1 days\"" \
  '[ $rc -eq 0 ] && out_has "pending 1 day: give it 14 days"'

# ---- colour ----
ptyrun 100 -- sent "$L"
t "on a terminal, states in colour" \
  '[ $rc -eq 0 ] && out_has "${ESC}[33mpending${ESC}[0m" && out_has "${ESC}[32maccepted${ESC}[0m"'
ptyrun 100 -- show 2
t "show on a terminal: its state in colour" \
  'out_has "bob, ${ESC}[33mpending${ESC}[0m, low priority"'
ptyrun 100 -- ignored "$L"
t "ignored on a terminal: dim" 'out_has "${ESC}[2mignored${ESC}[0m"'
ptyrun 100 -- intros "$K"
t "intros on a terminal: asked in colour" 'out_has "${ESC}[33masked${ESC}[0m"'
ptyrun 100 -- plans "$K"
t "plans on a terminal: the plan's state in colour" 'out_re "${ESC}\[[0-9]+m(active|done)${ESC}\[0m"'
ptyrun 100 NO_COLOR=1 -- sent "$L"
t "NO_COLOR=1: no colour" '[ $rc -eq 0 ] && out_has "pending" && ! out_has "$ESC"'
ptyrun 100 NO_COLOR=0 -- sent "$L"
t "NO_COLOR set to anything (no-color.org): no colour" '! out_has "$ESC"'
ptyrun 100 NO_COLOR= -- sent "$L"
t "NO_COLOR empty: colour" 'out_has "${ESC}[33mpending"'
ptyrun 100 TERM=dumb -- sent "$L"
t "TERM=dumb: no colour" '[ $rc -eq 0 ] && out_has "pending" && ! out_has "$ESC"'
ptyrun 100 -- --json sent "$L"
t "--json on a terminal: no colour" '[ $rc -eq 0 ] && ! out_has "$ESC"'
run sent "$L"
t "not a terminal: no colour" '[ $rc -eq 0 ] && ! out_has "$ESC"'

# ---- --local ----
run show 2
t "dates in UTC by default, whatever TZ" \
  'TZ=CET-1 "$CLI" connections "$K" | grep -q "2026-01-01 00:00 UTC"'
TZ=CET-1 "$CLI" --local connections "$K" >"$tmp/out" 2>"$tmp/err"
rc=$?
t "--local: in the zone of TZ, named" \
  '[ $rc -eq 0 ] && out_has "2026-01-01 01:00 CET" && ! out_has "UTC"'
TZ=CET-1 "$CLI" connections "$K" --local >"$tmp/out" 2>"$tmp/err"
rc=$?
t "--local after the command too" '[ $rc -eq 0 ] && out_has "2026-01-01 01:00 CET"'
TZ=CET-1 "$CLI" --local --json connections "$K" >"$tmp/out" 2>"$tmp/err"
rc=$?
t "--local --json: Unix times, untouched" \
  '[ $rc -eq 0 ] && out_has "$T0" && ! out_has "CET"'

# ---- watch: introductions in words ----
# watched ARGS: `connreq watch ARGS --after 0` until it has printed what is
# kept (its last line holds $2, 60 s at most), then stopped; output in
# $tmp/out. The files are emptied first and the SIGTERM waits for watch's
# "watching" line: an earlier call's output held $2 already, and a SIGTERM
# that reached the forked shell before it ran connreq went to this
# script's trap (tests/lib/shell.sh) and was lost, leaving the watch to
# run for ever (seen once in make check).
watched() {
	: >"$tmp/out"
	: >"$tmp/err"
	"$CLI" watch "$1" --after 0 >"$tmp/out" 2>"$tmp/err" &
	wp=$!
	i=0
	while ! grep -q "^connreq: watching " "$tmp/err" &&
	    [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	while ! grep -qF -- "$2" "$tmp/out" && [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill "$wp" 2>/dev/null
	wait "$wp"
	rc=0
}
do_ send x1 x2
do_ accept x2 "$("$CLI" --json sent x1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
do_ send x2 x3
do_ accept x3 "$("$CLI" --json sent x2 | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
do_ send x4 x2
do_ accept x2 "$("$CLI" --json sent x4 | $PY -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
ia=$("$CLI" --json intro-ask x1 x2 x3 --note "Hi" | $PY -c 'import json,sys; print(json.load(sys.stdin)["introduction"]["id"])')
ib=$("$CLI" --json intro-ask x4 x2 x3 | $PY -c 'import json,sys; print(json.load(sys.stdin)["introduction"]["id"])')
do_ intro-forward x2 "$ia"
do_ intro-decline x2 "$ib" --tell
watched x2 "x4 asks you"
t "watch: an introduction asked of the member, in words" \
  'out_has "x1 asks you to introduce them to x3 (introduction $ia, note: \"Hi\")" && ! out_has "introduction.asked"'
watched x1 "introduced you"
t "watch: the asker's introduction forwarded, with its invitation" \
  'out_re "x2 introduced you to x3 \(introduction $ia\): invitation [0-9]+$"'
watched x4 "declined"
t "watch: a decline the asker is told of" \
  'out_has "x2 declined to introduce you to x3 (introduction $ib)"'
watched --all "declined"
t "watch --all: introductions name all three" \
  'out_has "x1 asked x2 to introduce them to x3 (introduction $ia, note: \"Hi\")" && out_has "x2 forwarded x1'"'"'s introduction $ia to x3" && out_has "x2 declined x4'"'"'s introduction $ib to x3"'
ic=$("$CLI" --json intro-ask x4 x2 x1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["introduction"]["id"])')
do_ clock advance 181d
watched x4 "expired"
t "watch: the asker's introduction expired" \
  'out_has "your introduction $ic to x1 through x2 expired unanswered"'
watched x2 "expired"
t "watch: an introduction asked of the member expired" \
  'out_has "x4'"'"'s introduction $ic to x1 expired unanswered"'


# ---- erase, and what watch --all shows of it ----
"$CLI" erase x4 >"$tmp/out" 2>"$tmp/err"
rc=$?
t "erase without --yes: a usage error, nothing erased" \
  '[ $rc -eq 2 ] && grep -q -- "--yes" "$tmp/err" && "$CLI" --json sent x4 | grep -q "\"id\""'
"$CLI" erase --yes x4 >"$tmp/out" 2>"$tmp/err"
rc=$?
t "erase --yes: the counts, in words" \
  '[ $rc -eq 0 ] && out_re "^erased x4: 1 invitation, 1 connection, 2 introductions, 0 plans, [0-9]+ events?$"'
watched --all "was erased"
t "watch --all: the erasure, and the events left in its place" \
  'out_has "x4 was erased" && out_has "(an event about an erased member)" && ! out_has "x4 asked"'

[ -s "$tmp/setup.err" ] && sed 's/^/# setup: /' "$tmp/setup.err"
echo "1..$n"
