// client/node/test/example.test.js: the web example of docs/node-client.md
// (examples/web.js, quoted whole in the document) sends an invitation and
// shows the received box, against a real connreqd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { makeServer } from '../examples/web.js';
import { Daemon } from './daemon.js';

let d;
let server;
let base;
before(async () => {
  d = await new Daemon().start();
  server = await makeServer({ socket: d.socket });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(async () => {
  server.closeAllConnections?.();
  await new Promise((r) => server.close(r));
  await d.cleanup();
});

const post = (me, form) => fetch(`${base}/?me=${me}`, {
  method: 'POST', body: new URLSearchParams(form),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
}).then((r) => r.text());

test('docs/node-client.md quotes examples/web.js whole', () => {
  const doc = fs.readFileSync(new URL('../../../docs/node-client.md', import.meta.url), 'utf8');
  const code = fs.readFileSync(new URL('../examples/web.js', import.meta.url), 'utf8');
  assert.ok(doc.includes('```js\n' + code + '```\n'), 'copy examples/web.js into docs/node-client.md');
});

test('the page sends an invitation and shows the received box', { timeout: 120000 }, async () => {
  let page = await post('alice', { to: 'bob', note: 'we met at <the> meetup' });
  assert.match(page, /Invitation 1 sent to bob\./);
  page = await (await fetch(`${base}/?me=bob`)).text();
  assert.match(page, /Received \(1\)/);
  assert.match(page, /#1 from alice: we met at &#60;the&#62; meetup/);
  // A refusal shows the daemon's message.
  page = await post('alice', { to: 'bob' });
  assert.match(page, /already/i);
  page = await post('carol', { to: 'carol' });
  assert.match(page, /you cannot invite yourself/);
});
