// The public check of a service's records asks only the servers it is given: here a tiny DNS server
// this test runs on loopback (UDP, a random port), answering MX, TXT and SRV for a few names, NXDOMAIN
// for the rest, and staying silent for one name (a timeout is an error, not "missing").
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { publicDnsLookup } from './public-lookup.ts';

const TYPES: Record<number, string> = { 15: 'MX', 16: 'TXT', 33: 'SRV' };

function encodeName(name: string): Buffer {
  return Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function readName(buf: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  while (buf[i]! !== 0) {
    labels.push(buf.subarray(i + 1, i + 1 + buf[i]!).toString());
    i += buf[i]! + 1;
  }
  return { name: labels.join('.'), end: i + 1 };
}

const ZONE: Record<string, Buffer[]> = {
  'example.org MX': [Buffer.concat([Buffer.from([0, 10]), encodeName('mail.example.org')])],
  'example.org TXT': [Buffer.from('\x0ev=spf1 mx -all', 'latin1')],
  // Two strings of one record: joined.
  '_dmarc.example.org TXT': [Buffer.from('\x08v=DMARC1\x0a; p=reject', 'latin1')],
  '_submission._tcp.example.org SRV': [
    Buffer.concat([Buffer.from([0, 0, 0, 1, 0x02, 0x4b]), encodeName('mail.example.org')]),
  ],
};

let server: Socket;
let port = 0;
const asked: string[] = [];

before(async () => {
  server = createSocket('udp4');
  server.on('message', (q, rinfo) => {
    const { name, end } = readName(q, 12);
    const type = TYPES[q.readUInt16BE(end)] ?? '?';
    asked.push(`${name} ${type}`);
    if (name === 'silent.example.org') return;
    const answers = ZONE[`${name} ${type}`];
    const header = Buffer.alloc(12);
    q.copy(header, 0, 0, 2);
    header.writeUInt16BE(answers ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers?.length ?? 0, 6);
    const question = q.subarray(12, end + 4);
    const rrs = (answers ?? []).map((rdata) => {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt16BE(q.readUInt16BE(end), 0);
      fixed.writeUInt16BE(1, 2);
      fixed.writeUInt32BE(60, 4);
      fixed.writeUInt16BE(rdata.length, 8);
      return Buffer.concat([Buffer.from([0xc0, 12]), fixed, rdata]);
    });
    server.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  port = server.address().port;
});

after(() => server.close());

test('answers as the zone writes them; no record is an empty answer; silence is an error', async () => {
  const dns = publicDnsLookup({ port, timeoutMs: 300 });
  assert.deepEqual(await dns.lookup(['127.0.0.1'], 'example.org', 'MX'), ['10 mail.example.org']);
  assert.deepEqual(await dns.lookup(['127.0.0.1'], 'example.org', 'TXT'), ['v=spf1 mx -all']);
  assert.deepEqual(await dns.lookup(['127.0.0.1'], '_dmarc.example.org', 'TXT'), ['v=DMARC1; p=reject']);
  assert.deepEqual(await dns.lookup(['127.0.0.1'], '_submission._tcp.example.org', 'SRV'), [
    '0 1 587 mail.example.org',
  ]);
  assert.deepEqual(await dns.lookup(['127.0.0.1'], 'nothing.example.org', 'TXT'), []);
  await assert.rejects(() => dns.lookup(['127.0.0.1'], 'silent.example.org', 'TXT'));
  assert.ok(asked.includes('example.org MX'), 'the loopback server was the one asked');
});
