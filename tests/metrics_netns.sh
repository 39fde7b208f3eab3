#!/bin/sh
# tests/metrics_netns.sh: connreqd warns when its metrics listener is in a
# network namespace with nothing but loopback, as connreqd.service's
# PrivateNetwork=yes leaves it (nothing outside could scrape it), and only
# then. The namespace is unshare(1)'s (a user namespace too, so no
# privilege is needed): in a new one every port is free. TAP; run by prove
# (make test), which sets CONNREQ_BIN.

BIN=${CONNREQ_BIN:-$(cd "$(dirname "$0")/../build/bin" && pwd)}
PY=/usr/bin/python3
WARN="has no network but loopback"

echo "1..4"
tmp=$(mktemp -d) || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
n=0
t() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/#   /' "$tmp/log"
	fi
}

# Runs connreqd with [metrics] listen = $2 (under unshare -rn when $1 is
# ns) until it has logged its start, then stops it; its log in $tmp/log.
run() {
	rm -rf "$tmp/db" "$tmp/s.sock"
	printf '[metrics]\nlisten = %s\n' "$2" >"$tmp/c.conf"
	if [ "$1" = ns ]; then
		unshare -rn "$BIN/connreqd" -c "$tmp/c.conf" -d "$tmp/db" \
		    -s "$tmp/s.sock" >"$tmp/log" 2>&1 &
	else
		"$BIN/connreqd" -c "$tmp/c.conf" -d "$tmp/db" \
		    -s "$tmp/s.sock" >"$tmp/log" 2>&1 &
	fi
	pid=$!
	i=0
	while ! grep -q "version .*store" "$tmp/log" && [ $i -lt 200 ] &&
	    kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
}

# In a namespace of its own: only loopback, which is down, so the
# listener takes the any-address (binding 127.0.0.1 needs lo up).
run ns 0.0.0.0:9464
t "in a network namespace with only loopback, it serves" \
  'grep -q "metrics: http://0.0.0.0:9464/metrics" "$tmp/log"'
t "... and warns that nothing outside can reach the metrics" \
  'grep -q "warning: metrics: this process $WARN" "$tmp/log" &&
   grep -q "PrivateNetwork=no" "$tmp/log"'

# Outside it: a warning exactly when this machine has nothing but
# loopback either.
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run host "127.0.0.1:$port"
t "on this machine's network it serves" \
  'grep -q "metrics: http://127.0.0.1:$port/metrics" "$tmp/log"'
if ls /sys/class/net | grep -qvx lo; then
	t "... and does not warn (this machine has an interface but lo)" \
	  '! grep -q "$WARN" "$tmp/log"'
else
	t "... and warns (this machine has no interface but lo)" \
	  'grep -q "$WARN" "$tmp/log"'
fi
