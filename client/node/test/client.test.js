// client/node/test/client.test.js: the package against a real connreqd on a
// virtual clock: methods with keyword arguments, typed results, errors as
// ConnreqError with code/message/retry_at, pipelining, notifications.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { connect, Client, ConnreqError, ConnectionError, METHODS } from '../index.js';
import { Daemon, T0, DAY } from './daemon.js';

let d;
let c;
before(async () => {
  d = await new Daemon().start();
  c = await connect({ socket: d.socket });
});
after(async () => {
  await c?.close();
  await d?.cleanup();
});

test('hello and server.info: typed results', { timeout: 120000 }, async () => {
  const h = await c.hello();
  assert.equal(h.protocol, 1);
  assert.equal(h.server, 'connreqd');
  const info = await c.server.info();
  assert.equal(info.virtual_clock, true);
  assert.equal(info.now, T0);
  assert.equal(info.store.backend, 'lmdb');
  assert.equal(typeof info.policy.max_message_bytes, 'number');
});

test('a method per protocol method, with keyword arguments', { timeout: 120000 }, async () => {
  for (const name of Object.keys(METHODS)) {
    let f = c;
    for (const p of name.split('.')) f = f[p];
    assert.equal(typeof f, 'function', name);
  }
  const sent = await c.invite.send({ from: 'alice', to: 'bob', note: 'hi', priority: 'high' });
  const inv = sent.invitation;
  assert.equal(inv.from, 'alice');
  assert.equal(inv.to, 'bob');
  assert.equal(inv.state, 'pending');
  assert.equal(inv.priority, 'high');
  assert.equal(inv.created_at, T0);
  assert.equal(inv.expires_at, T0 + 180 * DAY);
  assert.deepEqual(Object.keys(inv).sort(), ['attempt', 'automatic', 'created_at', 'expires_at', 'from', 'id',
    'introduced_by', 'note', 'priority', 'reminded_at', 'resend_of', 'state', 'to', 'updated_at']);
  const box = await c.invite.list({ member: 'bob', box: 'received' });
  assert.deepEqual(box.items.map((i) => i.id), [inv.id]);
  assert.equal(box.items[0].priority, null); // the recipient's view (§3.1)
  assert.equal(box.next, null);
  const acc = await c.invite.accept({ actor: 'bob', id: inv.id });
  assert.equal(acc.invitation.state, 'accepted');
  assert.deepEqual(acc.connection, { a: 'alice', b: 'bob', since: T0 });
  const conns = await c.connection.list({ member: 'bob' });
  assert.deepEqual(conns.items.map((x) => x.b), ['alice']);
  // Arguments left undefined are not sent (nil is "left out" anyway).
  const s = await c.member.settings.get({ member: 'carol', email: undefined });
  assert.equal(s.member, 'carol');
});

test('errors: ConnreqError with code, message and retry_at', { timeout: 120000 }, async () => {
  await assert.rejects(c.invite.send({ from: 'dan', to: 'dan' }), (e) => {
    assert.ok(e instanceof ConnreqError);
    assert.equal(e.code, 'SELF_INVITE');
    assert.equal(e.detail, 'you cannot invite yourself');
    assert.equal(e.retryAt, null);
    assert.equal(e.method, 'invite.send');
    return true;
  });
  const { invitation } = await c.invite.send({ from: 'dan', to: 'erin' });
  const w = await c.invite.withdraw({ actor: 'dan', id: invitation.id });
  assert.equal(w.cooldown_until, T0 + 21 * DAY);
  await assert.rejects(c.invite.send({ from: 'dan', to: 'erin' }), (e) => {
    assert.equal(e.code, 'COOLDOWN');
    assert.equal(e.retryAt, w.cooldown_until);
    assert.equal(e.retryDate.getTime(), w.cooldown_until * 1000);
    assert.match(e.message, /^invite\.send: COOLDOWN: /);
    return true;
  });
  await assert.rejects(c.invite.get({ id: 999999 }), { code: 'NOT_FOUND' });
  await assert.rejects(c.call('no.such', {}), { code: 'UNKNOWN_METHOD' });
  await assert.rejects(c.call('invite.get', { id: 1, bogus: 1 }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(c.invite.get({}), (e) => e.code === 'INVALID_ARGUMENT' && /missing argument 'id'/.test(e.detail));
  // The connection stays usable after error answers.
  assert.equal((await c.hello()).protocol, 1);
});

test('pipelining: 300 calls in flight on one connection, answers matched by msgid', { timeout: 120000 }, async () => {
  const p = new Client({ socket: d.socket });
  await p.hello(); // connected; later calls go out without waiting
  const calls = [];
  for (let i = 0; i < 300; i++) {
    if (i % 3 === 0) calls.push(p.invite.send({ from: `p${i}`, to: `p${i}` }).catch((e) => e));
    else if (i % 3 === 1) calls.push(p.invite.send({ from: `p${i}`, to: `q${i}` }));
    else calls.push(p.member.settings.get({ member: `m${i}` }));
  }
  const res = await Promise.all(calls);
  for (let i = 0; i < 300; i++) {
    if (i % 3 === 0) assert.equal(res[i].code, 'SELF_INVITE', `call ${i}`);
    else if (i % 3 === 1) assert.equal(res[i].invitation.to, `q${i}`, `call ${i}`);
    else assert.equal(res[i].member, `m${i}`, `call ${i}`);
  }
  assert.ok(p.conn.maxPending >= 100, `in flight at once: ${p.conn.maxPending}`);
  await p.close();
});

test('notifications come between answers; the client emits them', { timeout: 120000 }, async () => {
  const sub = await connect({ socket: d.socket });
  const seen = [];
  sub.on('event', (ev) => seen.push(ev));
  const { head } = await sub.events.subscribe({ member: 'zoe' });
  const other = await connect({ socket: d.socket });
  const { invitation } = await other.invite.send({ from: 'yan', to: 'zoe' });
  await other.invite.accept({ actor: 'zoe', id: invitation.id });
  // Answers on the subscribed connection still resolve in between.
  for (let i = 0; i < 50 && seen.length < 2; i++) await sub.hello();
  const { events } = await other.events.read({ member: 'zoe', after: head });
  const deadline = Date.now() + 60000;
  while (seen.length < events.length && Date.now() < deadline) await sub.hello();
  assert.deepEqual(seen.map((e) => [e.seq, e.type]), events.map((e) => [e.seq, e.type]));
  assert.deepEqual(seen.map((e) => e.type), ['invitation.received', 'connection.created']);
  await sub.events.unsubscribe();
  await sub.close();
  await other.close();
});

test('the virtual clock times the rules: stale after 14 days', { timeout: 120000 }, async () => {
  const { invitation } = await c.invite.send({ from: 'sam', to: 'tia' });
  assert.equal(invitation.reminded_at, null);
  const { now } = await c.clock.advance({ seconds: 15 * DAY });
  assert.equal(now, T0 + 15 * DAY);
  const g = await c.invite.get({ id: invitation.id });
  assert.equal(g.invitation.reminded_at, T0 + 14 * DAY);
});

test('a call on a closed client rejects; a dead socket is a ConnectionError', { timeout: 120000 }, async () => {
  const x = await connect({ socket: d.socket });
  await x.close();
  await assert.rejects(x.hello(), ConnectionError);
  await assert.rejects(connect({ socket: `${d.dir}/nothing.sock`, retries: 0 }),
    (e) => e instanceof ConnectionError && e.code === 'ENOENT');
});
