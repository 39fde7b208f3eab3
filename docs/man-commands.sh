#!/bin/sh
# docs/man-commands.sh CONNREQ TEMPLATE: prints TEMPLATE (docs/connreq.1.scd)
# with its line "; @COMMANDS@" replaced by one scdoc entry per command of
# CONNREQ (the built connreq): its usage line and its help paragraph, as
# `connreq help COMMAND` prints them. So connreq(1) and `connreq help` have
# one source, the command entries in client/cmd-*.c (listed, in order, by
# the table in client/cli.c). `make man` runs this.
set -eu

cli=$1
tmpl=$2
marker='; @COMMANDS@'
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp" "$tmp.entries"' EXIT

if ! grep -qx -- "$marker" "$tmpl"; then
	echo "$0: $tmpl has no line '$marker'" >&2
	exit 1
fi
"$cli" help >"$tmp"
# The names: the lines of "Commands:" that are not wrapped continuations.
cmds=$(awk '/^Commands:$/ { on = 1; next }
	on && /^$/ { exit }
	on && /^  [a-z]/ { print $1 }' "$tmp")
if [ -z "$cmds" ]; then
	echo "$0: \`$cli help\` lists no commands" >&2
	exit 1
fi

entries() {
	for c in $cmds; do
		"$cli" help "$c" >"$tmp"
		# "usage: connreq USAGE", wrapped; a blank line; the paragraph,
		# wrapped. Both are joined again (cli-out.c wraps at single
		# spaces).
		awk -v prog="$0" -v cmd="$c" '
		function esc(s) {
			gsub(/\\/, "\\\\", s)
			gsub(/\*/, "\\*", s)
			gsub(/_/, "\\_", s)
			return s
		}
		# Options bold, placeholders (MEMBER, ID) underlined.
		function mark(w) {
			if (w ~ /^-/)
				return "*" w "*"
			if (w ~ /^[A-Z]+$/)
				return "_" w "_"
			return w
		}
		function usage_scd(s,   out, w, i, ch) {
			out = ""
			w = ""
			for (i = 1; i <= length(s); i++) {
				ch = substr(s, i, 1)
				if (ch ~ /[A-Za-z-]/) {
					w = w ch
				} else {
					out = out mark(w) ch
					w = ""
				}
			}
			return out mark(w)
		}
		NR == 1 {
			if (sub(/^usage: connreq /, "") == 0) {
				print prog ": " cmd ": no usage line" >"/dev/stderr"
				exit 1
			}
			usage = $0
			next
		}
		!para && /^$/ { para = 1; next }
		!para { sub(/^ +/, ""); usage = usage " " $0; next }
		{ sub(/^ +/, ""); text = text (text == "" ? "" : " ") $0 }
		END {
			if (usage == "" || text == "") {
				print prog ": " cmd ": no help paragraph" >"/dev/stderr"
				exit 1
			}
			if (text ~ /^[-.#[|:]/) {
				print prog ": " cmd ": the paragraph starts with " \
				    "what scdoc takes for markup" >"/dev/stderr"
				exit 1
			}
			name = usage
			sub(/ .*/, "", name)
			rest = substr(usage, length(name) + 1)
			print "*" name "*" usage_scd(esc(rest))
			print "\t" esc(text)
			print ""
		}' "$tmp"
	done
}

entries >"$tmp.entries"
while IFS= read -r line; do
	if [ "$line" = "$marker" ]; then
		cat "$tmp.entries"
	else
		printf '%s\n' "$line"
	fi
done <"$tmpl"
