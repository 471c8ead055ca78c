// The chronyc CSV parser on what chrony 4.3 prints (captured from a real chronyd), and on the shapes
// it must not guess at.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChronycCsv, parseSourceLine } from './chronyc-csv.ts';

const SYNCED = [
  '7F000001,127.0.0.1,9,1796299500.230982902,-0.000001782,-0.000000017,0.000000379,0.033,-0.001,0.095,0.000006821,0.000001014,0.3,Normal',
  '^,*,127.0.0.1,8,-1,377,0,0.000000497,0.000000480,0.000003993',
  '^,?,192.0.2.7,0,6,0,4294967295,0.000000000,0.000000000,0.000000000',
  '#,x,203.0.113.9,1,4,17,35,-0.012000000,-0.012000000,0.001000000',
].join('\n');

test('tracking and sources of a synchronised chronyd', () => {
  const s = parseChronycCsv(`${SYNCED}\n`);
  assert.equal(s.running, true);
  assert.equal(s.synchronised, true);
  assert.equal(s.stratum, 9);
  assert.equal(s.reference, '127.0.0.1');
  // chronyc's correction is negative when the clock is fast ("seconds fast of NTP time"): ahead = +.
  assert.equal(s.offset_seconds, 0.000001782);
  assert.deepEqual(s.sources, [
    {
      address: '127.0.0.1',
      mode: 'server',
      state: 'selected',
      stratum: 8,
      poll: 0.5,
      reach: 255,
      last_rx_seconds: 0,
      offset_seconds: 0.000000497,
    },
    {
      address: '192.0.2.7',
      mode: 'server',
      state: 'unreachable',
      stratum: 0,
      poll: 64,
      reach: 0,
      last_rx_seconds: null,
      offset_seconds: 0,
    },
    {
      address: '203.0.113.9',
      mode: 'refclock',
      state: 'falseticker',
      stratum: 1,
      poll: 16,
      reach: 15,
      last_rx_seconds: 35,
      offset_seconds: -0.012,
    },
  ]);
});

test('a chronyd that has not selected a source yet is running, not synchronised', () => {
  const s = parseChronycCsv(
    '00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n',
  );
  assert.equal(s.running, true);
  assert.equal(s.synchronised, false);
  assert.equal(s.stratum, 0);
  assert.equal(s.offset_seconds, 0);
  assert.deepEqual(s.sources, []);
});

test('the local clock as reference (no upstream) counts as synchronised', () => {
  const s = parseChronycCsv(
    '7F7F0101,,10,1796299494.698429545,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,0.000000000,0.000000000,0.0,Normal\n',
  );
  assert.equal(s.synchronised, true);
  assert.equal(s.stratum, 10);
  assert.equal(s.reference, '');
});

test('no tracking line (chronyc could not reach chronyd): not running', () => {
  for (const out of ['', 'Could not open connection to daemon\n', '506 Cannot talk to daemon\n'])
    assert.deepEqual(parseChronycCsv(out), {
      running: false,
      synchronised: false,
      offset_seconds: null,
      stratum: null,
      reference: null,
      sources: [],
    });
});

test('source lines of another shape are skipped, never guessed at', () => {
  for (const bad of [
    '^,*,127.0.0.1,8,-1,377,0,0.1,0.1', // 9 fields
    '^,*,,8,-1,377,0,0.1,0.1,0.1', // no address
    '^,*,127.0.0.1,x,-1,377,0,0.1,0.1,0.1', // stratum not a number
    '^,*,127.0.0.1,8,-1,389,0,0.1,0.1,0.1', // reach not octal
    'MS Name/IP address Stratum Poll Reach LastRx Last sample',
  ])
    assert.equal(parseSourceLine(bad), undefined, bad);
  assert.equal(parseSourceLine('?,?,10.0.0.1,2,6,1,5,1e-3,0,0')?.mode, 'unknown');
});
