#!/bin/sh
# tests/crash.sh: the short form of `make crashtest` that `make check` runs
# (plain and under the sanitizers): 20 kill -9 cycles of connreqd under four
# writers, each checked as tests/crash/crashtest.py says (acknowledged
# operations present, no id twice, the all feed gap-free, --check clean).
# TAP; prove sets CONNREQ_BIN. CRASH_CYCLES overrides the count.
here=$(dirname "$0")
CONNREQ_BIN=${CONNREQ_BIN:-$(cd "$here/../build/bin" && pwd)}
export CONNREQ_BIN
exec /usr/bin/python3 "$here/crash/crashtest.py" \
    --cycles "${CRASH_CYCLES:-20}" --max-delay 0.3
