"""Finding connreqd's socket and deciding whether to trust it, the way the
CLI and libconnreq do (client/libconnreq.c: cr_default_socket,
cr_trust_dir, cr_trust_peer; docs/protocol.md §1)."""

import os
import socket
import stat
import struct

from .errors import UntrustedSocket


def default_socket():
    """$CONNREQ_SOCKET when set and not empty; else
    $XDG_RUNTIME_DIR/connreq/connreqd.sock when XDG_RUNTIME_DIR is an
    absolute path; else /tmp/connreq-UID/connreqd.sock."""
    env = os.environ.get("CONNREQ_SOCKET")
    if env:
        return env
    rt = os.environ.get("XDG_RUNTIME_DIR")
    if rt and rt.startswith("/"):
        return os.path.join(rt, "connreq/connreqd.sock")
    return "/tmp/connreq-%d/connreqd.sock" % os.getuid()


def check_dir(path):
    """The socket's directory must belong to the user (effective uid) or
    root and not be writable by its group or others, unless it is a sticky
    directory of root's (like /tmp). Raises UntrustedSocket; FileNotFound
    when the directory is missing."""
    d = os.path.dirname(path) or "."
    st = os.stat(d)
    if st.st_uid != os.geteuid() and st.st_uid != 0:
        raise UntrustedSocket("%s belongs to uid %d, not you: refusing to "
                              "use it" % (d, st.st_uid))
    if (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)) and not (
            st.st_uid == 0 and st.st_mode & stat.S_ISVTX):
        raise UntrustedSocket("%s is writable by %s: refusing to use it" % (
            d, "others" if st.st_mode & stat.S_IWOTH else "its group"))


def check_peer(sock, path):
    """The peer (SO_PEERCRED: who made the listening socket) must be the
    user (effective uid) or root."""
    try:
        cred = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                               struct.calcsize("3i"))
    except OSError as e:
        raise UntrustedSocket("%s: cannot tell the socket's peer: %s"
                              % (path, e))
    _pid, uid, _gid = struct.unpack("3i", cred)
    if uid != os.geteuid() and uid != 0:
        raise UntrustedSocket("%s: the socket's peer is uid %d, not you: "
                              "refusing to use it" % (path, uid))


def connect(path, timeout=None):
    """A connected, checked socket to path (nothing sent yet)."""
    check_dir(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
        check_peer(s, path)
    except BaseException:
        s.close()
        raise
    return s
