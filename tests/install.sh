#!/bin/sh
# tests/install.sh: `make install` into a staging DESTDIR, as a packager
# would: every file in its place and no other, the prefix (never DESTDIR)
# in the files, user units that systemd-analyze verify accepts, a
# pkg-config file that builds a program against the installed library
# (which then talks to a running connreqd), and `make uninstall` taking it
# all back. TAP; run by prove (make test) from the top of the checkout,
# which sets CONNREQ_BIN to the directory holding the built binaries.

BIN=${CONNREQ_BIN:-$(pwd)/build/bin}
BUILD=${BIN%/bin}
case $BUILD in "$(pwd)"/*) BUILD=${BUILD#"$(pwd)"/} ;; esac
PY=/usr/bin/python3
T0=1767225600			# 2026-01-01 00:00 UTC

echo "1..28"
tmp=$(mktemp -d) || { echo "Bail out! mktemp failed"; exit 1; }
dpid=
cleanup() {
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

DEST=$tmp/dest
# The prefix is a path of its own, outside DESTDIR; once installed, it is
# made a link to the staged tree, so that systemd-analyze finds the
# ExecStart= binary where the unit says it is.
PREFIX=$tmp/prefix
STAGED=$DEST$PREFIX

n=0
# t DESCRIPTION CONDITION [FILES TO SHOW ON FAILURE]
t() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   failed: $2"
		shift 2
		for f in "$@"; do
			[ -f "$f" ] && sed "s|^|#   $(basename "$f"): |" "$f"
		done
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
# -o all: installs what was built and is under test, never rebuilds it.
mk() { make --no-print-directory -o all BUILD="$BUILD" "$@" >"$tmp/make.log" 2>&1; }
# The files under a directory, relative to it, sorted.
tree() { (cd "$1" 2>/dev/null && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }

# ---- install ----
mk install DESTDIR="$DEST" PREFIX="$PREFIX"
rc=$?
t "make install DESTDIR=... PREFIX=... succeeds" '[ $rc -eq 0 ]' "$tmp/make.log"
t "nothing is written outside DESTDIR" '[ ! -e "$PREFIX" ] && [ -d "$STAGED" ]'

# What must be there: the fixed files, the man pages (make install builds
# them), the user docs, the bash, zsh and fish completions, and the record of the
# directories it made.
{
	printf '%s\n' bin/connreq bin/connreqd include/connreq.h lib/libconnreq.a \
	    lib/pkgconfig/connreq.pc lib/systemd/user/connreqd.service \
	    lib/systemd/user/connreqd.socket share/doc/connreq/connreqd.conf.example \
	    share/doc/connreq/protocol.md share/doc/connreq/configuration.md \
	    share/doc/connreq/python-client.md share/doc/connreq/node-client.md \
	    share/doc/connreq/scaling.md share/doc/connreq/reliability.md \
	    share/doc/connreq/README.md share/doc/connreq/installed-dirs \
	    share/man/man1/connreq.1 share/man/man5/connreqd.conf.5 \
	    share/man/man7/connreq-protocol.7 share/man/man8/connreqd.8 \
	    share/bash-completion/completions/connreq \
	    share/zsh/vendor-completions/_connreq \
	    share/fish/vendor_completions.d/connreq.fish
} | LC_ALL=C sort -u >"$tmp/want"
tree "$STAGED" >"$tmp/have"
t "the installed tree is exactly the expected files" \
  'cmp -s "$tmp/want" "$tmp/have"' "$tmp/want" "$tmp/have"
t "binaries are 755, everything else 644" \
  '[ -z "$(cd "$STAGED" && find . -type f \( -path "./bin/*" ! -perm 755 -o ! -path "./bin/*" ! -perm 644 \))" ]'
t "the installed binaries run" \
  '"$STAGED/bin/connreqd" --version | grep -q "^connreqd " && "$STAGED/bin/connreq" --version >/dev/null'
t "the installed header and library are the built ones" \
  'cmp -s client/connreq.h "$STAGED/include/connreq.h" && cmp -s "$BUILD/lib/libconnreq.a" "$STAGED/lib/libconnreq.a"'
# The library carries the common code it uses (logging, UTF-8, packing), with
# its names made local: only the cr_* API is global.
nm -g --defined-only "$STAGED/lib/libconnreq.a" >"$tmp/nm" 2>&1
awk 'NF == 3 { print $3 }' "$tmp/nm" >"$tmp/syms"
t "the library defines no global symbol but cr_* (cr_connect among them)" \
  'grep -qx cr_connect "$tmp/syms" && ! grep -v "^cr_" "$tmp/syms" >/dev/null' \
  "$tmp/nm"
svc=$STAGED/lib/systemd/user/connreqd.service
sock=$STAGED/lib/systemd/user/connreqd.socket
t "connreqd.service starts \$PREFIX/bin/connreqd" \
  '[ "$(grep "^ExecStart=" "$svc")" = "ExecStart=$PREFIX/bin/connreqd" ]' "$svc"
t "connreqd.socket listens on %t/connreq/connreqd.sock, the default socket" \
  'grep -qx "ListenStream=%t/connreq/connreqd.sock" "$sock"' "$sock"
t "no placeholder is left in any file" \
  '! grep -rlE "@(bindir|prefix|version)@" "$STAGED"'
t "no file holds the DESTDIR path" '! grep -rlF "$DEST" "$STAGED"'
t "connreq.pc names the prefix and the version" \
  'grep -qx "prefix=$PREFIX" "$STAGED/lib/pkgconfig/connreq.pc" &&
   grep -qx "Version: $(sed -n "s/.*CONNREQ_VERSION \"\(.*\)\"/\1/p" common/util.h)" "$STAGED/lib/pkgconfig/connreq.pc"' \
  "$STAGED/lib/pkgconfig/connreq.pc"

# ---- the units, as systemd reads them ----
if command -v systemd-analyze >/dev/null 2>&1; then
	ln -s "$STAGED" "$PREFIX"
	mkdir -m 700 "$tmp/run"
	# MANPATH: verify checks that the Documentation= pages are there.
	MANPATH=$PREFIX/share/man XDG_RUNTIME_DIR=$tmp/run \
	    systemd-analyze --user verify \
	    "$PREFIX/lib/systemd/user/connreqd.socket" \
	    "$PREFIX/lib/systemd/user/connreqd.service" >"$tmp/verify" 2>&1
	rc=$?
	# verify exits 0 on warnings (an unknown key, say): none is allowed.
	t "systemd-analyze --user verify accepts both units, without a warning" \
	  '[ $rc -eq 0 ] && [ ! -s "$tmp/verify" ]' "$tmp/verify"
	rm "$PREFIX"
else
	skip "systemd-analyze is not installed (make deps installs systemd)"
fi

# ---- a program built with pkg-config against the installed library ----
cat >"$tmp/hello.c" <<'EOF'
#include <stdio.h>

#include <connreq.h>

int
main(int argc, char **argv)
{
	struct cr_client *c;
	struct cr_reply r;
	const msgpack_object *server, *protocol;
	char err[256];
	int rc = 1;

	c = cr_connect(argc > 1 ? argv[1] : NULL, err, sizeof err);
	if (c == NULL) {
		fprintf(stderr, "hello: %s\n", err);
		return 1;
	}
	cr_request(c, "hello");
	if (cr_finish(c, &r) == -1) {
		fprintf(stderr, "hello: %s\n", cr_strerror(c));
		cr_close(c);
		return 1;
	}
	if (r.error != NULL)
		fprintf(stderr, "hello: %s: %s\n", r.code, r.message);
	else {
		server = cr_get(r.result, "server");
		protocol = cr_get(r.result, "protocol");
		if (server != NULL && server->type == MSGPACK_OBJECT_STR &&
		    protocol != NULL &&
		    protocol->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			printf("%.*s protocol %llu\n", (int)server->via.str.size,
			    server->via.str.ptr,
			    (unsigned long long)protocol->via.u64);
			rc = 0;
		}
	}
	cr_reply_free(&r);
	cr_close(c);
	return rc;
}
EOF
# The library of a sanitized build needs the sanitizers' runtimes, which
# pkg-config cannot know about.
san=
nm "$STAGED/lib/libconnreq.a" 2>/dev/null | grep -q __asan_ &&
    san="-fsanitize=address,undefined"
has_flags() {
	for f in "$@"; do
		case " $flags " in *" $f "*) ;; *) return 1 ;; esac
	done
}
flags=$(PKG_CONFIG_PATH=$STAGED/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST \
    pkg-config --cflags --libs connreq 2>"$tmp/pc.err")
rc=$?
t "pkg-config --cflags --libs connreq: the staged include and lib dirs, msgpack" \
  '[ $rc -eq 0 ] && has_flags "-I$STAGED/include" "-L$STAGED/lib" -lconnreq -lmsgpackc' \
  "$tmp/pc.err"
echo "# pkg-config: $flags"
${CC:-cc} -std=c11 -Wall -Wextra -Werror $san -o "$tmp/hello" "$tmp/hello.c" \
    $flags >"$tmp/cc.log" 2>&1
rc=$?
t "a program builds and links against the installed library alone" \
  '[ $rc -eq 0 ] && [ -x "$tmp/hello" ]' "$tmp/cc.log"

XDG_CONFIG_HOME=$tmp "$BIN/connreqd" -s "$tmp/s.sock" -d "$tmp/db" \
    --virtual-clock=$T0 >"$tmp/daemon.log" 2>&1 &
dpid=$!
i=0
while ! "$BIN/connreq" -s "$tmp/s.sock" info >/dev/null 2>&1; do
	if ! kill -0 "$dpid" 2>/dev/null || [ $i -ge 1200 ]; then
		break
	fi
	sleep 0.05
	i=$((i + 1))
done
"$tmp/hello" "$tmp/s.sock" >"$tmp/out" 2>&1
rc=$?
t "it says hello to a running connreqd" \
  '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "connreqd protocol 1" ]' \
  "$tmp/out" "$tmp/daemon.log"
CONNREQ_SOCKET=$tmp/s.sock "$tmp/hello" >"$tmp/out" 2>&1
rc=$?
t "and finds it through CONNREQ_SOCKET" \
  '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "connreqd protocol 1" ]' "$tmp/out"

# A program may use any name outside cr_*, even those the library uses
# inside: log_info() and fatal() are two.
cat >"$tmp/mine.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>

#include <connreq.h>

void log_info(const char *msg);
void fatal(const char *msg);

void
log_info(const char *msg)
{
	printf("mine: %s\n", msg);
}

void
fatal(const char *msg)
{
	fprintf(stderr, "mine: %s\n", msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	struct cr_client *c;
	char err[256];

	if ((c = cr_connect(argc > 1 ? argv[1] : NULL, err, sizeof err)) == NULL)
		fatal(err);
	log_info("connected");
	cr_close(c);
	return 0;
}
EOF
${CC:-cc} -std=c11 -Wall -Wextra -Werror $san -o "$tmp/mine" "$tmp/mine.c" \
    $flags >"$tmp/cc.log" 2>&1 &&
    "$tmp/mine" "$tmp/s.sock" >"$tmp/out" 2>&1
rc=$?
t "a program with its own log_info() and fatal() links against it and runs" \
  '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "mine: connected" ]' \
  "$tmp/cc.log" "$tmp/out"

kill "$dpid"
wait "$dpid"
rc=$?
dpid=
t "the daemon stops cleanly, with no sanitizer report" \
  '[ $rc -eq 0 ] && ! grep -qE "Sanitizer|runtime error:" "$tmp/daemon.log"' \
  "$tmp/daemon.log"

# ---- uninstall ----
mk uninstall DESTDIR="$DEST" PREFIX="$PREFIX"
rc=$?
t "make uninstall succeeds" '[ $rc -eq 0 ]' "$tmp/make.log"
t "and leaves none of our files" '[ -z "$(tree "$STAGED")" ]' "$tmp/make.log"
t "nor a directory it made (the prefix alone is left)" \
  '[ -d "$STAGED" ] && [ -z "$(find "$STAGED" -mindepth 1)" ]' "$tmp/make.log"
mk uninstall DESTDIR="$DEST" PREFIX="$PREFIX"
rc=$?
t "make uninstall again is harmless" '[ $rc -eq 0 ]' "$tmp/make.log"

# ---- PREFIX=$HOME/.local: the units where the user manager looks ----
DEST2=$tmp/dest2
# A directory that is there before the install (empty) stays after the
# uninstall: it was not ours.
mkdir -p "$DEST2$HOME/.local/share/man/man7"
mk install DESTDIR="$DEST2" PREFIX="$HOME/.local"
rc=$?
t "make install PREFIX=\$HOME/.local (staged) succeeds" '[ $rc -eq 0 ]' "$tmp/make.log"
t "its user units go to share/systemd/user, which systemd searches" \
  '[ -f "$DEST2$HOME/.local/share/systemd/user/connreqd.socket" ] &&
   [ "$(grep "^ExecStart=" "$DEST2$HOME/.local/share/systemd/user/connreqd.service")" = "ExecStart=$HOME/.local/bin/connreqd" ] &&
   [ ! -e "$DEST2$HOME/.local/lib/systemd" ]'
mk uninstall DESTDIR="$DEST2" PREFIX="$HOME/.local"
rc=$?
t "and make uninstall takes them back" \
  '[ $rc -eq 0 ] && [ -z "$(tree "$DEST2")" ]' "$tmp/make.log"
t "the directories it made go, the one that was there before stays" \
  '[ -d "$DEST2$HOME/.local/share/man/man7" ] &&
   [ -z "$(find "$DEST2$HOME/.local" -mindepth 1 -type d ! -path "$DEST2$HOME/.local/share" ! -path "$DEST2$HOME/.local/share/man" ! -path "$DEST2$HOME/.local/share/man/man7")" ]' "$tmp/make.log"
t "the default prefix is /usr/local" \
  'make --no-print-directory -n -o all BUILD="$BUILD" install DESTDIR="$tmp/dest3" 2>/dev/null | grep -q "install -m 755 .* \"$tmp/dest3/usr/local/bin\"" && [ ! -e "$tmp/dest3" ]'
