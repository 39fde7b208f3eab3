"""The socket path and trust checks of libconnreq's cr_connect
(docs/protocol.md §1): refused sockets get nothing sent."""

import os
import subprocess
import sys
import time

import pytest

from connreq import Client, UntrustedSocket, default_socket
from connreq.transport import check_dir

NOBODY = 65534


def test_default_socket(monkeypatch):
    monkeypatch.setenv("CONNREQ_SOCKET", "/x/y.sock")
    assert default_socket() == "/x/y.sock"
    monkeypatch.setenv("CONNREQ_SOCKET", "")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    assert default_socket() == "/run/user/7/connreq/connreqd.sock"
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative")
    assert default_socket() == "/tmp/connreq-%d/connreqd.sock" % os.getuid()
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.delenv("CONNREQ_SOCKET")
    assert default_socket() == "/tmp/connreq-%d/connreqd.sock" % os.getuid()
    assert Client().path == default_socket()


def test_the_daemons_socket_is_trusted(daemon):
    # the positive case, so that the refusals below are not the only answer
    assert Client(daemon.path).hello().protocol == 1


@pytest.mark.parametrize("mode,who", [(0o777, "others"), (0o770, "its group")])
def test_writable_dir_is_refused(daemon, mode, who):
    os.chmod(daemon.tmp, mode)
    try:
        with pytest.raises(UntrustedSocket) as e:
            Client(daemon.path).hello()
        assert "is writable by %s: refusing to use it" % who in str(e.value)
        assert isinstance(e.value, PermissionError)
    finally:
        os.chmod(daemon.tmp, 0o700)


def test_sticky_dir_of_roots_is_allowed(tmp_path):
    # /tmp's case: root's, sticky, world-writable: allowed (the peer check
    # guards it)
    st = os.stat("/tmp")
    if st.st_uid != 0 or not st.st_mode & 0o1000:
        pytest.skip("/tmp is not a sticky directory of root's here")
    check_dir("/tmp/whatever.sock")


def test_dir_of_another_uid_is_refused(daemon):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the directory to another uid")
    os.chown(daemon.tmp, NOBODY, -1)
    try:
        with pytest.raises(UntrustedSocket) as e:
            Client(daemon.path).hello()
        assert ("%s belongs to uid %d, not you" % (daemon.tmp, NOBODY)
                in str(e.value))
    finally:
        os.chown(daemon.tmp, 0, -1)


IMPOSTOR = r"""
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(1.0)
    got = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += len(b)
    except OSError:
        pass
    c.close()
    with open(log, "a") as f:
        f.write("conn %d\n" % got)
"""


def test_peer_of_another_uid_is_refused(tmpdir700):
    if os.geteuid() != 0:
        pytest.skip("needs root to run the impostor as another uid")
    # the impostor's socket, made as nobody in a directory of nobody's,
    # then moved into ours: the directory passes, the peer must not
    theirs = os.path.join(tmpdir700, "theirs")
    os.mkdir(theirs, 0o700)
    os.chown(theirs, NOBODY, NOBODY)
    os.chmod(tmpdir700, 0o711)
    log = os.path.join(theirs, "log")
    # the interpreter itself, not a venv's (in a directory nobody may not
    # enter)
    py = getattr(sys, "_base_executable", sys.executable)
    p = subprocess.Popen([py, "-c", IMPOSTOR,
                          os.path.join(theirs, "s.sock"), log],
                         stdout=subprocess.PIPE, user=NOBODY, group=NOBODY,
                         extra_groups=[], cwd="/")
    try:
        assert p.stdout.readline().strip() == b"ready"
        mine = os.path.join(tmpdir700, "s.sock")
        os.rename(os.path.join(theirs, "s.sock"), mine)
        with pytest.raises(UntrustedSocket) as e:
            Client(mine, retries=0).hello()
        assert ("the socket's peer is uid %d, not you" % NOBODY
                in str(e.value))
        # it was connected to, and heard nothing
        # (it writes its record once the client has closed: a bounded
        # poll for the whole line)
        deadline = time.monotonic() + 30
        got = ""
        while not got.endswith("\n") and time.monotonic() < deadline:
            time.sleep(0.02)
            if os.path.exists(log):
                got = open(log).read()
        assert got == "conn 0\n"
    finally:
        p.kill()
        p.wait()
