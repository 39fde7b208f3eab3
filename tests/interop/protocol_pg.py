#!/usr/bin/python3
"""tests/interop/protocol_pg.py: tests/interop/protocol.py, every assertion
of it, against connreqd --postgres on a cluster the test starts
(CONNREQ_PG)."""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
os.environ["CONNREQ_PG"] = "1"
os.execv(sys.executable, [sys.executable, os.path.join(here, "protocol.py")])
