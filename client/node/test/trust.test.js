// client/node/test/trust.test.js: the socket path as connreq finds it, and
// libconnreq's checks before anything is sent (docs/protocol.md §1 "What
// the client trusts"): a socket in a directory another user owns or may
// write to, or a socket another user made, is refused with a TrustError
// and the listener hears nothing; connreq (the C client) refuses the same
// ones. The cases with another uid need root (the test runs its impostor
// as nobody); make check runs as root.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { connect, defaultSocketPath, TrustError } from '../index.js';
import { BIN, tmpdir, until } from './daemon.js';

const T = { timeout: 120000 };
const ROOT = process.geteuid() === 0;
const NOBODY = 65534;
const base = tmpdir();
fs.chmodSync(base, 0o755); // nobody's way in to the impostor's directory
after(() => fs.rmSync(base, { recursive: true, force: true }));

test('defaultSocketPath: CONNREQ_SOCKET, then XDG_RUNTIME_DIR, then /tmp/connreq-UID', T, () => {
  const uid = process.getuid();
  assert.equal(defaultSocketPath({ CONNREQ_SOCKET: '/x/s.sock', XDG_RUNTIME_DIR: '/run/user/1' }), '/x/s.sock');
  assert.equal(defaultSocketPath({ CONNREQ_SOCKET: '', XDG_RUNTIME_DIR: '/run/user/1' }), '/run/user/1/connreq/connreqd.sock');
  assert.equal(defaultSocketPath({ XDG_RUNTIME_DIR: 'relative' }), `/tmp/connreq-${uid}/connreqd.sock`);
  assert.equal(defaultSocketPath({}), `/tmp/connreq-${uid}/connreqd.sock`);
});

// A listener of the test's own in DIR (made with MODE), counting what it
// hears; and connreq's exit status against it.
async function listener(name, mode) {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  const sock = path.join(dir, 's.sock');
  const heard = { conns: 0, bytes: 0 };
  const server = net.createServer((s) => {
    heard.conns++;
    s.on('data', (b) => { heard.bytes += b.length; });
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(sock, r));
  fs.chmodSync(dir, mode);
  return { dir, sock, heard, close: () => new Promise((r) => server.close(r)) };
}

function cliStatus(sock) {
  const r = spawnSync(path.join(BIN, 'connreq'), ['-s', sock, 'info'], { encoding: 'utf8' });
  return { status: r.status, err: r.stderr };
}

// Lets anything in flight arrive before `heard` is looked at.
const settle = () => new Promise((r) => setTimeout(r, 200));

test('a directory others may write to is refused', T, async () => {
  const l = await listener('ww', 0o777);
  try {
    await assert.rejects(connect({ socket: l.sock }), (e) => {
      assert.ok(e instanceof TrustError);
      assert.equal(e.code, 'EPERM');
      assert.equal(e.message, `${l.dir} is writable by others: refusing to use it`);
      return true;
    });
    assert.equal(cliStatus(l.sock).status, 3);
    await settle();
    assert.deepEqual(l.heard, { conns: 0, bytes: 0 });
  } finally {
    await l.close();
  }
});

test('a directory its group may write to is refused', T, async () => {
  const l = await listener('gw', 0o770);
  try {
    await assert.rejects(connect({ socket: l.sock }),
      { name: 'TrustError', message: `${l.dir} is writable by its group: refusing to use it` });
    await settle();
    assert.deepEqual(l.heard, { conns: 0, bytes: 0 });
  } finally {
    await l.close();
  }
});

test('a directory of its own, 0700 or 0755, is used', T, async () => {
  for (const mode of [0o700, 0o755]) {
    const l = await listener(`own${mode.toString(8)}`, mode);
    try {
      const c = await connect({ socket: l.sock, retries: 0 });
      c.call('hello').catch(() => {});
      await until(() => l.heard.bytes > 0, 'the listener to hear the client');
      await c.close();
    } finally {
      await l.close();
    }
  }
});

test('a directory another user owns is refused', { ...T, skip: !ROOT && 'needs root (chown)' }, async () => {
  const l = await listener('other', 0o755);
  fs.chownSync(l.dir, NOBODY, NOBODY);
  try {
    await assert.rejects(connect({ socket: l.sock }),
      { name: 'TrustError', message: `${l.dir} belongs to uid ${NOBODY}, not you: refusing to use it` });
    assert.equal(cliStatus(l.sock).status, 3);
    await settle();
    assert.deepEqual(l.heard, { conns: 0, bytes: 0 });
  } finally {
    await l.close();
  }
});

// The squatter's case: a sticky directory of root's (like /tmp), where
// anyone may make a name; an impostor running as nobody made the socket.
test('a socket another user made, in a sticky directory, is refused', { ...T, skip: !ROOT && 'needs root (runs the impostor as nobody)' }, async () => {
  const dir = path.join(base, 'sticky');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o1777);
  const sock = path.join(dir, 'connreqd.sock');
  const log = path.join(dir, 'heard');
  fs.writeFileSync(log, '');
  fs.chownSync(log, NOBODY, NOBODY);
  const code = `
    const fs = require('fs'), net = require('net');
    const [sock, log] = process.argv.slice(1);
    process.umask(0);
    net.createServer((s) => {
      fs.appendFileSync(log, 'conn\\n');
      s.on('data', (b) => fs.appendFileSync(log, 'bytes ' + b.length + '\\n'));
      s.on('error', () => {});
    }).listen(sock);`;
  const imp = spawn(process.execPath, ['-e', code, sock, log], { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'ignore', 'pipe'] });
  let impErr = '';
  imp.stderr.on('data', (b) => { impErr += b; });
  try {
    await until(() => {
      if (imp.exitCode !== null) throw new Error(`the impostor exited: ${impErr}`);
      return fs.existsSync(sock);
    }, 'the impostor');
    assert.equal(fs.statSync(sock).uid, NOBODY);
    await assert.rejects(connect({ socket: sock }), {
      name: 'TrustError',
      message: `${sock}: the socket's peer is uid ${NOBODY}, not you: refusing to use it`,
    });
    const cli = cliStatus(sock);
    assert.equal(cli.status, 3, cli.err);
    await settle();
    // connreq connects before it checks the peer; the package checks first.
    assert.equal(fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('bytes')).length, 0);
  } finally {
    imp.kill('SIGKILL');
  }
});

test('a socket of root\'s in a sticky directory of root\'s is used', { ...T, skip: !ROOT && 'needs root' }, async () => {
  const l = await listener('sticky-own', 0o1777);
  try {
    const c = await connect({ socket: l.sock, retries: 0 });
    await c.close();
    assert.equal(l.heard.conns, 1);
  } finally {
    await l.close();
  }
});
