#!/bin/bash
# tests/completion.sh: client/connreq.bash-completion, sourced in bash; its
# function called as bash calls it, with COMP_WORDS and COMP_CWORD set, and
# COMPREPLY checked. Against a real connreqd on a virtual clock for what it
# asks the daemon. TAP; run by prove (make test), which sets CONNREQ_BIN to
# the directory holding connreq and connreqd.

. "$(dirname "$0")/lib/shell.sh"
cd "$(dirname "$0")/.." || { echo "Bail out! cd failed"; exit 1; }
start_daemon --virtual-clock=$T0

# The store: 1 bob->gina expired; then 2 alice->bob pending, 3 carol->bob
# accepted (bob and carol are connected), 4 bob->dave pending, 5 bob->erin
# withdrawn, 6 frank->bob ignored, 7 bob->"o'neil" and 8 bob->'q"x' pending;
# 9 carol->zed accepted, and 10 bob asked carol for an introduction to zed.
setup() {
	"$CLI" send bob gina &&
	"$CLI" clock advance 181d &&
	"$CLI" send alice bob &&
	"$CLI" send carol bob &&
	"$CLI" accept bob 3 &&
	"$CLI" send bob dave &&
	"$CLI" send bob erin &&
	"$CLI" withdraw bob 5 &&
	"$CLI" send frank bob &&
	"$CLI" ignore bob 6 &&
	"$CLI" send bob "o'neil" &&
	"$CLI" send bob 'q"x' &&
	"$CLI" send carol zed &&
	"$CLI" accept zed 9 &&
	"$CLI" intro-ask bob carol zed
}
if ! setup >"$tmp/setup.log" 2>&1; then
	echo "Bail out! setting up the store failed:"
	sed 's/^/# /' "$tmp/setup.log"
	exit 1
fi

# shellcheck source=../client/connreq.bash-completion
. client/connreq.bash-completion

n=0
failed=0
# comp WORD...: completes the last WORD of `connreq WORD...` (the command
# word is $CLI); the result, sorted, one a line, is in $got.
comp() {
	COMP_WORDS=("$CLI" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_connreq connreq "${COMP_WORDS[COMP_CWORD]}" \
	    "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort)
}
# is DESCRIPTION EXPECTED WORD...: the completion of WORD... is EXPECTED
# (words separated by spaces, any order).
is() {
	local desc=$1 want
	want=$(printf '%s\n' $2 | sed '/^$/d' | sort)
	shift 2
	comp "$@"
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		echo "not ok $n - $desc"
		echo "#   connreq $*"
		echo "#   want: $(echo $want)"
		echo "#   got:  $(echo $got)"
	fi
}

# ---- offline: commands, options, fixed values ----
cmds=$("$CLI" help | awk '/^Commands:$/ { on = 1; next } on && /^$/ { exit }
    on && /^  [a-z]/ { print $1 }')
is "every command of connreq help" "$cmds" ""
is "commands by prefix" "$(printf '%s\n' $cmds | grep '^s')" s
is "global options" "-s --socket --json --help --version" -
is "commands after global options" "watch withdraw" -s "$tmp/s.sock" --json w
is "watch's options, --all among them" "--all --after --exec --json --help" \
    watch --
is "an option by prefix" "--exec" watch --after 3 --ex
is "--priority's values" "high medium low" send alice bob --priority ""
is "--priority=VALUE, as bash splits it" "medium" send alice bob --priority = m
is "--state's values" "pending accepted ignored withdrawn expired" \
    received bob --state ""
is "no value for --note" "" send alice bob --note ""
is "no value for --limit" "" sent bob --limit ""
is "clock advance" "advance" clock ""
is "help COMMAND" "watch withdraw" help w
is "nothing past the last argument" "" info ""
is "nothing after --" "" send -- ""
is "import FILE: a file name" "tests/import.sh tests/import_pg.sh" import tests/import
# usage_opts CMD: the options of CMD's usage line, and --json, --help.
usage_opts() {
	printf '%s\n' $("$CLI" help "$1" | sed -n '1,/^$/p' |
	    grep -oE -- '--[a-z][a-z-]*') --json --help | sort -u
}
is "options already given are not offered again" \
    "$(usage_opts send | grep -vx -- --priority)" send alice bob --priority low --
is "nor those given as --opt=VALUE" \
    "$(usage_opts send | grep -vx -- --note)" send alice bob --note = hi --
# Each command's options are those of its usage line in connreq help.
# And the values a usage line lists, "--priority high|medium|low".
for c in $cmds; do
	is "$c: the options of its usage line" "$(usage_opts "$c")" "$c" --
	"$CLI" help "$c" | sed -n '1,/^$/p' |
	    grep -oE -- '--[a-z][a-z-]* [a-z_]+(\|[a-z_]+)+' >"$tmp/vals"
	while read -r opt vals; do
		is "$c $opt: $vals" "${vals//|/ }" "$c" "$opt" ""
	done <"$tmp/vals"
done
comp -s ""
case $got in
*Makefile*) ok=1 ;;
*) ok= ;;
esac
n=$((n + 1))
if [ -n "$ok" ]; then
	echo "ok $n - -s completes file names"
else
	failed=$((failed + 1))
	echo "not ok $n - -s completes file names"
	echo "#   got: $(echo $got)"
fi

# ---- from the daemon ----
is "accept: the pending invitations ACTOR received, and those ACTOR ignored" "2 6" accept bob ""
is "ignore: the pending invitations ACTOR received" "2" ignore bob ""
is "unignore: those ACTOR ignored" "6" unignore bob ""
is "accept: none for a member who received none" "" accept alice ""
is "withdraw: the pending invitations ACTOR sent" "4 7 8" withdraw bob ""
is "resend: the withdrawn and expired ones ACTOR sent" "1 5" resend bob ""
is "ids by prefix" "7" withdraw bob 7
is "ids after an option" "4 7 8" --json withdraw --json bob ""
is "show --as MEMBER: what MEMBER sent and received" "1 2 3 4 5 7 8" \
    show --as bob ""
is "show without --as: no ids" "" show ""
is "show ID --as: its sender and recipient" "bob o\\'neil" show 7 --as ""
is "disconnect: ACTOR's connections" "carol" disconnect bob ""
is "intro-forward: the introductions asked of VIA" "10" intro-forward carol ""
is "intro-decline: the same" "10" intro-decline carol ""
is "intro-forward: none asked of bob" "" intro-forward bob ""
is "history: everyone A exchanged invitations with or is connected to" \
    "alice carol dave erin gina o\\'neil" history bob ""
is "send: those FROM exchanged invitations with, not connections" \
    "alice dave erin gina o\\'neil" send bob ""
is "a member by prefix, quoted for the shell" "o\\'neil" history bob o
is "the first member is not completed" "" send ""
is "the first member is not completed (accept)" "" accept ""
# The socket named on the line, not $CONNREQ_SOCKET.
sock=$CONNREQ_SOCKET
CONNREQ_SOCKET=$tmp/none.sock
is "no daemon: nothing" "" accept bob ""
is "-s SOCKET on the line" "2" -s "$sock" ignore bob ""
is "--socket=SOCKET on the line, as bash splits it" "2" \
    --socket = "$sock" ignore bob ""
is "-sSOCKET on the line" "2" "-s$sock" ignore bob ""
# A daemon that does not answer: a listening socket nobody accepts on.
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64)
sys.stdout.write("ready\n"); sys.stdout.flush(); time.sleep(30)' \
    "$tmp/mute.sock" >"$tmp/mute.out" &
mpid=$!
i=0
while ! grep -q ready "$tmp/mute.out" 2>/dev/null && [ $i -lt 1200 ]; do
	sleep 0.05
	i=$((i + 1))
done
start=$(date +%s%N)
is "a daemon that does not answer: nothing" "" -s "$tmp/mute.sock" \
    accept bob ""
ms=$((($(date +%s%N) - start) / 1000000))
kill $mpid 2>/dev/null
wait $mpid 2>/dev/null
n=$((n + 1))
if [ $ms -lt 3000 ]; then
	echo "ok $n - ... within 3 s (${ms} ms)"
else
	failed=$((failed + 1))
	echo "not ok $n - ... within 3 s (${ms} ms)"
fi
CONNREQ_SOCKET=$sock

echo "1..$n"
[ $failed -eq 0 ]
