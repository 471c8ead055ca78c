import assert from 'node:assert/strict';
import { test } from 'node:test';
import { privateEndpointReason } from './private-endpoint.ts';

const CELL = ['172.20.0.0/24', '10.0.0.0/24'];

test('loopback, unspecified, link-local and the cell’s networks are refused, with the reason', () => {
  for (const [host, reason] of [
    ['127.0.0.1', /loopback/],
    ['127.45.1.2', /loopback/],
    ['localhost', /loopback/],
    ['s3.localhost', /loopback/],
    ['[::1]', /loopback/],
    ['::1', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['[::]', /unspecified/],
    ['169.254.169.254', /link-local \(169\.254/],
    ['[fe80::1]', /link-local \(fe80/],
    ['[febf::1]', /link-local/],
    ['[::ffff:127.0.0.1]', /loopback/],
    ['[::ffff:169.254.169.254]', /link-local/],
    ['172.20.0.5', /cell's own network 172\.20\.0\.0\/24/],
    ['10.0.0.1', /cell's own network 10\.0\.0\.0\/24/],
  ] as const)
    assert.match(privateEndpointReason(host, CELL) ?? 'allowed', reason, host);
});

test('other addresses and names pass (public, or private networks that are not the cell’s)', () => {
  for (const host of [
    's3.example.org',
    '203.0.113.7',
    '192.168.1.20',
    '10.0.1.1',
    '[2001:db8::1]',
    '[fec0::1]',
  ])
    assert.equal(privateEndpointReason(host, CELL), undefined, host);
});
