#!/bin/sh
# tests/manpages.sh: the man pages `make man` builds from docs/*.scd render
# cleanly, and say what --help and the docs say. TAP; run by prove (make
# test), which sets CONNREQ_BIN to the directory holding connreq and
# connreqd; the pages are in ../man beside it (CONNREQ_MAN overrides).
#
# Each page is rendered as a reader gets it, with man-db's `man -l` at 80
# columns: no warning from groff (all of them on), no line wider than 80.
# Then the promise that the pages and --help agree is checked mechanically:
# - connreq.1: every command of `connreq help` with its exact usage line
#   and help paragraph, and every option of `connreq --help`;
# - connreqd.8: the usage line and every option of `connreqd --help`;
# - connreqd.conf.5: every key of docs/connreqd.conf.example, with the
#   default the example gives, and every key of docs/configuration.md;
# - connreq-protocol.7: every method, error code and event type of
#   docs/protocol.md.

cd "$(dirname "$0")/.." || { echo "Bail out! cd failed"; exit 1; }
BIN=${CONNREQ_BIN:-$(pwd)/build/bin}
MANDIR=${CONNREQ_MAN:-$BIN/../man}
PAGES="connreq.1 connreqd.8 connreqd.conf.5 connreq-protocol.7"

for p in $PAGES; do
	if [ ! -f "$MANDIR/$p" ]; then
		echo "Bail out! $MANDIR/$p is missing: run make man"
		exit 1
	fi
done
if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
	echo "Bail out! man (man-db) and groff are needed: run make deps"
	exit 1
fi

tmp=$(mktemp -d) || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# A rendered page (or any text) as one line: margins dropped, lines joined
# with one space, and a word that groff broke after its hyphen
# ("msgpack-" / "rpc") joined again.
flat() {
	awk '{
		sub(/^[ \t]+/, "")
		sub(/[ \t]+$/, "")
		if ($0 == "")
			next
		if (buf ~ /[A-Za-z]-$/ && $0 ~ /^[A-Za-z]/)
			buf = buf $0
		else
			buf = buf (buf == "" ? "" : " ") $0
	} END { print buf }' "$@" | tr -s ' '
}

# has TEXTFILE NEEDLE: the flattened file holds NEEDLE, whitespace
# normalised.
has() {
	needle=$(printf '%s\n' "$2" | flat)
	case $(flat "$1") in
	*"$needle"*) return 0 ;;
	esac
	return 1
}

# ---- every page renders cleanly ----
for p in $PAGES; do
	LC_ALL=C MANWIDTH=80 MANPAGER=cat PAGER=cat \
	    man --warnings=all -l "$MANDIR/$p" >"$tmp/$p.txt" 2>"$tmp/$p.err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/$p.err" ] && [ -s "$tmp/$p.txt" ]; then
		ok "$p: man -l renders it without a warning"
	else
		not_ok "$p: man -l renders it without a warning" \
		    "exit status $rc" "$(sed 's/^/err: /' "$tmp/$p.err")"
	fi
	groff -ww -man -Tutf8 -z "$MANDIR/$p" >"$tmp/groff.err" 2>&1
	if [ ! -s "$tmp/groff.err" ]; then
		ok "$p: groff -ww says nothing"
	else
		not_ok "$p: groff -ww says nothing" \
		    "$(sed 's/^/groff: /' "$tmp/groff.err")"
	fi
	wide=$(awk 'length($0) > 80 { print NR ": " $0 }' "$tmp/$p.txt")
	if [ -z "$wide" ]; then
		ok "$p: no line is wider than 80 columns"
	else
		not_ok "$p: no line is wider than 80 columns" "$wide"
	fi
	if grep -q '^NAME$' "$tmp/$p.txt" &&
	    grep -q '^SEE ALSO$' "$tmp/$p.txt"; then
		ok "$p: has NAME and SEE ALSO"
	else
		not_ok "$p: has NAME and SEE ALSO"
	fi
done

# ---- connreq.1 and connreq help ----
page=$tmp/connreq.1.txt
"$BIN/connreq" help >"$tmp/help" 2>&1 || echo "Bail out! connreq help failed"
cmds=$(awk '/^Commands:$/ { on = 1; next }
	on && /^$/ { exit }
	on && /^  [a-z]/ { print $1 }' "$tmp/help")
if [ "$(echo $cmds | wc -w)" -ge 10 ]; then
	ok "connreq help lists the commands ($(echo $cmds))"
else
	not_ok "connreq help lists the commands" "$(cat "$tmp/help")"
fi
for c in $cmds; do
	"$BIN/connreq" help "$c" >"$tmp/h" 2>&1
	usage=$(awk 'NR == 1 { sub(/^usage: connreq /, "") } /^$/ { exit }
	    { print }' "$tmp/h" | flat)
	para=$(awk 'p { print } /^$/ { p = 1 }' "$tmp/h" | flat)
	# In COMMANDS, as an entry of its own: at the start of a line.
	entry=$(awk -v c="$c" '$1 == c && /^       [a-z]/' "$page")
	if [ -n "$entry" ] && has "$page" "$usage"; then
		ok "connreq.1 lists $c with its usage line: $usage"
	else
		not_ok "connreq.1 lists $c with its usage line" \
		    "usage line: $usage"
	fi
	if [ -n "$para" ] && has "$page" "$para"; then
		ok "connreq.1 has the help paragraph of $c"
	else
		not_ok "connreq.1 has the help paragraph of $c" \
		    "paragraph: $para"
	fi
done
# The global options, and the global usage line.
opts=$(sed -n '/^Options:$/,/^$/p' "$tmp/help" | grep -oE -- '--[a-z][a-z-]*' |
    sort -u)
for o in $opts; do
	if grep -qE -- "(^|[ ,])$o([ ,=]|$)" "$page"; then
		ok "connreq.1 explains $o"
	else
		not_ok "connreq.1 explains $o"
	fi
done
usage=$(sed -n '1s/^usage: //p' "$tmp/help")
if has "$page" "$usage"; then
	ok "connreq.1 has the synopsis of connreq help: $usage"
else
	not_ok "connreq.1 has the synopsis of connreq help" "usage: $usage"
fi

# ---- connreqd.8 and connreqd --help ----
page=$tmp/connreqd.8.txt
"$BIN/connreqd" --help >"$tmp/dhelp" 2>&1 ||
    echo "Bail out! connreqd --help failed"
usage=$(awk 'NR == 1 { sub(/^usage: /, "") } /^$/ { exit } { print }' \
    "$tmp/dhelp" | flat)
if has "$page" "$usage"; then
	ok "connreqd.8 has the usage line of connreqd --help: $usage"
else
	not_ok "connreqd.8 has the usage line of connreqd --help" \
	    "usage: $usage"
fi
# Options: "  -c, --config FILE", "      --virtual-clock[=T]".
opts=$(grep -E '^  +-' "$tmp/dhelp" | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' |
    sed 's/^[ ,]*//' | sort -u)
if [ "$(echo $opts | wc -w)" -ge 10 ]; then
	ok "connreqd --help lists options ($(echo $opts))"
else
	not_ok "connreqd --help lists options" "$(cat "$tmp/dhelp")"
fi
sed -n '/^OPTIONS$/,/^[A-Z]/p' "$page" >"$tmp/options"
for o in $opts; do
	# As an entry of OPTIONS: "       -c, --config FILE".
	if grep -qE -- "^       (-[a-zA-Z], )?$o([ ,=[]|$)" "$tmp/options" ||
	    grep -qE -- "^       $o, " "$tmp/options"; then
		ok "connreqd.8 explains $o under OPTIONS"
	else
		not_ok "connreqd.8 explains $o under OPTIONS"
	fi
done

# ---- connreqd.conf.5, the example and docs/configuration.md ----
page=$tmp/connreqd.conf.5.txt
# "key = value" or "# key = value" (machine-specific, shown commented).
grep -E '^#? ?[a-z_]+ = ' docs/connreqd.conf.example |
    sed 's/^# *//' >"$tmp/keys"
if [ "$(wc -l <"$tmp/keys")" -ge 10 ]; then
	ok "docs/connreqd.conf.example sets $(wc -l <"$tmp/keys") keys"
else
	not_ok "docs/connreqd.conf.example sets keys" "$(cat "$tmp/keys")"
fi
while read -r key eq value; do
	# The key's entry: from "       key = ..." to the next entry.
	awk -v k="$key" '$0 ~ "^       [a-z_]+ = " { on = ($1 == k) } on' \
	    "$page" >"$tmp/entry"
	if [ ! -s "$tmp/entry" ]; then
		not_ok "connreqd.conf.5 explains $key"
		continue
	fi
	if grep -q "^#.*$key = " docs/connreqd.conf.example; then
		ok "connreqd.conf.5 explains $key (its default is per machine)"
	elif has "$tmp/entry" "Default: $value"; then
		ok "connreqd.conf.5 explains $key, default $value"
	else
		not_ok "connreqd.conf.5 explains $key, default $value" \
		    "$(sed 's/^/entry: /' "$tmp/entry")"
	fi
done <"$tmp/keys"
# Keys of the table in docs/configuration.md: "| `[server]` | `socket` |".
for key in $(grep -E '^\| [^|]* \| `[a-z_]+` \|' docs/configuration.md |
    sed -E 's/^\| [^|]* \| `([a-z_]+)` \|.*/\1/'); do
	if grep -qE "^       $key = " "$page"; then
		ok "connreqd.conf.5 has $key of docs/configuration.md"
	else
		not_ok "connreqd.conf.5 has $key of docs/configuration.md"
	fi
done

# ---- connreq-protocol.7 and docs/protocol.md ----
page=$tmp/connreq-protocol.7.txt
# The rows of the table right under the heading $1 of docs/protocol.md
# (before any subsection) whose first cell is one name in backquotes.
names() {
	awk -v s="$1" '/^#/ { on = index($0, s) == 1; next }
	    on && /^\| `[A-Za-z_.]+` \|/ { print }' docs/protocol.md |
	    sed -E 's/^\| `([A-Za-z_.]+)`.*/\1/' | sort -u
}
for what in "## 5. Methods:method:16" "## 6. Error codes:error code:16" \
    "### 8.2 Types:event type:9"; do
	section=${what%%:*}
	rest=${what#*:}
	kind=${rest%%:*}
	want=${rest#*:}
	list=$(names "$section")
	count=$(echo $list | wc -w)
	if [ "$count" -ge "$want" ]; then
		ok "docs/protocol.md has $count ${kind}s"
	else
		not_ok "docs/protocol.md has at least $want ${kind}s" \
		    "found: $(echo $list)"
	fi
	for name in $list; do
		# An entry: the name at the start of a line under the margin.
		if grep -qE "^       $(echo "$name" | sed 's/\./\\./g')( |$)" \
		    "$page"; then
			ok "connreq-protocol.7 has the $kind $name"
		else
			not_ok "connreq-protocol.7 has the $kind $name"
		fi
	done
done
if grep -q 'docs/protocol.md' "$page"; then
	ok "connreq-protocol.7 points to docs/protocol.md"
else
	not_ok "connreq-protocol.7 points to docs/protocol.md"
fi

echo "1..$n"
[ $failed -eq 0 ]
