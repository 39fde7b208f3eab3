// client/node/index.js: a client for connreqd (docs/protocol.md), on a Unix
// socket, in msgpack-rpc. One promise per call; calls are pipelined on one
// connection and their answers matched by msgid; events come as an async
// iterator that resumes from its last cursor across daemon restarts.
// docs/node-client.md shows it in use.

import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { encode, decode } from '@msgpack/msgpack';

import { METHODS, parseArgs } from './methods.js';

export { METHODS };

const REQUEST = 0;
const RESPONSE = 1;
const NOTIFICATION = 2;
const MAX_MESSAGE = 16 << 20; // what we accept from the daemon, as libconnreq

/** An error answer of the daemon: code, message, retry_at (§6). */
export class ConnreqError extends Error {
  constructor(error, method) {
    const e = error && typeof error === 'object' ? error : { code: 'INTERNAL', message: String(error) };
    super(`${method}: ${e.code}: ${e.message}`);
    this.name = 'ConnreqError';
    this.code = String(e.code);
    this.detail = String(e.message);
    this.retryAt = e.retry_at ?? null;
    this.oldest = e.oldest ?? null;
    this.method = method;
    this.error = e;
  }
  /** retry_at as a Date, or null. */
  get retryDate() {
    return this.retryAt == null ? null : new Date(this.retryAt * 1000);
  }
}

/** The connection failed or dropped. For a write that was sent,
 * outcomeUnknown is true: it may or may not have been applied (§2.6);
 * find out with a read. */
export class ConnectionError extends Error {
  constructor(message, { code = 'ECONNRESET', method = null, outcomeUnknown = false } = {}) {
    super(message);
    this.name = 'ConnectionError';
    this.code = code;
    this.method = method;
    this.outcomeUnknown = outcomeUnknown;
  }
}

/** The socket is not the user's own (§1 "What the client trusts"):
 * nothing was sent. code is 'EPERM', as libconnreq's errno. */
export class TrustError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TrustError';
    this.code = 'EPERM';
  }
}

/** The socket path the way connreq finds it: CONNREQ_SOCKET, else
 * $XDG_RUNTIME_DIR/connreq/connreqd.sock when that is an absolute path,
 * else /tmp/connreq-UID/connreqd.sock. (connreq's -s is the `socket`
 * option.) */
export function defaultSocketPath(env = process.env) {
  if (env.CONNREQ_SOCKET) return env.CONNREQ_SOCKET;
  const rt = env.XDG_RUNTIME_DIR;
  if (rt && rt.startsWith('/')) return path.join(rt, 'connreq/connreqd.sock');
  return `/tmp/connreq-${process.getuid()}/connreqd.sock`;
}

function trusted(uid) {
  return uid === process.geteuid() || uid === 0;
}

/** libconnreq's checks, before anything is sent: the socket's directory
 * belongs to the user (effective uid) or root and is not writable by its
 * group or others, except a sticky directory of root's (like /tmp); and the
 * socket belongs to the user or root. Node has no SO_PEERCRED, so the
 * socket file's owner (the uid that bound it) stands for the peer's uid;
 * in a directory that passes the first check nobody else can put a socket
 * there or replace ours, and the file is looked at again once connected.
 * Returns the socket's fs.Stats; throws TrustError or ConnectionError. */
export function checkSocket(sockPath) {
  const slash = sockPath.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : sockPath.slice(0, slash);
  let st;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new ConnectionError(`cannot connect to ${sockPath}: ${e.message}`, { code: e.code });
  }
  if (!trusted(st.uid))
    throw new TrustError(`${dir} belongs to uid ${st.uid}, not you: refusing to use it`);
  if ((st.mode & 0o022) && !(st.uid === 0 && (st.mode & 0o1000)))
    throw new TrustError(`${dir} is writable by ${st.mode & 0o002 ? 'others' : 'its group'}: refusing to use it`);
  let sst;
  try {
    sst = fs.lstatSync(sockPath);
  } catch (e) {
    throw new ConnectionError(`cannot connect to ${sockPath}: ${e.message}`, { code: e.code });
  }
  if (!sst.isSocket())
    throw new ConnectionError(`cannot connect to ${sockPath}: not a socket`, { code: 'ENOTSOCK' });
  if (!trusted(sst.uid))
    throw new TrustError(`${sockPath}: the socket's peer is uid ${sst.uid}, not you: refusing to use it`);
  return sst;
}

// The end of the msgpack object that starts at pos in buf, or -1 when buf
// does not hold all of it yet. Framing only; @msgpack/msgpack decodes.
function objectEnd(buf, pos) {
  const n = buf.length;
  let need = 1;
  const len = (at, size) => {
    if (at + size > n) return -1;
    return size === 1 ? buf[at] : size === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
  };
  while (need > 0) {
    if (pos >= n) return -1;
    const b = buf[pos++];
    need--;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue;
    if ((b & 0xf0) === 0x80) { need += 2 * (b & 0x0f); continue; }
    if ((b & 0xf0) === 0x90) { need += b & 0x0f; continue; }
    if ((b & 0xe0) === 0xa0) { pos += b & 0x1f; continue; }
    let l;
    switch (b) {
      case 0xc4: case 0xd9: l = len(pos, 1); if (l < 0) return -1; pos += 1 + l; break;
      case 0xc5: case 0xda: l = len(pos, 2); if (l < 0) return -1; pos += 2 + l; break;
      case 0xc6: case 0xdb: l = len(pos, 4); if (l < 0) return -1; pos += 4 + l; break;
      case 0xc7: l = len(pos, 1); if (l < 0) return -1; pos += 2 + l; break;
      case 0xc8: l = len(pos, 2); if (l < 0) return -1; pos += 3 + l; break;
      case 0xc9: l = len(pos, 4); if (l < 0) return -1; pos += 5 + l; break;
      case 0xcc: case 0xd0: pos += 1; break;
      case 0xcd: case 0xd1: pos += 2; break;
      case 0xca: case 0xce: case 0xd2: pos += 4; break;
      case 0xcb: case 0xcf: case 0xd3: pos += 8; break;
      case 0xd4: pos += 2; break;
      case 0xd5: pos += 3; break;
      case 0xd6: pos += 5; break;
      case 0xd7: pos += 9; break;
      case 0xd8: pos += 17; break;
      case 0xdc: l = len(pos, 2); if (l < 0) return -1; pos += 2; need += l; break;
      case 0xdd: l = len(pos, 4); if (l < 0) return -1; pos += 4; need += l; break;
      case 0xde: l = len(pos, 2); if (l < 0) return -1; pos += 2; need += 2 * l; break;
      case 0xdf: l = len(pos, 4); if (l < 0) return -1; pos += 4; need += 2 * l; break;
      default: throw new Error(`invalid msgpack type byte 0x${b.toString(16)}`);
    }
  }
  return pos <= n ? pos : -1;
}

function dropUndefined(args) {
  const out = {};
  for (const [k, v] of Object.entries(args ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

/** One connection to connreqd: requests out, answers matched by msgid,
 * notifications to onEvent. Internal; Client and subscribe() use it. */
class Connection {
  constructor(sock, sockPath) {
    this.sock = sock;
    this.path = sockPath;
    this.msgid = 0;
    this.pending = new Map();
    this.maxPending = 0; // the most requests in flight at once
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.onEvent = null;
    this.onClose = null;
    sock.on('data', (chunk) => this._data(chunk));
    sock.on('error', (e) => this._close(e));
    sock.on('close', () => this._close(null));
  }

  static open(sockPath, { trust = true } = {}) {
    return new Promise((resolve, reject) => {
      let before = null;
      try {
        if (trust) before = checkSocket(sockPath);
      } catch (e) {
        reject(e);
        return;
      }
      const sock = net.createConnection({ path: sockPath });
      const fail = (e) => {
        sock.destroy();
        reject(new ConnectionError(`cannot connect to ${sockPath}: ${e.message}`, { code: e.code }));
      };
      sock.once('error', fail);
      sock.once('connect', () => {
        sock.removeListener('error', fail);
        if (trust) {
          // The name must still be the socket looked at before.
          let after = null;
          try { after = fs.lstatSync(sockPath); } catch { /* gone */ }
          if (!after || after.ino !== before.ino || after.dev !== before.dev || !trusted(after.uid)) {
            sock.destroy();
            reject(new TrustError(`${sockPath}: the socket changed while connecting: refusing to use it`));
            return;
          }
        }
        resolve(new Connection(sock, sockPath));
      });
    });
  }

  request(method, args, { write = false } = {}) {
    if (this.closed)
      return Promise.reject(new ConnectionError(`${method}: the connection to ${this.path} is closed`, { method, code: 'ENOTCONN' }));
    this.msgid = (this.msgid + 1) >>> 0;
    const id = this.msgid;
    const frame = encode([REQUEST, id, method, [dropUndefined(args)]]);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method, write });
      if (this.pending.size > this.maxPending) this.maxPending = this.pending.size;
      this.sock.write(frame);
    });
  }

  _data(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    try {
      for (;;) {
        const end = objectEnd(this.buf, off);
        if (end < 0) break;
        const msg = decode(this.buf.subarray(off, end));
        off = end;
        this._message(msg);
      }
    } catch (e) {
      this._close(new ConnectionError(`${this.path}: bad message from the daemon: ${e.message}`, { code: 'EPROTO' }));
      return;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    if (this.buf.length > MAX_MESSAGE)
      this._close(new ConnectionError(`${this.path}: a message from the daemon over ${MAX_MESSAGE} bytes`, { code: 'EPROTO' }));
  }

  _message(msg) {
    if (!Array.isArray(msg)) return;
    if (msg[0] === RESPONSE && msg.length === 4) {
      const p = this.pending.get(msg[1]);
      if (!p) return;
      this.pending.delete(msg[1]);
      if (msg[2] != null) p.reject(new ConnreqError(msg[2], p.method));
      else p.resolve(msg[3] ?? {});
    } else if (msg[0] === NOTIFICATION && msg[1] === 'event' && Array.isArray(msg[2])) {
      for (const ev of msg[2]) if (this.onEvent) this.onEvent(ev);
    }
    // Other types and keys are skipped (§2.5).
  }

  _close(err) {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
    for (const p of this.pending.values()) {
      const what = p.write ? 'the outcome is unknown: find out with a read' : 'no answer';
      p.reject(new ConnectionError(
        `${p.method}: the connection to ${this.path} dropped before the answer (${what})${err ? `: ${err.message}` : ''}`,
        { method: p.method, outcomeUnknown: p.write, code: err?.code ?? 'ECONNRESET' }));
    }
    this.pending.clear();
    if (this.onClose) this.onClose(err);
  }

  close() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sock.once('close', resolve);
      this._close(null);
    });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether the server keeps request_ids (issue 13 "Safe retries"), as
 * server.info tells: its `features` list holds "request_id" (as the Python
 * package reads it too). */
export function advertisesRequestId(info) {
  return Array.isArray(info?.features) && info.features.includes('request_id');
}

/** A client: one connection at a time, opened on the first call and again
 * after it drops. Each protocol method is a method of its own
 * (client.invite.send({from, to}), client.server.info(), ...) made from
 * METHODS; client.call(method, args) calls any. Events of a subscription
 * made with client.events.subscribe() are emitted as 'event'; for a feed
 * that resumes use client.subscribe(). */
export class Client extends EventEmitter {
  constructor({ socket, trust = true, retries = 2, requestIds = 'auto', backoff = { initial: 50, max: 2000 } } = {}) {
    super();
    this.path = socket ?? defaultSocketPath();
    this.trust = trust;
    this.retries = retries;
    this.requestIds = requestIds;
    this.backoff = backoff;
    this.conn = null;
    this.connecting = null;
    this.requestIdSupport = null; // per connection: null until asked
    this.closed = false;
    bindMethods(this, (name, args) => this.call(name, args));
  }

  async _connection() {
    if (this.closed) throw new ConnectionError('the client is closed', { code: 'ECLOSED' });
    if (this.conn && !this.conn.closed) return this.conn;
    if (!this.connecting) {
      this.connecting = Connection.open(this.path, { trust: this.trust }).then((c) => {
        this.conn = c;
        this.requestIdSupport = null;
        c.onEvent = (ev) => this.emit('event', ev);
        return c;
      }).finally(() => { this.connecting = null; });
    }
    return this.connecting;
  }

  /** Whether this connection's server keeps request_ids (server.info,
   * asked once per connection, before its first write). */
  async supportsRequestId() {
    const conn = await this._connection();
    if (this.requestIdSupport === null || this.requestIdSupport.conn !== conn) {
      const answer = conn.request('server.info', {}).then(advertisesRequestId);
      this.requestIdSupport = { conn, answer };
      answer.catch(() => { if (this.requestIdSupport?.answer === answer) this.requestIdSupport = null; });
    }
    return this.requestIdSupport.answer;
  }

  /** Calls METHOD with ARGS (a map of named arguments); resolves to the
   * result map, rejects with ConnreqError (an error answer), TrustError or
   * ConnectionError. A read is sent again on a new connection when the
   * connection drops (up to `retries` times). A write is sent again only
   * when the server keeps request_ids: it then carries a request_id made
   * here (the same on each attempt), so the daemon acts once; otherwise a
   * dropped write rejects with outcomeUnknown. */
  async call(method, args = {}) {
    // A method missing from METHODS may write: it is never sent twice, and
    // gets no request_id (a read would refuse it).
    const spec = METHODS[method];
    const write = spec ? spec.write === true : true;
    const withId = spec?.write === true;
    args = dropUndefined(args);
    let attempt = 0;
    let delay = this.backoff.initial;
    for (;;) {
      let sent = false;
      try {
        const conn = await this._connection();
        if (withId && this.requestIds !== false && (await this.supportsRequestId())) {
          if (args.request_id === undefined) args.request_id = randomBytes(16).toString('hex');
        }
        sent = true;
        return await conn.request(method, args, { write });
      } catch (e) {
        if (!(e instanceof ConnectionError) || e.code === 'ECLOSED') throw e;
        // ENOTCONN: the connection was found closed, nothing was sent.
        const writeUnsafe = write && sent && e.code !== 'ENOTCONN' && args.request_id === undefined;
        if (writeUnsafe || attempt >= this.retries) throw e;
        attempt++;
        await sleep(delay);
        delay = Math.min(delay * 2, this.backoff.max);
      }
    }
  }

  /** An async iterator over a feed's events ({member} or {all: true}),
   * from `after` (default: the head when it starts). On its own
   * connection; see Subscription. */
  subscribe(feed, options = {}) {
    return new Subscription({ socket: this.path, trust: this.trust, ...options, ...feed });
  }

  /** Closes the connection; calls in flight reject. */
  async close() {
    this.closed = true;
    if (this.conn) await this.conn.close();
  }
}

// Puts METHODS on obj as nested functions: 'member.settings.set' becomes
// obj.member.settings.set(args).
function bindMethods(obj, call) {
  for (const name of Object.keys(METHODS)) {
    const parts = name.split('.');
    let at = obj;
    for (const p of parts.slice(0, -1)) {
      if (!Object.prototype.hasOwnProperty.call(at, p)) at[p] = {};
      at = at[p];
    }
    at[parts[parts.length - 1]] = (args = {}) => call(name, args);
  }
}

/** An async iterator over one feed's events that resumes: it keeps the seq
 * of the last event it gave (`cursor`), and when the connection drops (a
 * daemon restart, kill -9 included) it connects again, with a backoff from
 * `backoff.initial` ms doubling to `backoff.max` ms, and subscribes with
 * after = cursor, so each event comes once (§8.4); UNAVAILABLE (connreqd
 * on PostgreSQL without its database) is waited out the same way. Other
 * error answers (CURSOR_EXPIRED among them: events after the cursor were
 * pruned) end the iteration with a ConnreqError; so does running out of
 * `maxAttempts` attempts in a row (default: no limit). */
export class Subscription {
  constructor({ socket, trust = true, member, all, after, backoff = { initial: 50, max: 2000 }, maxAttempts = Infinity, highWater = 1024 } = {}) {
    this.path = socket ?? defaultSocketPath();
    this.trust = trust;
    this.feed = all ? { all: true } : { member };
    this.cursor = after ?? null;
    this.backoff = backoff;
    this.maxAttempts = maxAttempts;
    this.highWater = highWater;
    this.queue = [];
    this.waiters = [];
    this.conn = null;
    this.done = false;
    this.connects = 0; // connections made, for the curious (and the tests)
    this.failure = null;
    this.runner = null;
  }

  _notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  async _run() {
    let failures = 0;
    let delay = this.backoff.initial;
    while (!this.done) {
      let conn;
      try {
        conn = await Connection.open(this.path, { trust: this.trust });
      } catch (e) {
        if (!(e instanceof ConnectionError)) throw e;
        if (++failures >= this.maxAttempts) throw e;
        await sleep(delay);
        delay = Math.min(delay * 2, this.backoff.max);
        continue;
      }
      if (this.done) { await conn.close(); break; }
      this.conn = conn;
      const closed = new Promise((r) => { conn.onClose = r; });
      conn.onEvent = (ev) => {
        if (typeof ev?.seq !== 'number' || (this.cursor !== null && ev.seq <= this.cursor)) return;
        this.queue.push(ev);
        this.cursor = ev.seq; // given to the consumer in order; resume after it
        if (this.queue.length >= this.highWater) conn.sock.pause();
        this._notify();
      };
      try {
        const args = { ...this.feed };
        if (this.cursor !== null) args.after = this.cursor;
        const res = await conn.request('events.subscribe', args);
        if (this.cursor === null) this.cursor = res.head;
        this.connects++;
        failures = 0;
        delay = this.backoff.initial;
      } catch (e) {
        // UNAVAILABLE (connreqd on PostgreSQL without its database) passes
        // like a dropped connection; other error answers end the iteration.
        const transient = e instanceof ConnectionError || (e instanceof ConnreqError && e.code === 'UNAVAILABLE');
        if (!transient) { await conn.close(); throw e; }
        await conn.close();
        if (++failures >= this.maxAttempts) throw e;
        await sleep(delay);
        delay = Math.min(delay * 2, this.backoff.max);
        continue;
      }
      await closed;
      this.conn = null;
      if (!this.done) await sleep(delay);
    }
  }

  // The cursor counts events queued, not yet taken: on a drop the queue is
  // kept and the new subscription starts after its last event.
  async next() {
    if (!this.runner) {
      this.runner = this._run().catch((e) => { this.failure = e; }).finally(() => { this.done = true; this._notify(); });
    }
    for (;;) {
      if (this.queue.length) {
        const ev = this.queue.shift();
        if (this.conn && this.queue.length < this.highWater / 2) this.conn.sock.resume();
        return { value: ev, done: false };
      }
      if (this.failure) {
        const f = this.failure;
        this.failure = null;
        throw f;
      }
      if (this.done) return { value: undefined, done: true };
      await new Promise((r) => { this.waiters.push(r); });
    }
  }

  /** Ends the iteration; the connection is closed. */
  async return() {
    this.done = true;
    if (this.conn) await this.conn.close();
    this._notify();
    return { value: undefined, done: true };
  }

  close() {
    return this.return();
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** Connects (checking the socket as libconnreq does) and returns a Client.
 * options: socket (the path, as connreq's -s; default
 * defaultSocketPath()), retries, requestIds ('auto' or false), backoff. */
export async function connect(options = {}) {
  const c = new Client(options);
  await c._connection();
  return c;
}
