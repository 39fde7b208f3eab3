#!/bin/sh
# tests/node_client.sh: the Node package's tests (client/node/test/, node's
# own test runner), as TAP for prove (make test, which sets CONNREQ_BIN to
# the directory holding connreqd and installs the package's dependencies
# first: make node-deps). Each test file starts connreqd on a socket and a
# store of its own, with --virtual-clock. docs/node-client.md.
dir=$(cd "$(dirname "$0")/../client/node" && pwd) || exit 1
if ! command -v node >/dev/null 2>&1; then
	echo "Bail out! node is not installed (make deps installs nodejs and npm)"
	exit 1
fi
if [ ! -d "$dir/node_modules/@msgpack/msgpack" ]; then
	echo "Bail out! client/node's dependencies are not installed (make node-deps)"
	exit 1
fi
CONNREQ_BIN=${CONNREQ_BIN:-$(cd "$(dirname "$0")/../build/bin" && pwd)}
export CONNREQ_BIN
cd "$dir" || exit 1
# One file at a time where node can say so (20.10 on; Debian 12's node 18
# runs a file per core): each starts its daemons, and the machine is shared.
conc=
node --help | grep -q -- --test-concurrency && conc=--test-concurrency=1
exec node --test --test-reporter=tap $conc test/*.test.js
