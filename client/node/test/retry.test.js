// client/node/test/retry.test.js: what a call does when its connection
// drops. A read is sent again on a new connection. A write is sent again
// only when the server advertises request_id (server.info): then every
// attempt carries the same generated request_id. Otherwise it rejects with
// outcomeUnknown. connreqd does not keep request_ids yet, so the
// advertising server here is a stand-in speaking the protocol; the real
// daemon shows that no request_id goes to a server that does not ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { encode, decodeMultiStream } from '@msgpack/msgpack';

import { connect, Client, ConnectionError, Subscription, advertisesRequestId } from '../index.js';
import { Daemon, tmpdir } from './daemon.js';

const T = { timeout: 120000 };

// A stand-in server on a socket of its own. features: server.info's;
// drop: method -> how many of its requests get no answer but a dropped
// connection. seen: every request, [method, args].
// script: method -> (args, socket) => [error, result], for other answers.
async function standIn({ features = [], drop = {}, script = {} } = {}) {
  const dir = tmpdir();
  const sock = path.join(dir, 's.sock');
  const seen = [];
  const conns = new Set();
  const server = net.createServer(async (s) => {
    conns.add(s);
    s.on('error', () => {});
    try {
      for await (const msg of decodeMultiStream(s)) {
        const [, msgid, method, [args]] = msg;
        seen.push([method, args]);
        if (drop[method] > 0) {
          drop[method]--;
          s.destroy();
          return;
        }
        let result = {};
        if (script[method]) {
          const [error, res] = script[method](args, s);
          s.write(encode([1, msgid, error, res]));
          continue;
        }
        if (method === 'server.info') result = { protocol: 1, features, policy: {} };
        else if (method === 'invite.send') result = { invitation: { id: 7, from: args.from, to: args.to } };
        else if (method === 'invite.get') result = { invitation: { id: args.id } };
        s.write(encode([1, msgid, null, result]));
      }
    } catch { /* the client went away */ }
  });
  await new Promise((r) => server.listen(sock, r));
  return {
    sock, seen,
    async close() {
      for (const s of conns) s.destroy();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('advertisesRequestId reads server.info', T, () => {
  assert.equal(advertisesRequestId({ policy: {} }), false);
  assert.equal(advertisesRequestId({ features: ['request_id'] }), true);
  assert.equal(advertisesRequestId({ features: [] }), false);
  assert.equal(advertisesRequestId({ features: 'request_id' }), false);
});

test('a write is retried with one request_id when the server advertises it', T, async () => {
  const s = await standIn({ features: ['request_id'], drop: { 'invite.send': 1 } });
  try {
    const c = new Client({ socket: s.sock, backoff: { initial: 5, max: 20 } });
    const r = await c.invite.send({ from: 'ann', to: 'ben' });
    assert.equal(r.invitation.to, 'ben');
    const sends = s.seen.filter(([m]) => m === 'invite.send').map(([, a]) => a);
    assert.equal(sends.length, 2);
    assert.match(sends[0].request_id, /^[0-9a-f]{32}$/);
    assert.equal(sends[1].request_id, sends[0].request_id);
    assert.deepEqual({ ...sends[1], request_id: 0 }, { from: 'ann', to: 'ben', request_id: 0 });
    // Each write has its own; one given by the caller is kept.
    await c.invite.send({ from: 'ann', to: 'cat' });
    await c.invite.send({ from: 'ann', to: 'dov', request_id: 'mine-1' });
    const ids = s.seen.filter(([m]) => m === 'invite.send').map(([, a]) => a.request_id);
    assert.equal(new Set(ids).size, 3);
    assert.equal(ids[3], 'mine-1');
    // Reads never carry one.
    await c.invite.get({ id: 7 });
    assert.equal(s.seen.at(-1)[1].request_id, undefined);
    await c.close();
  } finally {
    await s.close();
  }
});

test('without it, a dropped write rejects with outcomeUnknown and is not sent again', T, async () => {
  const s = await standIn({ drop: { 'invite.send': 1 } });
  try {
    const c = new Client({ socket: s.sock, backoff: { initial: 5, max: 20 } });
    await assert.rejects(c.invite.send({ from: 'ann', to: 'ben' }), (e) => {
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.outcomeUnknown, true);
      assert.equal(e.method, 'invite.send');
      assert.match(e.message, /outcome is unknown/);
      return true;
    });
    const sends = s.seen.filter(([m]) => m === 'invite.send');
    assert.equal(sends.length, 1);
    assert.equal(sends[0][1].request_id, undefined);
    await c.close();
  } finally {
    await s.close();
  }
});

test('requestIds: false: no request_id even where advertised', T, async () => {
  const s = await standIn({ features: ['request_id'] });
  try {
    const c = new Client({ socket: s.sock, requestIds: false });
    await c.invite.send({ from: 'ann', to: 'ben' });
    assert.equal(s.seen.find(([m]) => m === 'invite.send')[1].request_id, undefined);
    assert.equal(s.seen.some(([m]) => m === 'server.info'), false);
    await c.close();
  } finally {
    await s.close();
  }
});

test('a method missing from the table is taken as a write: never sent twice, no request_id', T, async () => {
  const s = await standIn({ features: ['request_id'], drop: { 'member.auto_accept.set': 1 } });
  try {
    const c = new Client({ socket: s.sock, backoff: { initial: 5, max: 20 } });
    await assert.rejects(c.call('member.auto_accept.set', { member: 'm' }),
      (e) => e instanceof ConnectionError && e.outcomeUnknown === true);
    const calls = s.seen.filter(([m]) => m === 'member.auto_accept.set');
    assert.deepEqual(calls, [['member.auto_accept.set', { member: 'm' }]]);
    await c.close();
  } finally {
    await s.close();
  }
});

test('a dropped read is sent again on a new connection, up to retries', T, async () => {
  const s = await standIn({ drop: { 'invite.get': 2 } });
  try {
    const c = new Client({ socket: s.sock, retries: 2, backoff: { initial: 5, max: 20 } });
    const r = await c.invite.get({ id: 3 });
    assert.equal(r.invitation.id, 3);
    assert.equal(s.seen.filter(([m]) => m === 'invite.get').length, 3);
    await c.close();
    // Past its retries it rejects: a read's outcome is never unknown.
    const s2 = await standIn({ drop: { 'invite.get': 5 } });
    const c2 = new Client({ socket: s2.sock, retries: 1, backoff: { initial: 5, max: 20 } });
    await assert.rejects(c2.invite.get({ id: 3 }), (e) => e instanceof ConnectionError && e.outcomeUnknown === false);
    assert.equal(s2.seen.filter(([m]) => m === 'invite.get').length, 2);
    await c2.close();
    await s2.close();
  } finally {
    await s.close();
  }
});

test('connreqd advertises request_id: a write repeated with its id acts once', T, async () => {
  const d = await new Daemon().start();
  try {
    const c = await connect({ socket: d.socket });
    assert.equal(await c.supportsRequestId(), true);
    const first = await c.invite.send({ from: 'u', to: 'v', request_id: 'node-1' });
    assert.equal(first.invitation.state, 'pending');
    // The same write and id: the first answer, and no second invitation.
    const again = await c.invite.send({ from: 'u', to: 'v', request_id: 'node-1' });
    assert.deepEqual(again, first);
    // The id with other arguments: CONFLICT.
    await assert.rejects(c.invite.send({ from: 'u', to: 'w', request_id: 'node-1' }), { code: 'CONFLICT' });
    // Writes without an id of the caller's get one of the client's.
    const r = await c.invite.send({ from: 'u', to: 'x' });
    assert.equal(r.invitation.state, 'pending');
    const sent = await c.invite.list({ member: 'u', box: 'sent' });
    assert.equal(sent.items.length, 2);
    await c.close();
  } finally {
    await d.cleanup();
  }
});

test('a subscription waits out UNAVAILABLE and resumes from its cursor', T, async () => {
  let n = 0;
  const s = await standIn({
    script: {
      'events.subscribe': (args, sock) => {
        n++;
        if (n === 2) return [{ code: 'UNAVAILABLE', message: 'the database cannot be reached', retry_at: 1 }, null];
        // the first time: seq 5; after that, what follows the cursor.
        const seq = n === 1 ? 5 : args.after + 1;
        setImmediate(() => {
          sock.write(encode([2, 'event', [{ seq, type: 'invitation.received', at: 0, member: 'm' }]]));
          if (n === 1) setImmediate(() => sock.destroy()); // then the daemon goes
        });
        return [null, { head: seq - 1 }];
      },
    },
  });
  try {
    const sub = new Subscription({ socket: s.sock, member: 'm', backoff: { initial: 5, max: 20 } });
    assert.equal((await sub.next()).value.seq, 5);
    assert.equal((await sub.next()).value.seq, 6);
    const subs = s.seen.filter(([m]) => m === 'events.subscribe').map(([, a]) => a);
    assert.deepEqual(subs, [{ member: 'm' }, { member: 'm', after: 5 }, { member: 'm', after: 5 }]);
    await sub.close();
  } finally {
    await s.close();
  }
});

test('bytes that are not msgpack from the server end the connection, not the process', T, async () => {
  const s = await standIn({
    script: { 'invite.get': (args, sock) => { sock.write(Buffer.from([0xc1])); return [null, {}]; } },
  });
  try {
    const c = new Client({ socket: s.sock, retries: 0 });
    await assert.rejects(c.invite.get({ id: 1 }), (e) => e instanceof ConnectionError && e.code === 'EPROTO' &&
      /bad message from the daemon/.test(e.message));
    assert.deepEqual(await c.hello(), {}); // answered, on a new connection
    await c.close();
  } finally {
    await s.close();
  }
});
