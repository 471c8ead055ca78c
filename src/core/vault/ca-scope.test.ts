// The CA's scope: names under .cell and private addresses in, anything else out (the edges of each
// range included), and the IP parsing the ranges rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CA_SCOPE_MESSAGE, inCaScope, ipBytes, ipv6Groups, outOfScope } from './ca-scope.ts';

test('in scope: names under .cell and private addresses, each range to its edges', () => {
  for (const n of [
    'home.cell',
    'printer.home.cell',
    '*.home.cell',
    'a.b.c.cell',
    '10.0.0.0',
    '10.255.255.255',
    '172.16.0.0',
    '172.31.255.255',
    '192.168.0.1',
    '192.168.255.255',
    '100.64.0.0',
    '100.127.255.255',
    '127.0.0.1',
    'fc00::',
    'fd00::5',
    'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    '::1',
    '0:0:0:0:0:0:0:1',
  ])
    assert.ok(inCaScope(n), n);
});

test('out of scope: public names and addresses, look-alikes, mapped and link-local addresses', () => {
  for (const n of [
    'bank.example.com',
    'cell.example.com',
    'home.cell.example.com',
    'cell',
    'xcell',
    'home.xcell',
    '203.0.113.8',
    '9.255.255.255',
    '11.0.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '128.0.0.1',
    '0.0.0.0',
    '169.254.1.1',
    '2001:db8::1',
    'fe00::1',
    'fe80::1',
    '::',
    '::2',
    // Devices compare byte strings: a 16-byte address never matches a 4-byte range.
    '::ffff:10.0.0.1',
  ])
    assert.equal(inCaScope(n), false, n);
});

test('ipBytes: IPv4, compressed IPv6 and IPv6 ending in a dotted quad', () => {
  assert.deepEqual(ipBytes('10.1.2.3'), [10, 1, 2, 3]);
  assert.deepEqual(ipBytes('::1'), [...Array(15).fill(0), 1]);
  assert.deepEqual(ipBytes('fd00::5'), [0xfd, 0, ...Array(13).fill(0), 5]);
  assert.deepEqual(ipBytes('::ffff:10.0.0.1'), [...Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1]);
  assert.deepEqual(ipBytes('1:2:3:4:5:6:7:8'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
});

test('outOfScope names each refused field with the one message', () => {
  assert.deepEqual(
    outOfScope([
      { field: 'common_name', name: 'nas.home.cell' },
      { field: 'sans.0', name: 'bank.example.com' },
      { field: 'sans.1', name: '10.0.0.5' },
      { field: 'sans.2', name: '198.51.100.1' },
    ]),
    [
      { field: 'sans.0', message: CA_SCOPE_MESSAGE },
      { field: 'sans.2', message: CA_SCOPE_MESSAGE },
    ],
  );
});

test('ipv6Groups: eight hex groups, a trailing dotted quad turned into two', () => {
  assert.equal(ipv6Groups('fd00::10.0.0.1'), 'fd00:0:0:0:0:0:a00:1');
  assert.equal(ipv6Groups('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(ipv6Groups('FD00:1::2'), 'fd00:1:0:0:0:0:0:2');
});
