#!/bin/sh
# tests/cli.sh: connreq, the command-line client, end to end against a real
# connreqd on a virtual clock. TAP; run by prove (make test), which sets
# CONNREQ_BIN to the directory holding connreq and connreqd.
#
# Rule timing is driven by `connreq clock advance`, never by sleeping.

. "$(dirname "$0")/lib/shell.sh"
start_daemon --virtual-clock=$T0

# ---- helpers ----
n=0
rc=
run() {
	"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
out_has() { grep -qF -- "$1" "$tmp/out"; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
out_re() { grep -qE -- "$1" "$tmp/out"; }
out_lacks() { ! grep -qE -- "$1" "$tmp/out"; }
out_empty() { [ ! -s "$tmp/out" ]; }
out_lines() { [ "$(wc -l <"$tmp/out")" -eq "$1" ]; }
# The stdout of the last run is one JSON document; optional Python
# assertions about it as d.
json() {
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2] if len(sys.argv) > 2 else "")' "$tmp/out" "$@" 2>>"$tmp/err"
}
# A row of a list: its columns, split on blanks.
row() { grep -E "^$1 " "$tmp/out" | tr -s ' '; }

# ---- send ----
run send alice bob --note "Hi Bob, we met at the meetup"
t "send: prints the new invitation" \
  '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, pending, medium priority, sent just now, expires in 6mo"'
t "send: prints the note" 'out_has "  note: \"Hi Bob, we met at the meetup\""'

run --json send alice carol --priority high
t "send --json: one JSON object, the invitation" \
  '[ $rc -eq 0 ] && out_lines 1 && json "i = d[\"invitation\"]; assert i[\"id\"] == 2 and i[\"priority\"] == \"high\" and i[\"state\"] == \"pending\" and i[\"created_at\"] == $T0 and \"connection\" not in d"'

run send carol alice
t "send: mutual invitations connect at once" \
  '[ $rc -eq 0 ] && out_has "carol and alice are now connected (both invited each other)" && out_has "invitation 3: carol -> alice, accepted"'

run send --priority low dave bob
t "send: options may come before the arguments" \
  '[ $rc -eq 0 ] && out_has "invitation 4: dave -> bob, pending, low priority"'

run send alice bob
t "send: a second pending invitation is refused" \
  '[ $rc -eq 1 ] && out_empty && err_has "connreq: ALREADY_PENDING: "'

run send alice alice
t "send: inviting yourself is refused" '[ $rc -eq 1 ] && err_has "SELF_INVITE"'

# A float in --json is the shortest text that reads back as the same
# double: 0.3, not 0.29999999999999999.
run --json stats alice
t "--json: floats as written, not 17 digits (healthy_band [0.3,0.5])" \
  '[ $rc -eq 0 ] && out_has "\"healthy_band\":[0.3,0.5]"'

# connreq's own -s may follow the command, as --json and --local do.
for o in "-s /nonexistent/after.sock" "--socket /nonexistent/after.sock" \
    "--socket=/nonexistent/after.sock" "-s/nonexistent/after.sock"; do
	# shellcheck disable=SC2086
	run info $o
	t "-s after the command ($o): that socket is used" \
	  '[ $rc -eq 3 ] && err_has "/nonexistent/after.sock"'
done
run info -s
t "-s after the command without a value: a usage error" \
  '[ $rc -eq 2 ] && err_has "-s needs a value"'

# ---- accept, ignore ----
run accept bob 4
t "accept: the two are connected" \
  '[ $rc -eq 0 ] && out_has "invitation 4: dave -> bob, accepted just now" && out_has "bob and dave are now connected"'

run accept alice 4
t "accept: outsiders are refused" \
  '[ $rc -eq 1 ] && err_has "connreq: NOT_PERMITTED: "'
run accept bob 4
t "accept: only a pending invitation can be accepted" \
  '[ $rc -eq 1 ] && err_has "connreq: INVALID_STATE: "'


run accept alice 2
t "accept: refused with the rule named" '[ $rc -eq 1 ] && err_has "connreq: NOT_PERMITTED: only the recipient"'

run ignore bob 1
t "ignore: silent" \
  '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, ignored" && out_has "bob ignored it silently: alice is not told"'

run sent alice
t "ignore: the sender's sent list still shows it pending" \
  '[ $rc -eq 0 ] && out_re "^ID +FROM +TO +STATE +PRIORITY +AGE +EXPIRES +NOTE$" && [ "$(row 1)" = "1 alice bob pending medium just now in 6mo Hi Bob, we met at the meetup" ]'

run received bob
t "ignore: the recipient's received list leaves it out" \
  '[ $rc -eq 0 ] && out_lacks "^1 " && [ "$(row 4)" = "4 dave bob accepted - just now -" ]'
t "received: the sender's priority is not shown to the recipient (-)" \
  '[ $rc -eq 0 ] && out_lacks "low"'

run show 1
t "show: as its sender sees it (pending)" '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, pending"'
run show 1 --as bob
t "show --as: as its recipient sees it (ignored)" '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, ignored"'
t "show --as: the recipient's view has no priority" '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, ignored, sent " && out_lacks "priority"'
run show 1 --as zed
t "show --as: outsiders may not look" '[ $rc -eq 1 ] && err_has "NOT_PERMITTED"'
run show 999
t "show: an unknown id" '[ $rc -eq 1 ] && err_has "connreq: NOT_FOUND: no invitation 999"'
run --json show 1
t "show --json: parses" '[ $rc -eq 0 ] && json "assert d[\"invitation\"][\"state\"] == \"pending\""'

# ---- the ignored box, unignore (issue 12) ----
run ignored bob
t "ignored: the recipient's ignored list has it" \
  '[ $rc -eq 0 ] && out_re "^1 +alice +bob +ignored " && out_lacks "^4 "'
run unignore alice 1
t "unignore: by the sender: refused" \
  '[ $rc -eq 1 ] && err_has "connreq: NOT_PERMITTED: only the recipient of an invitation may unignore it"'
run unignore bob 1
t "unignore: back in the received list, silently" \
  '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, pending" && out_has "bob put it back in the received box"'
run received bob
t "unignore: in the received list again" '[ $rc -eq 0 ] && out_re "^1 +alice +bob +pending "'
run ignored bob
t "unignore: the ignored list is empty" '[ $rc -eq 0 ] && out_has "no ignored invitations for bob"'
run held bob
t "held: nothing held for bob" '[ $rc -eq 0 ] && out_has "no held invitations for bob"'
run unignore bob 1
t "unignore: twice: refused" '[ $rc -eq 1 ] && err_has "connreq: INVALID_STATE: the invitation is pending"'
run ignore bob 1
t "ignore: again after the unignore" '[ $rc -eq 0 ] && out_has "bob ignored it silently"'

# ---- withdraw and the cooldown ----
run send alice erin
t "send: alice invites erin (5)" '[ $rc -eq 0 ] && out_has "invitation 5: alice -> erin"'
run withdraw alice 5
t "withdraw: says when alice may invite erin again" \
  '[ $rc -eq 0 ] && out_has "invitation 5: alice -> erin, withdrawn just now" && out_has "alice may invite erin again in 3w (2026-01-22 00:00 UTC)"'
run received erin
t "withdraw: gone from the recipient's list at once" '[ $rc -eq 0 ] && out_has "no received invitations for erin"'
run show 5 --as erin
t "withdraw: gone for the recipient" '[ $rc -eq 1 ] && err_has "NOT_FOUND"'

run send alice erin
t "cooldown: sending again is refused, and says when it will be allowed" \
  '[ $rc -eq 1 ] && out_empty && err_has "connreq: COOLDOWN: " && err_has "connreq: you may try again in 3w (2026-01-22 00:00 UTC)"'
run --json send alice erin
t "cooldown --json: the error map on stdout" \
  '[ $rc -eq 1 ] && out_lines 1 && json "assert d[\"code\"] == \"COOLDOWN\" and d[\"retry_at\"] == $T0 + 21 * 86400" && err_has "COOLDOWN"'

run clock advance 20d
t "clock advance 20d" '[ $rc -eq 0 ] && out_has "the clock is now 2026-01-21 00:00 UTC"'
run send alice erin
t "cooldown: still refused a day before its end" \
  '[ $rc -eq 1 ] && err_has "COOLDOWN" && err_has "you may try again in 1d"'
run clock advance 1d
run send alice erin
t "cooldown: allowed once it ended" '[ $rc -eq 0 ] && out_has "invitation 6: alice -> erin, pending"'

# ---- resend ----
run resend alice 5
t "resend: refused while another is pending" '[ $rc -eq 1 ] && err_has "ALREADY_PENDING"'
run withdraw alice 6
run resend alice 6 --note "second try"
t "resend: the cooldown applies" '[ $rc -eq 1 ] && err_has "COOLDOWN"'
run clock advance 3w
run resend alice 6 --note "second try"
t "resend: a new invitation linked to the old one" \
  '[ $rc -eq 0 ] && out_has "invitation 7: alice -> erin, pending" && out_has "note: \"second try\"" && out_has "attempt 3, resending invitation 6"'
run resend bob 1
t "resend: only the sender resends" '[ $rc -eq 1 ] && err_has "NOT_PERMITTED"'

# ---- history ----
run history alice erin
t "history: every invitation between the two, oldest first" \
  '[ $rc -eq 0 ] && [ "$(grep -E "^[0-9]" "$tmp/out" | awk "{print \$1 \$4}" | tr "\n" " ")" = "5withdrawn 6withdrawn 7pending " ]'
run history erin alice
t "history: as the first member sees them (no withdrawn ones for erin)" \
  '[ $rc -eq 0 ] && [ "$(grep -cE "^[0-9]" "$tmp/out")" -eq 1 ] && [ "$(row 7 | cut -d" " -f4)" = pending ]'
run history alice zed
t "history: none" '[ $rc -eq 0 ] && out_has "no invitations between alice and zed"'
run --json history alice erin
t "history --json: parses" '[ $rc -eq 0 ] && json "assert [i[\"id\"] for i in d[\"items\"]] == [5, 6, 7]"'

# ---- list filters and pages ----
run sent alice --state withdrawn
t "sent --state" \
  '[ $rc -eq 0 ] && [ "$(grep -E "^[0-9]" "$tmp/out" | cut -d" " -f1 | tr "\n" " ")" = "6 5 " ]'
run sent alice --older-than 3w
t "sent --older-than" '[ $rc -eq 0 ] && out_re "^6 " && out_re "^1 " && out_lacks "^7 "'
run sent alice --priority high
t "sent --priority" '[ $rc -eq 0 ] && [ "$(grep -cE "^[0-9]" "$tmp/out")" -eq 1 ] && out_re "^2 +alice +carol +accepted +high"'
run sent alice --state withdrawn --limit 1
t "sent --limit: the last line says how to see more" \
  '[ $rc -eq 0 ] && [ "$(grep -cE "^[0-9]" "$tmp/out")" -eq 1 ] && out_re "^6 " && [ "$(tail -n 1 "$tmp/out")" = "more: connreq sent alice --state withdrawn --limit 1 --after 6" ]'
more=$(tail -n 1 "$tmp/out" | sed 's/^more: connreq //')
eval "run $more"
t "sent --after: the command it gave shows the next page" \
  '[ $rc -eq 0 ] && [ "$(grep -cE "^[0-9]" "$tmp/out")" -eq 1 ] && out_re "^5 "'
run --json sent alice --limit 1
t "sent --json: {items, next}" \
  '[ $rc -eq 0 ] && json "assert len(d[\"items\"]) == 1 and d[\"next\"] == 7"'
run sent nobody
t "sent: an empty list says so" '[ $rc -eq 0 ] && out_has "no sent invitations for nobody"'

# ---- connections, disconnect ----
run send frank alice
run accept alice 8
run connections alice
t "connections: the other members, in order" \
  '[ $rc -eq 0 ] && out_re "^MEMBER +SINCE +DATE$" && [ "$(awk "NR > 1 {print \$1}" "$tmp/out" | tr "\n" " ")" = "carol frank " ]'
run connections alice --limit 1
t "connections --limit: the last line says how to see more" \
  '[ $rc -eq 0 ] && out_re "^carol +6w ago +2026-01-01 00:00 UTC$" && [ "$(tail -n 1 "$tmp/out")" = "more: connreq connections alice --limit 1 --after carol" ]'
run connections alice --limit 1 --after carol
t "connections --after" '[ $rc -eq 0 ] && out_re "^frank " && out_lacks "^carol"'
run --json connections alice
t "connections --json: parses" \
  '[ $rc -eq 0 ] && json "assert [c[\"b\"] for c in d[\"items\"]] == [\"carol\", \"frank\"] and d[\"next\"] is None"'
run disconnect bob dave
t "disconnect" '[ $rc -eq 0 ] && out_has "bob and dave are no longer connected (connected 6w ago, 2026-01-01 00:00 UTC)"'
run connections bob
t "disconnect: the connection is gone" '[ $rc -eq 0 ] && out_has "no connections for bob"'
run disconnect bob dave
t "disconnect: twice is refused" '[ $rc -eq 1 ] && err_has "NOT_FOUND"'

# ---- mutual connections ----
run mutual carol frank
t "mutual: the members connected to both, with when each connected" \
  '[ $rc -eq 0 ] && out_re "^MEMBER +WITH A SINCE +WITH B SINCE$" && out_re "^alice +2026-01-01 00:00 UTC +2026-02-12 00:00 UTC$" && out_lines 2'
run --json mutual carol frank
t "mutual --json: {items: [{member, since_a, since_b}], next}" \
  '[ $rc -eq 0 ] && json "assert d[\"items\"] == [{\"member\": \"alice\", \"since_a\": $T0, \"since_b\": $T0 + 42 * 86400}] and d[\"next\"] is None"'
run mutual alice bob
t "mutual: none says so" '[ $rc -eq 0 ] && out_has "no mutual connections of alice and bob"'
run mutual alice alice
t "mutual: a member with itself is refused" '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT"'
run send carol frank
mid=$(sed -n 's/^invitation \([0-9]*\):.*/\1/p' "$tmp/out")
run show "$mid" --as frank
t "show --as the recipient: how many connections the two share" \
  '[ $rc -eq 0 ] && out_has "  mutual connections: 1"'
run show "$mid" --as carol
t "show --as the sender: not shown" '[ $rc -eq 0 ] && out_lacks "mutual"'
run withdraw carol "$mid"

# ---- auto-accept ----
run auto-accept carol frank
t "auto-accept: carol accepts frank at once" \
  '[ $rc -eq 0 ] && out_has "carol accepts invitations from frank at once"'
run auto-accept carol gina
run auto-accept carol
t "auto-accept MEMBER: the list, in order" \
  '[ $rc -eq 0 ] && [ "$(tr "\n" " " <"$tmp/out")" = "frank gina " ]'
run auto-accept carol --limit 1
t "auto-accept --limit: the last line says how to see more" \
  '[ $rc -eq 0 ] && [ "$(tail -n 1 "$tmp/out")" = "more: connreq auto-accept carol --limit 1 --after frank" ]'
run no-auto-accept carol frank
t "no-auto-accept" '[ $rc -eq 0 ] && out_has "carol no longer accepts invitations from frank at once"'
run --json auto-accept carol
t "auto-accept --json: {items, next}" \
  '[ $rc -eq 0 ] && json "assert d[\"items\"] == [\"gina\"] and d[\"next\"] is None"'
run auto-accept carol carol
t "auto-accept: not oneself" '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT"'
run settings carol --auto-min-mutual 3 --auto-for 2w
t "settings --auto-min-mutual --auto-for" \
  '[ $rc -eq 0 ] && out_re "^auto-accept +from 3 mutual connections and the list, until 2026-02-26 00:00 UTC$"'
run --json settings carol --auto-min-mutual 0 --auto-for 0
t "settings: 0 turns them off" \
  '[ $rc -eq 0 ] && json "assert d[\"auto_accept_min_mutual\"] == 0 and d[\"auto_accept_until\"] is None"'
run no-auto-accept carol gina

# ---- info, clock ----
run info
t "info: version, clock, counts" \
  '[ $rc -eq 0 ] && out_re "^version +connreqd [0-9]" && out_re "^now +2026-02-12 00:00 UTC$" && out_re "^virtual clock +yes$" && out_re "^invitations +[0-9]+ pending, " && out_re "^connections +2$"'
# The store line names the store: LMDB's directory and map, or the
# PostgreSQL database.
if [ "$backend" = postgresql ]; then
	store_re="^store +.*dbname=store1 .*\(PostgreSQL\)$"
else
	store_re="^store +$tmp/db \(map [^,]+, at most [^)]+\)$"
fi
t "info: deadlines and store ($backend)" \
  '[ $rc -eq 0 ] && out_re "^deadlines +[0-9]+, next in " && out_re "$store_re"'
t "info: the policy, durations as days" \
  '[ $rc -eq 0 ] && out_re "expire after +180d$" && out_re "resend cooldown +21d$" && out_re "stale after +14d$"'
run --json info
t "info --json" '[ $rc -eq 0 ] && json "assert d[\"virtual_clock\"] is True and d[\"now\"] == $T0 + 42 * 86400"'

run clock advance 180d
run show 1
t "clock advance: an invitation expires" '[ $rc -eq 0 ] && out_has "invitation 1: alice -> bob, expired"'
run clock advance 3x
t "clock advance: a bad duration is a usage error" '[ $rc -eq 2 ] && err_has "usage: connreq clock advance DURATION"'
run clock back 1d
t "clock: only advance" '[ $rc -eq 2 ] && err_has "usage: connreq clock advance"'
run --json clock advance 1h
t "clock --json" '[ $rc -eq 0 ] && json "assert d[\"now\"] == $T0 + 222 * 86400 + 3600"'

# ---- notes are shown safely ----
run send alice gina --note "$(printf 'red\033[31mtext')"
t "send: the daemon refuses escape sequences in a note" \
  '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT" && ! grep -q "$(printf "\033")" "$tmp/err"'
run send alice gina --note "$(printf 'two\tcolumns\nand lines')"
t "send: tabs and newlines in a note are shown on one line" \
  '[ $rc -eq 0 ] && out_has "note: \"two columns and lines\""'
run sent alice
t "sent: a note with a newline keeps the table whole" \
  '[ $rc -eq 0 ] && out_re "two columns and lines$"'

# ---- help ----
run help
t "help: lists every command" \
  '[ $rc -eq 0 ] && (for c in send can-send accept ignore unignore withdraw resend report show sent received ignored held history advise cleanup plans plan-cancel stats connections mutual auto-accept no-auto-accept disconnect block unblock settings info clock watch help version call; do out_re "^  $c( |\$)" || exit 1; done)'
run --help
t "--help: the same" '[ $rc -eq 0 ] && out_has "usage: connreq [-s SOCKET] [--json] [--local] COMMAND"'
run help withdraw
t "help COMMAND: usage and explanation" \
  '[ $rc -eq 0 ] && out_has "usage: connreq withdraw ACTOR ID" && out_has "cooldown"'
run sent --help
t "COMMAND --help" '[ $rc -eq 0 ] && out_has "usage: connreq sent MEMBER" && out_has "--older-than"'
run send -h
t "COMMAND -h" '[ $rc -eq 0 ] && out_has "usage: connreq send FROM TO"'
run -s "$tmp/none.sock" help
t "help needs no daemon" '[ $rc -eq 0 ] && out_has "Commands:"'
run help nonsense
t "help: an unknown command" '[ $rc -eq 2 ] && err_has "unknown command: nonsense"'

# ---- usage errors, exit 2 ----
run send alice
t "usage: too few arguments" '[ $rc -eq 2 ] && out_empty && err_has "usage: connreq send FROM TO"'
run accept bob 1 2
t "usage: too many arguments" '[ $rc -eq 2 ] && err_has "usage: connreq accept ACTOR ID"'
run accept bob 1x
t "usage: a bad id" '[ $rc -eq 2 ] && err_has "not an invitation id: 1x"'
run accept bob 99999999999999999999999
t "usage: an id out of range" '[ $rc -eq 2 ] && err_has "not an invitation id"'
run send alice bob --colour red
t "usage: an unknown option" '[ $rc -eq 2 ] && err_has "unknown option: --colour"'
run show 1 --note hi
t "usage: an option of another command" '[ $rc -eq 2 ] && err_has "unknown option: --note"'
run send alice bob --priority urgent
t "usage: a bad priority" '[ $rc -eq 2 ] && err_has "--priority"'
run sent alice --older-than soon
t "usage: a bad duration" '[ $rc -eq 2 ] && err_has "--older-than"'
run sent alice --limit 5x
t "usage: a bad number" '[ $rc -eq 2 ] && err_has "--limit: not a number: 5x"'
run sent alice --limit
t "usage: an option without its value" '[ $rc -eq 2 ] && err_has "--limit needs a value"'
run frobnicate
t "usage: an unknown command" '[ $rc -eq 2 ] && err_has "unknown command: frobnicate"'
run
t "usage: no command" '[ $rc -eq 2 ] && err_has "Commands:"'
run --bogus info
t "usage: an unknown global option" '[ $rc -eq 2 ] && err_has "unknown option: --bogus"'

# ---- the daemon cannot be reached, exit 3 ----
run -s "$tmp/none.sock" info
t "unreachable (-s): exit 3, names the socket and how to start connreqd" \
  '[ $rc -eq 3 ] && out_empty && err_has "$tmp/none.sock" && err_has "start it with \`connreqd -s $tmp/none.sock\`"'
CONNREQ_SOCKET=$tmp/none.sock "$CLI" sent alice >"$tmp/out" 2>"$tmp/err"
rc=$?
t "unreachable (\$CONNREQ_SOCKET): exit 3" \
  '[ $rc -eq 3 ] && err_has "$tmp/none.sock" && err_has "CONNREQ_SOCKET"'

# An invitation the recipient's rules accepted says so.
run auto-accept uma vic
run send vic uma
t "send: auto-accepted, and says so" \
  '[ $rc -eq 0 ] && out_re "^invitation [0-9]+: vic -> uma, accepted just now" && out_has "  accepted at once by the recipient'"'"'s auto-accept rules"'

# ---- resend --email, --expires-in (issue 13) ----
# sol takes invitations only with the address; rhea's invitation, withdrawn
# and past its cooldown, is resent from the shell.
run settings sol --from email
t "settings --from email with no email on file: refused, and how to give it" \
  '[ $rc -eq 2 ] && err_has "needs the member'"'"'s email" && err_has "connreq: give it with --email ADDR"'
run settings sol --from email --email sol@example.com
run --json send rhea sol --email sol@example.com
rid=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["invitation"]["id"])' "$tmp/out")
run withdraw rhea "$rid"
run clock advance 3w
run resend rhea "$rid"
t "resend: to an email-only member without --email: EMAIL_REQUIRED, and how to give it" \
  '[ $rc -eq 1 ] && err_has "connreq: EMAIL_REQUIRED: " && err_has "connreq: give their email address with --email ADDR"'
run resend rhea "$rid" --email sol@example.com --expires-in 200d
t "resend --expires-in beyond the policy: the daemon's INVALID_ARGUMENT exits 2" \
  '[ $rc -eq 2 ] && err_has "connreq: INVALID_ARGUMENT: expires_in may be at most"'
run resend rhea "$rid" --email sol@example.com --expires-in 2d
t "resend --email --expires-in: to an email-only member, for 2 days" \
  '[ $rc -eq 0 ] && out_re "^invitation [0-9]+: rhea -> sol, pending, .*expires in 2d" && out_has "resending invitation $rid"'
run resend rhea "$rid" --email nope
t "resend: a bad --email is a usage error" '[ $rc -eq 2 ] && err_has "--email: not an address: nope"'
run resend --help
t "resend --help: --email and --expires-in" \
  '[ $rc -eq 0 ] && out_has "usage: connreq resend ACTOR ID [--note TEXT] [--email ADDR]" && out_has "[--expires-in DURATION]"'

# ---- a mistyped command ----
run sedn alice bob
t "did you mean: a command one edit away" \
  '[ $rc -eq 2 ] && out_empty && [ "$(cat "$tmp/err")" = "connreq: unknown command '"'"'sedn'"'"'; did you mean '"'"'send'"'"'?" ]'
run recieved bob
t "did you mean: two letters swapped" '[ $rc -eq 2 ] && err_has "did you mean '"'"'received'"'"'?"'
run plan-cancle alice 1
t "did you mean: a longer name, two edits away" '[ $rc -eq 2 ] && err_has "did you mean '"'"'plan-cancel'"'"'?"'
run help widthraw
t "did you mean: help COMMAND too" \
  '[ $rc -eq 2 ] && out_empty && err_has "connreq: help: unknown command '"'"'widthraw'"'"'; did you mean '"'"'withdraw'"'"'?"'
run xyz
t "did you mean: nothing close, no guess" \
  '[ $rc -eq 2 ] && err_has "unknown command: xyz" && ! err_has "did you mean"'

# ---- version ----
run version
t "version: connreq's and connreqd's" \
  '[ $rc -eq 0 ] && out_lines 2 && out_re "^connreq [0-9]+\.[0-9]+\.[0-9]+ \(protocol 1\)$" && out_re "^connreqd [0-9]+\.[0-9]+\.[0-9]+ \(protocol 1\)$"'
run --version
t "--version: the same" '[ $rc -eq 0 ] && out_lines 2 && out_re "^connreqd "'
run --json version
t "version --json: both, as a map" \
  '[ $rc -eq 0 ] && json "assert d[\"connreq\"][\"protocol\"] == 1 and d[\"connreqd\"][\"server\"] == \"connreqd\" and d[\"connreq\"][\"version\"] == d[\"connreqd\"][\"version\"]"'
run -s "$tmp/none.sock" version
t "version: connreq's alone when connreqd cannot be reached, still exit 0" \
  '[ $rc -eq 0 ] && out_lines 1 && out_re "^connreq " && err_has "no version of connreqd: "'
run -s "$tmp/none.sock" --json -V
t "--json -V: connreqd null when it cannot be reached" \
  '[ $rc -eq 0 ] && json "assert d[\"connreqd\"] is None"'
run version 2
t "version: takes no argument" '[ $rc -eq 2 ] && err_has "too many arguments"'
run -V info
t "--version: nothing may follow" '[ $rc -eq 2 ] && err_has "nothing may follow --version"'

# ---- call METHOD JSON ----
run call hello
t "call: a method without arguments, the result as one JSON line" \
  '[ $rc -eq 0 ] && out_lines 1 && json "assert d[\"server\"] == \"connreqd\""'
run call invite.send '{"from": "tara", "to": "ugo", "note": "caf\u00e9 \ud83d\ude00", "priority": "high"}'
t "call: a write, with \\u escapes" \
  '[ $rc -eq 0 ] && json "assert d[\"invitation\"][\"note\"] == \"caf\u00e9 \U0001f600\" and d[\"invitation\"][\"priority\"] == \"high\""'
cid=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["invitation"]["id"])' "$tmp/out")
run show "$cid"
t "call: the write is there" '[ $rc -eq 0 ] && out_has "tara -> ugo, pending, high priority"'
run call invite.get "{\"id\": $cid, \"actor\": \"ugo\"}"
t "call: integers stay integers" \
  '[ $rc -eq 0 ] && json "assert d[\"invitation\"][\"id\"] == $cid and d[\"invitation\"][\"state\"] == \"pending\""'
run call invite.send '{"from": "tara", "to": "vera", "note": "x\u0000y"}'
t "call: strings are binary-safe (a NUL reaches connreqd, which refuses it: exit 2)" \
  '[ $rc -eq 2 ] && out_empty && err_has "connreq: INVALID_ARGUMENT: argument '"'"'note'"'"'"'
run call invite.get '{"id": 1,}'
t "call: bad JSON is a usage error, and nothing is sent" \
  '[ $rc -eq 2 ] && out_empty && err_has "call: not JSON: " && err_has "usage: connreq call METHOD [JSON]"'
run -s "$tmp/none.sock" call invite.get '{"id": 1'
t "call: bad JSON is a usage error before connecting" \
  '[ $rc -eq 2 ] && err_has "call: not JSON: expected '"'"','"'"' or '"'"'}'"'"' at byte 9"'
run call invite.get '{"id": 1, "note": "\ud800"}'
t "call: a lone surrogate is bad JSON" '[ $rc -eq 2 ] && err_has "a lone surrogate"'
run call invite.get '[1]'
t "call: the arguments must be an object" '[ $rc -eq 2 ] && err_has "not a JSON object"'
run call invite.frobnicate '{}'
t "call: an unknown method: refused, exit 1, where the methods are listed" \
  '[ $rc -eq 1 ] && err_has "connreq: UNKNOWN_METHOD: " && err_has "connreq: connreq-protocol(7) lists the methods" && ! err_has "did you mean"'
run call send '{"from": "a", "to": "b"}'
t "call: a method's last part: did you mean the method (send: invite.send)" \
  '[ $rc -eq 1 ] && err_has "connreq: did you mean '"'"'invite.send'"'"'?"'
run call invite_send '{}'
t "call: a near name: did you mean (invite_send: invite.send)" \
  '[ $rc -eq 1 ] && err_has "connreq: did you mean '"'"'invite.send'"'"'?"'
run --json call send '{}'
t "call --json: an unknown method's error map on stdout, the hint on stderr" \
  '[ $rc -eq 1 ] && json "assert d[\"code\"] == \"UNKNOWN_METHOD\"" && err_has "did you mean"'
run --json call invite.get '{"id": "one"}'
t "call --json: a bad argument exits 2, the error map on stdout" \
  '[ $rc -eq 2 ] && err_has "INVALID_ARGUMENT" && json "assert d[\"code\"] == \"INVALID_ARGUMENT\""'
run call invite.get '{"id": 99999}'
t "call: NOT_FOUND exits 1" '[ $rc -eq 1 ] && err_has "connreq: NOT_FOUND: "'

# The daemon still answers after all that, and stops cleanly.
run info
t "the daemon is still up" '[ $rc -eq 0 ]'
kill "$dpid"
wait "$dpid"
rc=$?
dpid=
cp "$tmp/daemon.log" "$tmp/err"
: >"$tmp/out"
t "connreqd stops cleanly on SIGTERM, with nothing from the sanitizers" \
  '[ $rc -eq 0 ] && err_has "stopped"'

# Started with descriptors 0-2 closed, connreqd puts /dev/null on them, so
# no stray write can land in the store or on a client's socket.
if [ "$backend" = postgresql ]; then
	set -- --postgres "$(pg_conninfo 2)"
else
	set -- -d "$tmp/fd-db"
fi
XDG_CONFIG_HOME="$tmp" "$BIN/connreqd" -s "$tmp/fd.sock" "$@" \
    --virtual-clock=$T0 <&- >&- 2>&- &
fdpid=$!
i=0
while ! "$CLI" -s "$tmp/fd.sock" info >/dev/null 2>&1 && [ $i -lt 1200 ] &&
    kill -0 "$fdpid" 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
run -s "$tmp/fd.sock" send fd1 fd2
fds=$(for f in 0 1 2; do readlink "/proc/$fdpid/fd/$f"; done | sort -u)
t "started with 0-2 closed, connreqd serves with /dev/null on them" \
  '[ $rc -eq 0 ] && [ "$fds" = /dev/null ]'
kill "$fdpid"
wait "$fdpid"

echo "1..$n"
