// client/node/test/events.test.js: the event iterator resumes from its last
// cursor across daemon restarts (kill -9 and a clean stop), each event once
// and none missed; CURSOR_EXPIRED ends it with a ConnreqError.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { connect, Subscription, ConnreqError } from '../index.js';
import { Daemon, DAY, until } from './daemon.js';

// take(it, n): the next n events of the iterator.
async function take(it, n) {
  const out = [];
  while (out.length < n) {
    const { value, done } = await it.next();
    if (done) break;
    out.push(value);
  }
  return out;
}

test('the iterator resumes from its cursor across restarts', { timeout: 120000 }, async () => {
  const d = await new Daemon().start();
  try {
    const c = await connect({ socket: d.socket });
    // It waits 1.5 s before connecting again: the sends after a restart
    // happen while it is away (asserted: connects did not move), so what
    // it gives then comes from resuming with after = its cursor.
    const sub = c.subscribe({ member: 'bob' }, { backoff: { initial: 1500, max: 1500 } });
    // Starts at the head: a send before its first event is not given.
    const first = await c.invite.send({ from: 'a0', to: 'bob' });
    const it = sub[Symbol.asyncIterator]();
    const pending = take(it, 2);
    await new Promise((r) => setImmediate(r));
    await until(() => sub.connects === 1, 'the subscription');
    await c.invite.send({ from: 'a1', to: 'bob' });
    await c.invite.send({ from: 'a2', to: 'bob' });
    const got1 = await pending;
    assert.deepEqual(got1.map((e) => e.invitation.from), ['a1', 'a2']);
    assert.ok(got1.every((e) => e.seq > first.invitation.id - 1));
    assert.equal(sub.cursor, got1[1].seq);

    // kill -9: events made while it is down come once it is back.
    await d.restart('SIGKILL');
    await c.invite.send({ from: 'a3', to: 'bob' }); // c reconnects by itself (a read-free write: new connection)
    await c.invite.send({ from: 'a4', to: 'bob' });
    assert.equal(sub.connects, 1, 'the sends came before it subscribed again');
    const got2 = await take(it, 2);
    assert.deepEqual(got2.map((e) => e.invitation.from), ['a3', 'a4']);
    assert.equal(sub.connects, 2);

    // A clean stop too; then compare with the feed as the daemon keeps it.
    await d.restart('SIGTERM');
    await c.invite.send({ from: 'a5', to: 'bob' });
    assert.equal(sub.connects, 2, 'the send came before it subscribed again');
    const got3 = await take(it, 1);
    assert.equal(got3[0].invitation.from, 'a5');
    const all = [...got1, ...got2, ...got3];
    const { events } = await c.events.read({ member: 'bob', after: got1[0].seq - 1 });
    assert.deepEqual(all.map((e) => e.seq), events.map((e) => e.seq));
    for (let i = 1; i < all.length; i++) assert.ok(all[i].seq > all[i - 1].seq);
    await sub.close();
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    await c.close();
  } finally {
    await d.cleanup();
  }
});

test('from after 0: every kept event; for await works; the all feed', { timeout: 120000 }, async () => {
  const d = await new Daemon().start();
  try {
    const c = await connect({ socket: d.socket });
    const { invitation } = await c.invite.send({ from: 'x', to: 'y' });
    await c.invite.accept({ actor: 'y', id: invitation.id });
    const types = [];
    for await (const ev of c.subscribe({ all: true, after: 0 })) {
      types.push(ev.type);
      if (types.length === 4) break; // break closes the subscription
    }
    assert.deepEqual(types, ['invitation.received', 'invitation.accepted', 'connection.created', 'connection.created']);
    // next() called again before the last one settled: each gets its own.
    const sub = c.subscribe({ all: true, after: 0 });
    const got = await Promise.all([sub.next(), sub.next(), sub.next()]);
    assert.deepEqual(got.map((r) => r.value.seq), [1, 2, 3]);
    await sub.close();
    await c.close();
  } finally {
    await d.cleanup();
  }
});

test('CURSOR_EXPIRED ends the iteration with a ConnreqError carrying oldest', { timeout: 120000 }, async () => {
  const d = await new Daemon().start();
  try {
    const c = await connect({ socket: d.socket });
    await c.invite.send({ from: 'p', to: 'q' });
    await c.invite.send({ from: 'p', to: 'r' });
    await c.invite.send({ from: 'p', to: 's' });
    await c.clock.advance({ seconds: 31 * DAY }); // past events_retention (30 d)
    await c.invite.send({ from: 'p', to: 't' }); // a batch: pruning runs
    const info = await c.server.info();
    assert.ok(info.events.oldest > 2, `events.oldest ${info.events.oldest}`);
    const sub = new Subscription({ socket: d.socket, all: true, after: 1 });
    await assert.rejects(sub.next(), (e) => {
      assert.ok(e instanceof ConnreqError);
      assert.equal(e.code, 'CURSOR_EXPIRED');
      assert.equal(e.oldest, info.events.oldest);
      return true;
    });
    assert.equal((await sub.next()).done, true);
    await c.close();
  } finally {
    await d.cleanup();
  }
});

test('the iterator waits out a daemon that is down, within maxAttempts', { timeout: 120000 }, async () => {
  const d = new Daemon();
  try {
    // Nothing listens yet: with maxAttempts 3 it gives up with the error.
    const sub = new Subscription({ socket: d.socket, member: 'm', backoff: { initial: 5, max: 10 }, maxAttempts: 3 });
    await assert.rejects(sub.next(), { name: 'ConnectionError' });
  } finally {
    await d.cleanup();
  }
});
