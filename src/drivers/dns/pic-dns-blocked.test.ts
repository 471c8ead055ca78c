// images/cell-dns/pic-dns-blocked (perl, as the image runs it) fed Unbound 1.17's own log lines: the
// blocklist's rpz-log lines become counts per client and name and never reach stderr (the container's
// log), every other line passes unchanged; a drain prints the counts and the tap forgets them; names
// that are not DNS names count as "-", and past its memory bound (20 000 pairs) a client's new names
// count as "-" too. Lines of another policy zone or action are not counted.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseBlockedDrain } from '../../schema/blocklists.ts';
import { localExec } from './unbound-control.ts';

const TAP = join(import.meta.dirname, '..', '..', '..', 'images', 'cell-dns', 'pic-dns-blocked');
const ts = 'Dec 03 21:38:01 unbound[12780:0]';
const rpz = (client: string, name: string, action = 'rpz-nxdomain', zone = 'blocklist') =>
  `${ts} info: rpz: applied [${zone}] ${name} ${action} ${client}@34387 ${name} A IN`;

let dir: string;
let sock: string;
let tap: ChildProcess;
let stderr = '';

/** Writes lines and a marker, and resolves once the marker passed through (all before it are read). */
async function feed(lines: string[]): Promise<void> {
  const marker = `${ts} notice: marker ${Math.random()}`;
  tap.stdin!.write(`${[...lines, marker].join('\n')}\n`);
  const deadline = Date.now() + 10_000;
  while (!stderr.includes(marker)) {
    if (Date.now() > deadline) throw new Error(`the tap did not pass the marker: ${stderr.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 10)); // polling a condition (the marker is out), not a sleep
  }
}

const drain = async () => {
  const r = await localExec([TAP, 'drain', sock]);
  assert.equal(r.exitCode, 0, r.stderr);
  return parseBlockedDrain(r.stdout)!;
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pic-dns-blocked-'));
  sock = join(dir, 'blocked.sock');
  tap = spawn(TAP, ['tap', sock], { stdio: ['pipe', 'ignore', 'pipe'] });
  tap.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  await feed([]);
});
after(() => {
  tap?.stdin?.end();
  rmSync(dir, { recursive: true, force: true });
});

test('blocked lines are counted and kept out of the log; other lines pass unchanged', async () => {
  const other = [
    `${ts} notice: init module 0: respip`,
    `${ts} info: start of service (unbound 1.17.1).`,
    rpz('127.0.0.2', 'ads.example.', 'rpz-passthru', 'exempt'),
    rpz('127.0.0.2', 'ads.example.', 'rpz-passthru'),
    `${ts} info: rpz: applied [blocklist] ads.example. rpz-nxdomain ::1@53 ads.example. A IN`,
  ];
  await feed([
    other[0]!,
    rpz('127.0.0.2', 'ads.example.'),
    other[1]!,
    rpz('127.0.0.2', 'ADS.Example.'),
    rpz('127.0.0.2', 'tracker.example.'),
    rpz('127.0.0.3', 'ads.example.'),
    ...other.slice(2),
    rpz('127.0.0.3', 'bad?name.example.'),
    rpz('127.0.0.3', '"quoted".example.'),
  ]);
  for (const l of other) assert.ok(stderr.includes(`${l}\n`), l);
  assert.ok(!/rpz-nxdomain 127\.0\.0\.[23]@/.test(stderr), 'no counted line in the log');
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  const d = await drain();
  assert.deepEqual(d.counts, [
    { client: '127.0.0.2', name: 'ads.example', count: 2 },
    { client: '127.0.0.2', name: 'tracker.example', count: 1 },
    { client: '127.0.0.3', name: '-', count: 2 },
    { client: '127.0.0.3', name: 'ads.example', count: 1 },
  ]);
  assert.equal(d.invalid, 0);
  assert.deepEqual((await drain()).counts, [], 'a drain forgets what it printed');
});

test('the memory bound: past 20 000 pairs a new name counts as "-" for its client', async () => {
  const lines = Array.from({ length: 20_003 }, (_, i) => rpz('127.0.0.4', `n${i}.example.`));
  await feed([...lines, rpz('127.0.0.4', 'n0.example.')]);
  const d = await drain();
  assert.equal(d.dropped, 3);
  assert.equal(d.counts.length, 20_000 + 1);
  assert.deepEqual(
    d.counts.find((c) => c.name === '-'),
    { client: '127.0.0.4', name: '-', count: 3 },
  );
  assert.equal(d.counts.find((c) => c.name === 'n0.example')?.count, 2);
  assert.equal(
    d.counts.reduce((s, c) => s + c.count, 0),
    20_004,
  );
});

test('a drain without a tap fails with a message', async () => {
  const r = await localExec([TAP, 'drain', join(dir, 'none.sock')]);
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /no tap/);
});
