#!/bin/sh
# tests/lib/mkdemo.sh BIN DIR: make demo. Builds the demo store
# (tests/lib/demo.sh) afresh in DIR/db, then runs connreqd on it in the
# foreground on DIR/connreqd.sock, its virtual clock where the demo left it.
BIN=$1
DIR=$2
CLI=$BIN/connreq
CONNREQ_SOCKET=$DIR/connreqd.sock
export CONNREQ_SOCKET
. "$(dirname "$0")/demo.sh"

rm -rf "$DIR" && mkdir -p "$DIR" || exit 1
# The policy's defaults, whatever the user's connreqd.conf says: the tour
# shows them.
: >"$DIR/connreqd.conf"
"$BIN/connreqd" -c "$DIR/connreqd.conf" --virtual-clock=$DEMO_T0 -d "$DIR/db" \
    -s "$CONNREQ_SOCKET" \
    2>"$DIR/build.log" &
pid=$!
i=0
while ! "$CLI" info >/dev/null 2>&1; do
	if ! kill -0 $pid 2>/dev/null || [ $i -ge 600 ]; then
		echo "demo: connreqd did not start:" >&2
		cat "$DIR/build.log" >&2
		exit 1
	fi
	sleep 0.05
	i=$((i + 1))
done
demo_fill
rc=$?
kill $pid
wait $pid
[ $rc -eq 0 ] || exit 1
echo "demo: the store of README.md's tour is in $DIR/db; connreqd runs on it"
echo "      in the foreground (Ctrl-C stops it). In another terminal:"
echo "        export CONNREQ_SOCKET=$CONNREQ_SOCKET"
echo "        alias connreq=$CLI"
echo "        connreq received bob"
exec "$BIN/connreqd" -c "$DIR/connreqd.conf" --virtual-clock -d "$DIR/db" \
    -s "$CONNREQ_SOCKET"
