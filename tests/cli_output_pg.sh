#!/bin/sh
# tests/cli_output_pg.sh: tests/cli_output.sh, every assertion of it, against
# connreqd --postgres on a cluster the test starts (tests/lib/shell.sh, CONNREQ_PG).
CONNREQ_PG=1 exec "$(dirname "$0")/cli_output.sh"
