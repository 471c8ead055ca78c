// BlockedStatsService on an in-memory repository and an injected clock: a drain's client addresses
// become their peers (the view's VPN address and the peer's name), counts land in the hour they were
// drained, windows and the reset bound what is read, old buckets are pruned, the tick drains every
// DRAIN_MS only, and a failed drain still answers from what is stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlockedDrain } from '../../schema/blocklists.ts';
import type { BlockedHourRow, BlockedStatsRepository } from '../ports/blocked-stats-repository.ts';
import { BlockedStatsService, bucketDrain, clientsOf, DRAIN_MS, HOUR_MS } from './blocked-stats.ts';

function memoryRepo(): BlockedStatsRepository & { rows: BlockedHourRow[] } {
  let rows: BlockedHourRow[] = [];
  let resetAt = '1970-01-01T00:00:00.000Z';
  const sum = (list: BlockedHourRow[], key: (r: BlockedHourRow) => string) => {
    const m = new Map<string, { row: BlockedHourRow; count: number }>();
    for (const r of list) {
      const e = m.get(key(r)) ?? { row: r, count: 0 };
      e.count += r.count;
      if (r.hour >= e.row.hour) e.row = r;
      m.set(key(r), e);
    }
    return [...m.values()].sort((a, b) => b.count - a.count || a.row.name.localeCompare(b.row.name));
  };
  return {
    get rows() {
      return rows;
    },
    add: (add) => {
      for (const a of add) {
        const same = rows.find((r) => r.hour === a.hour && r.address === a.address && r.name === a.name);
        if (same) {
          same.count += a.count;
          same.peer = a.peer;
        } else rows.push({ ...a });
      }
    },
    prune: (before) => {
      rows = rows.filter((r) => r.hour >= before);
    },
    totals: (from) =>
      sum(
        rows.filter((r) => r.hour >= from),
        (r) => r.address,
      ).map((e) => ({ address: e.row.address, peer: e.row.peer, count: e.count })),
    top: (from, limit) =>
      sum(
        rows.filter((r) => r.hour >= from),
        (r) => r.name,
      )
        .slice(0, limit)
        .map((e) => ({ name: e.row.name, count: e.count })),
    topByAddress: (from, limit) => {
      const inWindow = rows.filter((r) => r.hour >= from);
      return [...new Set(inWindow.map((r) => r.address))].flatMap((address) =>
        sum(
          inWindow.filter((r) => r.address === address),
          (r) => r.name,
        )
          .slice(0, limit)
          .map((e) => ({ address, name: e.row.name, count: e.count })),
      );
    },
    resetAt: () => resetAt,
    reset: (at) => {
      rows = [];
      resetAt = at;
    },
  };
}

const drainOf = (lines: Array<[string, string, number]>): BlockedDrain => ({
  counts: lines.map(([client, name, count]) => ({ client, name, count })),
  dropped: 0,
  invalid: 0,
});

const PEERS = [
  { name: 'phone', address: '10.0.0.2', blocklists: true },
  { name: 'laptop', address: '10.0.0.3', blocklists: false },
];
// The views as the zone model makes them: mapped source → VPN address label (ADR 0015).
const VIEWS = [
  { address: '172.20.255.2', label: '10.0.0.2' },
  { address: '172.20.255.3', label: '10.0.0.3' },
  { address: '172.20.255.4', label: '10.0.0.4' },
];

function setup(start = Date.parse('2026-12-03T10:15:00Z')) {
  const repo = memoryRepo();
  const clock = { t: start };
  const queue: Array<BlockedDrain | undefined> = [];
  let drains = 0;
  const svc = new BlockedStatsService({
    repo,
    drain: async () => {
      drains++;
      return queue.length ? queue.shift() : drainOf([]);
    },
    clients: () => clientsOf(VIEWS, PEERS),
    peers: () => PEERS,
    clock: { now: () => clock.t },
  });
  return { svc, repo, clock, queue, drains: () => drains };
}

test('clientsOf maps a view address to its peer; addresses without a peer are left out', () => {
  assert.deepEqual(
    [...clientsOf(VIEWS, PEERS)],
    [
      ['172.20.255.2', { address: '10.0.0.2', peer: 'phone' }],
      ['172.20.255.3', { address: '10.0.0.3', peer: 'laptop' }],
    ],
  );
  assert.deepEqual(
    [...clientsOf([{ address: '10.0.0.2' }], PEERS)],
    [['10.0.0.2', { address: '10.0.0.2', peer: 'phone' }]],
  );
});

test('bucketDrain sums a client and name once, maps peers, keeps an unknown client as it is', () => {
  const rows = bucketDrain(
    drainOf([
      ['172.20.255.2', 'ads.example', 2],
      ['172.20.255.2', 'ads.example', 3],
      ['172.20.255.9', 'ads.example', 1],
    ]),
    7,
    clientsOf(VIEWS, PEERS),
  );
  assert.deepEqual(rows, [
    { hour: 7, address: '10.0.0.2', peer: 'phone', name: 'ads.example', count: 5 },
    { hour: 7, address: '172.20.255.9', peer: null, name: 'ads.example', count: 1 },
  ]);
});

test('per peer and in total, with the top names; every peer listed, the busiest first', async () => {
  const { svc, queue } = setup();
  queue.push(
    drainOf([
      ['172.20.255.2', 'ads.example', 5],
      ['172.20.255.2', 'tracker.example', 2],
      ['172.20.255.9', 'gone.example', 1],
    ]),
  );
  const s = await svc.stats('24h');
  assert.equal(s.total, 8);
  assert.equal(s.window, '24h');
  assert.deepEqual(s.top, [
    { name: 'ads.example', count: 5 },
    { name: 'tracker.example', count: 2 },
    { name: 'gone.example', count: 1 },
  ]);
  assert.deepEqual(s.peers, [
    {
      peer: 'phone',
      address: '10.0.0.2',
      blocking: true,
      blocked: 7,
      top: [
        { name: 'ads.example', count: 5 },
        { name: 'tracker.example', count: 2 },
      ],
    },
    {
      peer: null,
      address: '172.20.255.9',
      blocking: null,
      blocked: 1,
      top: [{ name: 'gone.example', count: 1 }],
    },
    { peer: 'laptop', address: '10.0.0.3', blocking: false, blocked: 0, top: [] },
  ]);
});

test('windows: a count leaves the 24 h window after a day and the 7 d one after a week; pruned after 30 d', async () => {
  const { svc, queue, clock, repo } = setup();
  queue.push(drainOf([['172.20.255.2', 'ads.example', 4]]));
  await svc.collect();
  clock.t += 23 * HOUR_MS;
  assert.equal((await svc.stats('24h')).total, 4);
  clock.t += HOUR_MS;
  const day = await svc.stats('24h');
  assert.equal(day.total, 0);
  assert.equal(day.since, new Date(Math.floor(clock.t / HOUR_MS) * HOUR_MS - 23 * HOUR_MS).toISOString());
  assert.equal((await svc.stats('7d')).total, 4);
  clock.t += 7 * 24 * HOUR_MS;
  assert.equal((await svc.stats('7d')).total, 0);
  assert.equal((await svc.stats('30d')).total, 4);
  assert.equal(repo.rows.length, 1);
  clock.t += 23 * 24 * HOUR_MS;
  await svc.collect();
  assert.equal(repo.rows.length, 0, 'pruned after 30 days');
});

test('a reset forgets the counts (those still in cell-dns too) and moves since', async () => {
  const { svc, queue, clock } = setup();
  queue.push(drainOf([['172.20.255.2', 'ads.example', 4]]), drainOf([['172.20.255.2', 'ads.example', 1]]));
  await svc.collect();
  clock.t += 60_000;
  await svc.reset();
  const s = await svc.stats('24h');
  assert.equal(s.total, 0, 'the count drained by the reset is forgotten too');
  assert.equal(s.since, new Date(clock.t).toISOString());
  queue.push(drainOf([['172.20.255.3', 'x.example', 2]]));
  assert.equal((await svc.stats('30d')).total, 2);
});

test('the tick drains every DRAIN_MS; a failed drain keeps what is stored', async () => {
  const { svc, clock, queue, drains } = setup();
  await svc.tick();
  await svc.tick();
  assert.equal(drains(), 1);
  clock.t += DRAIN_MS;
  await svc.tick();
  assert.equal(drains(), 2);
  queue.push(drainOf([['172.20.255.2', 'ads.example', 1]]));
  await svc.collect();
  queue.push(undefined);
  assert.equal(await svc.collect(), false);
  assert.equal((await svc.stats('24h')).total, 1);
});

test('concurrent reads share one drain', async () => {
  const { svc, drains } = setup();
  await Promise.all([svc.stats('24h'), svc.stats('7d'), svc.collect()]);
  assert.equal(drains(), 1);
});
