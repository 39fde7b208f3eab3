#!/bin/sh
# tests/completion_files.sh: the zsh and fish completions, client/_connreq
# and client/connreq.fish, are what client/mkcompletions.py writes from the
# command table (`connreq help`), so they name every command and option; and
# the shells use them: zsh and fish parse them and complete with them (zsh
# interactive in a pseudo-terminal, zsh/zpty; fish with complete -C).
# TAP; run by prove (make test), which sets CONNREQ_BIN to the directory
# holding connreq. Needs no daemon.

. "$(dirname "$0")/lib/shell.sh"
cd "$(dirname "$0")/.." || { echo "Bail out! cd failed"; exit 1; }

n=0
rc=
: >"$tmp/out"
: >"$tmp/err"

run_check() {
	$PY client/mkcompletions.py --check "$CLI" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
run_check
t "the zsh and fish files are what mkcompletions.py writes from connreq help" \
  '[ $rc -eq 0 ]'

# The command table, independently of the generator: every command, and
# every option its usage line names, is in each file.
cmds=$("$CLI" help | awk '/^Commands:$/ { on = 1; next }
	on && /^$/ { exit }
	on && /^  [a-z]/ { print $1 }')
t "connreq help lists the commands (call and version too)" \
  '[ "$(echo "$cmds" | wc -l)" -ge 30 ] && echo "$cmds" | grep -qx call && echo "$cmds" | grep -qx version'
missing=
for c in $cmds; do
	grep -q "^		'$c:" client/_connreq || missing="$missing zsh:$c"
	grep -q "^		$c)$" client/_connreq || missing="$missing zsh-case:$c"
	grep -q -- "-a $c -d " client/connreq.fish || missing="$missing fish:$c"
	for o in $("$CLI" help "$c" | sed -n '1,/^$/p' | grep -oE -- '--[a-z-]+' | sort -u); do
		[ "$o" = --json ] && continue
		grep -q -- "'$o" client/_connreq || missing="$missing zsh:$c$o"
		grep -q -- "from $c' -l ${o#--}[ ]" client/connreq.fish ||
		    missing="$missing fish:$c$o"
	done
done
t "every command and each of its options is in both files" \
  '[ -z "$missing" ] || { echo "# missing:$missing"; false; }'

if command -v zsh >/dev/null; then
	t "zsh parses _connreq" 'zsh -n client/_connreq 2>"$tmp/err"'
	# zcomp LINE: what an interactive zsh (in a pseudo-terminal, zpty)
	# shows after LINE and a Tab, with client/ first in its fpath: the
	# listing, or the line as completed; escapes and all.
	cat >"$tmp/zcomp.zsh" <<-'ZSH'
	zmodload zsh/zpty
	zpty z 'zsh -f -i'
	zpty -w z "PS1='> '; PATH=$BIN:\$PATH; fpath=($PWD/client \$fpath); autoload -Uz compinit; compinit -u -D; unsetopt beep; print \$((6*7))RDY"
	zpty -r z x '*42RDY*'
	zpty -r z x '*> *'
	zpty -w -n z "$1"$'\t'
	# Keys are read in turn, after the completion: Ctrl-U empties the
	# line, then a marker says all is shown. (Not Ctrl-C: a signal.)
	zpty -w -n z $'\x15'
	zpty -w z 'print $((6*8))END'
	zpty -r z out '*48END*'
	print -r -- "$out"
	zpty -d z
	ZSH
	zcomp() {
		BIN=$BIN timeout 60 zsh -f "$tmp/zcomp.zsh" "$1" 2>"$tmp/err" |
		    tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'
	}
	got=$(zcomp "connreq sen")
	t "zsh: command names, with what they do" \
	  'echo "$got" | grep -q "^send  -- FROM invites TO to connect" && echo "$got" | grep -q "^sent  -- Lists the invitations MEMBER sent"'
	got=$(zcomp "connreq resend alice 1 --e")
	t "zsh: a command's options" \
	  'echo "$got" | grep -q -- "--email" && echo "$got" | grep -q -- "--expires-in"'
	got=$(zcomp "connreq send a b --priority ")
	t "zsh: an option's values" \
	  'echo "$got" | grep -q "high" && echo "$got" | grep -q "medium" && echo "$got" | grep -q "low"'
	got=$(zcomp "connreq clock ")
	t "zsh: clock advance" 'echo "$got" | grep -q "connreq clock advance"'
else
	echo "# zsh is not installed (make deps): its parse is not checked"
fi

if command -v fish >/dev/null; then
	t "fish parses connreq.fish" 'fish -n client/connreq.fish 2>"$tmp/err"'
	# comp LINE: what fish offers for LINE, the words only, one a line.
	comp() {
		PATH=$BIN:$PATH fish -c 'source client/connreq.fish; complete -C "$argv[1]"' "$1" 2>"$tmp/err" |
		    cut -f 1 | LC_ALL=C sort
	}
	t "fish: command names" \
	  '[ "$(comp "connreq se" | tr "\n" " ")" = "send sent settings " ]'
	t "fish: a command's options" \
	  'comp "connreq resend alice 1 --e" | grep -qx -- --email && comp "connreq resend alice 1 --e" | grep -qx -- --expires-in'
	t "fish: an option's values" \
	  '[ "$(comp "connreq send a b --priority " | tr "\n" " ")" = "high low medium " ]'
	t "fish: help COMMAND" 'comp "connreq help cal" | grep -qx call'
	t "fish: clock advance" '[ "$(comp "connreq clock ")" = advance ]'
else
	echo "# fish is not installed (make deps): it is not run"
fi

echo "1..$n"
