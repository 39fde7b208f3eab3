#!/bin/sh
# tests/import_pg.sh: tests/import.sh against connreqd --postgres.
CONNREQ_PG=1 exec "$(dirname "$0")/import.sh"
