#!/bin/sh
# tests/readme_tour_pg.sh: tests/readme_tour.sh, the README's tour, against connreqd
# --postgres on a cluster the test starts (tests/lib/shell.sh, CONNREQ_PG).
CONNREQ_PG=1 exec "$(dirname "$0")/readme_tour.sh" "$@"
