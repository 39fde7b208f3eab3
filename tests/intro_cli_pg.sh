#!/bin/sh
# tests/intro_cli_pg.sh: tests/intro_cli.sh, every assertion of it, against
# connreqd --postgres on a cluster the test starts (tests/lib/shell.sh,
# CONNREQ_PG).
CONNREQ_PG=1 exec "$(dirname "$0")/intro_cli.sh"
