import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalUrl } from './canonical-url.ts';

describe('canonicalUrl', () => {
  const accepted: Array<[string, string]> = [
    ['/api/peers', '/api/peers'],
    ['/', '/'],
    ['//api/peers', '/api/peers'],
    ['///api//config', '/api/config'],
    ['/api/./peers', '/api/peers'],
    ['/api/setup/../config', '/api/config'],
    ['/../../api/config', '/api/config'],
    ['/x/../api/config', '/api/config'],
    ['/API/Config', '/API/Config'],
    ['/%61pi/config', '/%61pi/config'],
    ['/api/peers/', '/api/peers/'],
    ['/api/logs?path=/../x;y', '/api/logs?path=/../x;y'],
    ['/assets/index-AbC.js', '/assets/index-AbC.js'],
    ['/api/peers/caf%C3%A9', '/api/peers/caf%C3%A9'],
  ];
  for (const [raw, want] of accepted) {
    test(`${raw} → ${want}`, () => assert.deepEqual(canonicalUrl(raw), { ok: true, url: want }));
  }

  const refused = [
    'http://evil.example/api/openapi.json',
    'HTTP://evil.example/api/config',
    'https://127.0.0.1/api/config',
    'evil.example:443',
    '*',
    '',
    '/api\\peers',
    '\\api\\peers',
    '/api/%2fpeers',
    '/api/setup/..%2Fconfig',
    '/api/%5cpeers',
    '/api/%5Cpeers',
    '/api/%2e%2e/config',
    '/api/%2E/config',
    '/api/.%2e/config',
    '/api/%252e%252e/config',
    '/api;x/peers',
    '/api/peers;jsessionid=1',
    '/api/%3bx/peers',
    '/api/%00',
    '/api/\u0000x',
    '/api/\nx',
    '/api/peers#x',
    '/api/config?x=1#/../setup/status',
  ];
  for (const raw of refused) {
    test(`refuses ${JSON.stringify(raw)}`, () => assert.equal(canonicalUrl(raw).ok, false));
  }

  test('a name containing dots that is not a dot segment stays', () => {
    assert.deepEqual(canonicalUrl('/api/peers/a.b'), { ok: true, url: '/api/peers/a.b' });
    assert.deepEqual(canonicalUrl('/api/peers/...'), { ok: true, url: '/api/peers/...' });
  });
});
