// Which host peers dial: the owner's setting, then the host's default-route address and name that
// `pic up` handed over, and the local guess only when nothing else is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseEndpointHost } from './endpoint-choice.ts';

const guess = () => '172.20.0.10';
const host = { address: '192.168.1.20', name: 'nas', addresses: ['192.168.1.20'] };

test('the configured endpoint_host wins over every fact', () => {
  assert.deepEqual(chooseEndpointHost('vpn.example.org', host, guess), {
    host: 'vpn.example.org',
    source: 'config',
  });
});

test("empty or absent endpoint_host: the host's default-route address, then its name, then the guess", () => {
  assert.deepEqual(chooseEndpointHost('', host, guess), { host: '192.168.1.20', source: 'host_route' });
  assert.deepEqual(chooseEndpointHost(undefined, { name: 'nas' }, guess), {
    host: 'nas',
    source: 'host_name',
  });
  assert.deepEqual(chooseEndpointHost(undefined, {}, guess), { host: '172.20.0.10', source: 'guess' });
  assert.deepEqual(chooseEndpointHost('', undefined, guess), { host: '172.20.0.10', source: 'guess' });
});

test('the guess is not even computed when a fact answers', () => {
  const never = () => assert.fail('guessed');
  assert.equal(chooseEndpointHost('', host, never).host, '192.168.1.20');
});
