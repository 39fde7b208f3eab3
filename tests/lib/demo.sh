# tests/lib/demo.sh: the demo store that README.md's tour runs on (make
# demo; tests/readme_tour.sh). Sourced; demo_fill writes it through $CLI
# into a fresh connreqd started with --virtual-clock=$DEMO_T0 on
# $CONNREQ_SOCKET, moving the clock as it goes, so that every time in it is
# known: the clock ends at DEMO_END.

DEMO_T0=1748768400		# 2025-06-01 09:00 UTC
DEMO_END=1765443600		# 2025-12-11 09:00 UTC, where the tour starts

# demo_fill: a handful of members, an invitation in each state, a few
# connections, a held invitation and an introduction. Stops at the first
# command that fails, naming it on stderr.
demo_fill() {
	(
	set -e
	q() { "$CLI" "$@" >/dev/null || { echo "demo: connreq $* failed" >&2; exit 1; }; }
	# 2025-06-01: gina's invitation to dave, never answered, expires.
	q send gina dave --note "Fellow climber here"
	q clock advance 181d
	# 2025-11-29: alice's network.
	q send carol bob
	q accept bob 2
	q send alice bob --note "We met at the Rust meetup" --priority high
	q accept bob 3
	q send alice carol
	q send alice dave --priority low
	q send alice erin --priority low
	q send alice frank
	q send hank alice --note "Hiring for a Rust role in Lyon"
	q ignore alice 8
	q settings bob --hold-no-mutual yes
	q send ivan bob --note "Buy my course"
	q clock advance 10d
	# 2025-12-09: alice withdraws one, frank accepts; carol asks bob for
	# an introduction to alice.
	q withdraw alice 4
	q accept frank 7
	q intro-ask carol bob alice --note "Could you introduce me to Alice?"
	q send frank bob
	q clock advance 2d
	)
}
