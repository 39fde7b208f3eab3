"""Fixtures: a real connreqd on a temporary socket and store, with a
virtual clock (CONNREQ_BIN: the directory holding connreqd, as make test
sets it; default ../../build/bin)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

T0 = 1767225600                 # 2026-01-01 00:00 UTC
DAY = 86400
HERE = os.path.dirname(os.path.abspath(__file__))


def bindir():
    return os.environ.get("CONNREQ_BIN") or os.path.normpath(
        os.path.join(HERE, "..", "..", "..", "build", "bin"))


class Daemon:
    def __init__(self, tmp):
        self.tmp = tmp
        self.path = os.path.join(tmp, "s.sock")
        self.store = os.path.join(tmp, "db")
        self.proc = None
        self.started = False
        self.log = os.path.join(tmp, "daemon.log")

    def start(self):
        exe = os.path.join(bindir(), "connreqd")
        assert os.access(exe, os.X_OK), "no connreqd in %s" % bindir()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [exe, "-s", self.path, "-d", self.store,
                 # a restart goes on from where the clock stood
                 "--virtual-clock" + ("" if self.started else "=%d" % T0)],
                stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, XDG_CONFIG_HOME=self.tmp))
        # ready once it accepts (the socket's file comes before listen)
        deadline = time.monotonic() + 30
        while not self._accepts():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("connreqd did not start: "
                                   + open(self.log).read())
            time.sleep(0.02)
        self.started = True

    def _accepts(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None
        # the socket file goes with the daemon; wait for it (bounded)
        deadline = time.monotonic() + 10
        while os.path.exists(self.path) and time.monotonic() < deadline:
            time.sleep(0.02)

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def tmpdir700():
    d = tempfile.mkdtemp(prefix="connreq-py.")
    os.chmod(d, 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def daemon(tmpdir700):
    d = Daemon(tmpdir700)
    d.start()
    yield d
    d.stop()
