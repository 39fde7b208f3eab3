#!/bin/sh
# tests/readme_tour.sh: README.md's tour, run. Every ```console block of
# README.md is a run of `$ connreq ARGS` lines, each followed by what it
# prints (stdout and stderr); the blocks run in order, as one session, on
# the demo store (tests/lib/demo.sh, what `make demo` builds) and each
# command's output must be the README's. Dates ("2025-12-11 09:00") are
# compared as DATE: the virtual clock makes them stable, but they are not
# what the tour is about. TAP; run by prove (make test).
#
#   tests/readme_tour.sh --print   prints the blocks' commands with the
#                                  output of today's connreq instead
#   tests/readme_tour.sh --update  writes that output into README.md's
#                                  blocks, for when an output changes on
#                                  purpose (make readme-tour; then read
#                                  git diff README.md)

. "$(dirname "$0")/lib/shell.sh"
. "$(dirname "$0")/lib/demo.sh"
README=$(dirname "$0")/../README.md
print=
update=
case $1 in
--print) print=1 ;;
--update) print=1 update=$tmp/printed ;;
esac

start_daemon --virtual-clock=$DEMO_T0
if ! demo_fill 2>"$tmp/fill.err"; then
	echo "Bail out! the demo store: $(cat "$tmp/fill.err")"
	exit 1
fi
# Restarted as make demo leaves it: the clock resumes where it stood.
kill "$dpid" && wait "$dpid"
dpid=
start_daemon --virtual-clock

# The commands and their expected output, a file each: $tmp/tour/N.cmd and
# N.want, N from 1.
mkdir "$tmp/tour"
awk -v dir="$tmp/tour" '
/^```console$/ { inblock = 1; next }
/^```/ { inblock = 0; next }
!inblock { next }
/^\$ connreq / { n++; print substr($0, 11) >(dir "/" n ".cmd");
	printf "" >(dir "/" n ".want"); next }
n > 0 { print >(dir "/" n ".want") }
' "$README"

norm() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/DATE/g' "$1"; }

i=1
total=$(ls "$tmp/tour" | grep -c '\.cmd$')
if [ -z "$print" ]; then
	if [ "$total" -eq 0 ]; then
		echo "Bail out! no \`\$ connreq\` line in a \`\`\`console block of README.md"
		exit 1
	fi
	echo "1..$total"
fi
while [ "$i" -le "$total" ]; do
	cmd=$(cat "$tmp/tour/$i.cmd")
	# As the tour's reader types it: quotes, as a shell reads them.
	( eval "set -- $cmd" && COLUMNS=80 "$CLI" "$@" ) >"$tmp/got" 2>&1
	if [ -n "$print" ]; then
		{ echo "\$ connreq $cmd"; cat "$tmp/got"; } >>"${update:-/dev/stdout}"
	elif norm "$tmp/got" >"$tmp/g" && norm "$tmp/tour/$i.want" >"$tmp/w" &&
	    cmp -s "$tmp/g" "$tmp/w" && sanitized "$tmp/got"; then
		echo "ok $i - connreq $cmd"
	else
		echo "not ok $i - connreq $cmd: README.md says (-), connreq prints (+)"
		diff -u "$tmp/w" "$tmp/g" | tail -n +3 | sed 's/^/# /'
	fi
	i=$((i + 1))
done
# --update: each block's lines give way to the printed commands and output,
# as many commands as the block had.
if [ -n "$update" ]; then
	awk -v printed="$update" '
	function flush_cmd() {	# copies one printed command and its output
		if (pending != "") print pending
		pending = ""
		while ((getline line < printed) > 0) {
			if (line ~ /^\$ connreq /) { pending = line; return }
			print line
		}
	}
	BEGIN { if ((getline pending < printed) <= 0) pending = "" }
	/^```console$/ { inblock = 1; print; next }
	inblock && /^```/ { inblock = 0; print; next }
	inblock && /^\$ connreq / { flush_cmd(); next }
	inblock { next }
	{ print }
	' "$README" >"$tmp/README.new" && cat "$tmp/README.new" >"$README" &&
	    echo "readme_tour: README.md's console blocks rewritten: git diff README.md"
fi
