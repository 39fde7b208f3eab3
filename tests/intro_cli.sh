#!/bin/sh
# tests/intro_cli.sh: introductions end to end: the connreq commands
# intro-ask, intro-forward, intro-decline and intros against a real connreqd
# on a virtual clock, and what each party reads over the wire (intro.get,
# intro.list, invite.get, events.read, stats.get, invite.can_send), field
# by field where privacy is at stake. TAP; run by prove (make test), which
# sets CONNREQ_BIN. intro_cli_pg.sh runs it on PostgreSQL.

. "$(dirname "$0")/lib/shell.sh"
start_daemon --virtual-clock=$T0

n=0
rc=
run() {
	"$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
out_has() { grep -qF -- "$1" "$tmp/out"; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
json() {
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2] if len(sys.argv) > 2 else "")' "$tmp/out" "$@" 2>>"$tmp/err"
}
# call METHOD ARGS-AS-PYTHON-DICT: one request over the socket, speaking
# the protocol with python3-msgpack; the result (or the error) as JSON in
# $tmp/out, rc 0 on a result, 1 on an error.
call() {
	$PY - "$CONNREQ_SOCKET" "$1" "$2" >"$tmp/out" 2>"$tmp/err" <<'PYEOF'
import json, socket, sys, msgpack
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(msgpack.packb([0, 1, sys.argv[2], [eval(sys.argv[3])]]))
u = msgpack.Unpacker(raw=False)
while True:
    u.feed(s.recv(65536))
    for m in u:
        if m[0] == 1:
            print(json.dumps(m[2] if m[2] is not None else m[3]))
            sys.exit(1 if m[2] is not None else 0)
PYEOF
	rc=$?
}

# amy, cat and ben: cat is connected to both (invitations 1 and 2).
setup() {
	"$CLI" send cat amy && "$CLI" accept amy 1 &&
	"$CLI" send cat ben && "$CLI" accept ben 2
}
setup >"$tmp/setup.log" 2>&1 || { echo "Bail out! setup failed"; exit 1; }

# ---- intro-ask ----
run intro-ask amy dan ben
t "intro-ask: via not connected to both: refused, exit 1" \
  '[ $rc -eq 1 ] && err_has "NOT_PERMITTED: only a member connected to both"'
run intro-ask amy cat ben --note "Could you introduce me to Ben?"
t "intro-ask: amy asks cat for ben" \
  '[ $rc -eq 0 ] && out_has "introduction 3: amy asks cat to introduce them to ben (asked)" && out_has "cat may forward or decline it; unanswered, it expires in 6mo"'
run intro-ask amy cat ben
t "intro-ask: again while asked: ALREADY_PENDING" \
  '[ $rc -eq 1 ] && err_has "ALREADY_PENDING"'
run intros cat
t "intros: cat's box of asks to make" \
  '[ $rc -eq 0 ] && grep -qE "^3 +amy +cat +ben +asked +just now +Could you introduce me to Ben\?" "$tmp/out"'
run intros amy --asked
t "intros --asked: amy's asks" '[ $rc -eq 0 ] && grep -qE "^3 +amy +cat +ben +asked" "$tmp/out"'
run intros ben
t "intros: ben was asked nothing" '[ $rc -eq 0 ] && out_has "no introductions asked of ben"'
call intro.get "{'actor': 'ben', 'id': 3}"
t "intro.get by ben, its \`to\`: NOT_PERMITTED" \
  '[ $rc -eq 1 ] && json "assert d[\"code\"] == \"NOT_PERMITTED\""'
call events.read "{'member': 'cat', 'after': 0}"
t "events: cat is told of the ask, with amy's note" \
  '[ $rc -eq 0 ] && json "e = [x for x in d[\"events\"] if x[\"type\"] == \"introduction.asked\"]; assert len(e) == 1 and e[0][\"introduction\"][\"note\"] == \"Could you introduce me to Ben?\" and e[0][\"introduction\"][\"from\"] == \"amy\""'

# ---- intro-forward ----
run intro-forward amy 3
t "intro-forward: by the asker: refused" \
  '[ $rc -eq 1 ] && err_has "NOT_PERMITTED: only the member asked may forward"'
run intro-forward cat 3 --note "Ben, meet Amy: you both build compilers"
t "intro-forward: an invitation amy -> ben, introduced by cat" \
  '[ $rc -eq 0 ] && out_has "introduction 3 forwarded: invitation 4 from amy to ben, introduced by cat"'
call intro.get "{'actor': 'amy', 'id': 3}"
t "intro.get: amy sees it forwarded, with its invitation" \
  '[ $rc -eq 0 ] && json "i = d[\"introduction\"]; assert i[\"state\"] == \"forwarded\" and i[\"invitation\"] == 4 and i[\"told\"] is None"'
call invite.get "{'actor': 'ben', 'id': 4}"
t "invite.get: ben reads cat'\''s note, not amy'\''s to cat" \
  '[ $rc -eq 0 ] && json "i = d[\"invitation\"]; assert i[\"from\"] == \"amy\" and i[\"note\"] == \"Ben, meet Amy: you both build compilers\" and i[\"introduced_by\"] == \"cat\""'
call invite.get "{'actor': 'amy', 'id': 4}"
t "invite.get: amy'\''s view says introduced_by cat too" \
  '[ $rc -eq 0 ] && json "assert d[\"invitation\"][\"introduced_by\"] == \"cat\""'
call invite.get "{'actor': 'cat', 'id': 1}"
t "invite.get: an invitation sent plainly is introduced by no one" \
  '[ $rc -eq 0 ] && json "assert d[\"invitation\"][\"introduced_by\"] is None"'
call stats.get "{'member': 'amy'}"
t "stats.get: the forward counts as amy's send" \
  '[ $rc -eq 0 ] && json "assert d[\"quota\"][\"week_used\"] == 1 and d[\"pending\"] == 1"'
run intro-decline cat 3
t "intro-decline: once forwarded: INVALID_STATE" \
  '[ $rc -eq 1 ] && err_has "INVALID_STATE: introduction 3 is forwarded"'
run accept ben 4
t "the invitation follows every rule: ben accepts" '[ $rc -eq 0 ]'

# ---- a silent decline: amy learns nothing ----
"$CLI" send cat eve >/dev/null && "$CLI" accept eve 5 >/dev/null
call events.read "{'member': 'amy', 'after': 0}"
before=$(json "print(len(d['events']))")
run intro-ask amy cat eve --note "and Eve?"
call intro.get "{'actor': 'amy', 'id': 6}"
asked=$(cat "$tmp/out")
"$CLI" clock advance 1d >/dev/null
run intro-decline cat 6
t "intro-decline: silently" \
  '[ $rc -eq 0 ] && out_has "introduction 6 declined; amy is not told"'
call intro.get "{'actor': 'amy', 'id': 6}"
t "intro.get: amy'\''s view is as it was, field by field" \
  '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "$asked" ]'
call intro.list "{'member': 'amy', 'box': 'asked'}"
t "intro.list: amy'\''s list shows it asked" \
  '[ $rc -eq 0 ] && json "assert [i[\"state\"] for i in d[\"items\"]] == [\"asked\", \"forwarded\"] and d[\"next\"] is None"'
call events.read "{'member': 'amy', 'after': 0}"
t "events: nothing on amy'\''s feed" \
  '[ $rc -eq 0 ] && json "assert len(d[\"events\"]) == $before and not [e for e in d[\"events\"] if e[\"type\"] == \"introduction.declined\"]"'
call intro.get "{'actor': 'cat', 'id': 6}"
t "intro.get: cat sees it declined, amy not told" \
  '[ $rc -eq 0 ] && json "i = d[\"introduction\"]; assert i[\"state\"] == \"declined\" and i[\"told\"] is False"'
call events.read "{'all': True, 'after': 0}"
t "events: the all feed has the decline, as cat'\''s" \
  '[ $rc -eq 0 ] && json "e = [x for x in d[\"events\"] if x[\"type\"] == \"introduction.declined\"]; assert len(e) == 1 and e[0][\"member\"] == \"cat\""'
call invite.can_send "{'from': 'amy', 'to': 'eve'}"
t "invite.can_send: amy may invite eve (nothing closed)" \
  '[ $rc -eq 0 ] && json "assert d[\"allowed\"] is True"'
"$CLI" clock advance 180d >/dev/null
call intro.get "{'actor': 'amy', 'id': 6}"
t "intro.get: at its expiry amy sees it expired" \
  '[ $rc -eq 0 ] && json "i = d[\"introduction\"]; assert i[\"state\"] == \"expired\" and i[\"updated_at\"] == i[\"expires_at\"]"'
call events.read "{'member': 'amy', 'after': 0}"
t "events: at its expiry amy is told it expired, as of one never answered (and no decline)" \
  '[ $rc -eq 0 ] && json "e = [x for x in d[\"events\"] if x[\"type\"].startswith(\"introduction.\")]; e = [x for x in e if x[\"introduction\"][\"id\"] == 6]; assert [x[\"type\"] for x in e] == [\"introduction.expired\"] and e[0][\"at\"] == e[0][\"introduction\"][\"expires_at\"]"'

# ---- a decline told ----
run intro-ask amy cat eve
id=$(sed -n 's/^introduction \([0-9]*\):.*/\1/p' "$tmp/out")
run intro-decline cat "$id" --tell
t "intro-decline --tell: amy is told" \
  '[ $rc -eq 0 ] && out_has "amy is told"'
call events.read "{'member': 'amy', 'after': 0}"
t "events: amy'\''s feed has the decline" \
  '[ $rc -eq 0 ] && json "e = [x for x in d[\"events\"] if x[\"type\"] == \"introduction.declined\"]; assert len(e) == 1 and e[0][\"introduction\"][\"state\"] == \"declined\""'

# ---- usage ----
run intro-forward cat x
t "intro-forward: not an id: usage error, exit 2" '[ $rc -eq 2 ]'
run intro-decline cat 3 --tell=yes
t "intro-decline: --tell takes no value, exit 2" '[ $rc -eq 2 ]'
run --json intros amy --asked --limit 1
t "intros --json --limit 1: a page and its next" \
  '[ $rc -eq 0 ] && json "assert len(d[\"items\"]) == 1 and d[\"next\"] == d[\"items\"][0][\"id\"]"'

echo "1..$n"
