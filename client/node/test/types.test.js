// client/node/test/types.test.js: the method table matches the protocol
// (docs/protocol.md §5: every method, and which ones write), and
// index.d.ts's generated part is what tools/gen-types.js makes from it
// (after a line added to methods.js: npm run types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { METHODS } from '../methods.js';
import { render } from '../tools/gen-types.js';

const read = (rel) => fs.readFileSync(new URL(rel, import.meta.url), 'utf8');

test('METHODS has every method of docs/protocol.md §5, writes marked', () => {
  const doc = read('../../../docs/protocol.md');
  const start = doc.indexOf('\n## 5. Methods');
  const table = doc.slice(start, doc.indexOf('\n### ', start));
  const rows = [...table.matchAll(/^\| `([a-z_.]+)` \| (yes|–) \|/gm)];
  assert.ok(rows.length >= 20, `rows found: ${rows.length}`);
  const documented = Object.fromEntries(rows.map((m) => [m[1], m[2] === 'yes']));
  const ours = Object.fromEntries(Object.entries(METHODS).map(([k, v]) => [k, v.write === true]));
  assert.deepEqual(ours, documented,
    'add the method to client/node/methods.js (one line) and run npm run types');
});

test('index.d.ts is generated from methods.js', () => {
  const dts = read('../index.d.ts');
  assert.equal(render(dts), dts, 'run `npm run types` in client/node');
});

// tsc --noEmit --strict on test/types/use.ts, which uses index.d.ts as an
// application would, and whose @ts-expect-error lines must be refused.
// Incremental: the second run of make check (the sanitizers') reuses the
// first's answer while nothing changed.
test('index.d.ts: tsc --strict accepts the uses and refuses the misuses', { timeout: 300000 }, () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const project = fileURLToPath(new URL('./types', import.meta.url));
  const r = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`);
});
