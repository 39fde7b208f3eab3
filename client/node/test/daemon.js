// client/node/test/daemon.js: a connreqd of a test's own, on a socket and a
// store in a temporary directory, on a virtual clock (rules are timed with
// clock.advance, never with sleeps). CONNREQ_BIN names the directory of
// connreqd (make test sets it); default: the tree's build/bin.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const T0 = 1767225600; // 2026-01-01 00:00 UTC
export const DAY = 86400;
export const BIN = process.env.CONNREQ_BIN ||
  path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../build/bin');
export const WAIT_MS = 60000; // sanitized builds on a loaded machine are slow

export function tmpdir(prefix = 'connreq-node-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// until(fn): polls fn every 20 ms until it returns something truthy, for
// WAIT_MS at most; a bounded wait for the daemon, never for a rule.
export async function until(fn, what = 'condition') {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Whether something answers hello on sock (a raw probe: no client code).
function answers(sock) {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: sock });
    const done = (v) => { s.destroy(); resolve(v); };
    s.on('error', () => done(false));
    s.on('data', () => done(true));
    s.on('connect', () => s.write(Buffer.from([0x94, 0x00, 0x01, 0xa5, ...Buffer.from('hello'), 0x90])));
    setTimeout(() => done(false), 2000);
  });
}

// Daemons still running when the test process exits (a test that timed
// out) are killed with it, and their directories removed.
const running = new Map();
process.on('exit', () => {
  for (const [p, dir] of running) {
    p.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

export class Daemon {
  constructor({ dir = tmpdir(), clock = T0, args = [] } = {}) {
    this.dir = dir;
    this.socket = path.join(dir, 's.sock');
    this.store = path.join(dir, 'db');
    this.clock = clock;
    this.args = args;
    this.proc = null;
    this.log = path.join(dir, 'daemon.log');
  }

  async start() {
    const out = fs.openSync(this.log, 'a');
    const args = ['-s', this.socket, '-d', this.store, ...this.args];
    if (this.clock != null) args.push(`--virtual-clock=${this.clock}`);
    this.proc = spawn(path.join(BIN, 'connreqd'), args, {
      stdio: ['ignore', out, out],
      env: { ...process.env, XDG_CONFIG_HOME: this.dir },
    });
    fs.closeSync(out);
    const proc = this.proc;
    running.set(proc, this.dir);
    let exited = false;
    proc.once('exit', () => { exited = true; running.delete(proc); });
    await until(async () => {
      if (exited) throw new Error(`connreqd exited:\n${fs.readFileSync(this.log, 'utf8')}`);
      return answers(this.socket);
    }, 'connreqd to answer');
    return this;
  }

  // stop(signal): SIGTERM (a clean stop) or SIGKILL; waits for the exit.
  async stop(signal = 'SIGTERM') {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
    this.proc = null;
  }

  // The daemon again on the same store (its clock starts at `clock` again).
  async restart(signal = 'SIGKILL') {
    await this.stop(signal);
    return this.start();
  }

  // A clean stop (under the sanitizers, the leak check runs), then the
  // log must hold no sanitizer report.
  async cleanup() {
    await this.stop('SIGTERM');
    const log = this.logText();
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (/Sanitizer|runtime error:/.test(log)) throw new Error(`connreqd's log has a sanitizer report:\n${log}`);
  }

  logText() {
    return fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8') : '';
  }
}
