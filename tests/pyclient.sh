#!/bin/sh
# tests/pyclient.sh: the Python package (client/python, issue 13), as a
# user gets it: pip-installed from the tree into a fresh venv (Debian's
# python3, --system-site-packages for python3-msgpack and python3-pytest;
# no package index), then its pytest suite (client/python/tests) run with
# that venv's python against connreqd from $CONNREQ_BIN. One TAP line per
# pytest test (from pytest's JUnit XML). PYTHON overrides /usr/bin/python3.

. "$(dirname "$0")/lib/shell.sh"
PY=${PYTHON:-/usr/bin/python3}
src=$(cd "$(dirname "$0")/.." && pwd)

for m in msgpack pytest venv pip; do
	"$PY" -c "import $m" 2>/dev/null ||
	    { echo "Bail out! $PY has no $m (make deps installs it)"; exit 1; }
done
# A copy: pip builds in the source directory (build/, *.egg-info).
cp -r "$src/client/python" "$tmp/src"
rm -rf "$tmp/src/tests"
if ! "$PY" -m venv --without-pip --system-site-packages "$tmp/venv" \
    >"$tmp/venv.log" 2>&1 ||
   ! "$PY" -m pip --python "$tmp/venv/bin/python" install -q --no-deps \
    --no-build-isolation --no-index "$tmp/src" >>"$tmp/venv.log" 2>&1; then
	echo "Bail out! pip install ./client/python failed:"
	sed 's/^/# /' "$tmp/venv.log"
	exit 1
fi

cd "$tmp" || exit 1
PYTHONDONTWRITEBYTECODE=1 CONNREQ_PY_INSTALLED=1 CONNREQ_BIN="$BIN" \
    "$tmp/venv/bin/python" -m pytest -p no:cacheprovider -q -rs \
    --junitxml="$tmp/junit.xml" "$src/client/python/tests" \
    >"$tmp/pytest.log" 2>&1
rc=$?
"$PY" - "$tmp/junit.xml" "$tmp/pytest.log" "$rc" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET

xml, log, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    cases = list(ET.parse(xml).getroot().iter("testcase"))
except (OSError, ET.ParseError):
    cases = []
if not cases:
    print("Bail out! pytest ran no test (exit %d)" % rc)
    for line in open(log).read().splitlines()[-40:]:
        print("# " + line)
    sys.exit(1)
print("1..%d" % len(cases))
for n, c in enumerate(cases, 1):
    name = "%s::%s" % (c.get("classname", "").rsplit(".", 1)[-1],
                       c.get("name"))
    bad = c.find("failure") if c.find("failure") is not None \
        else c.find("error")
    skip = c.find("skipped")
    if bad is not None:
        print("not ok %d - %s" % (n, name))
        for line in (bad.text or bad.get("message", "")).splitlines()[-30:]:
            print("#   " + line)
    elif skip is not None:
        print("ok %d - %s # SKIP %s" % (n, name, skip.get("message", "")))
    else:
        print("ok %d - %s" % (n, name))
if rc not in (0, 1):
    print("# pytest exited %d" % rc)
    sys.exit(1)
PYEOF
