// The host facts `pic up` reads (the routing table and interfaces of this machine, nothing sent) and
// cell-api reads back from its environment, where anything malformed is ignored rather than trusted.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import { hostFactsSchema } from '../../schema/host-facts.ts';
import { hostFactsFromEnv, readHostFacts } from './host-facts.ts';

test('readHostFacts returns only values the schema accepts; the route address is one of the addresses', () => {
  const facts = readHostFacts();
  assert.deepEqual(hostFactsSchema.parse(facts), facts);
  if (facts.address) {
    assert.equal(isIP(facts.address), 4);
    assert.ok(facts.addresses?.includes(facts.address), `${facts.address} in ${facts.addresses}`);
  }
  assert.deepEqual(facts.addresses, [...(facts.addresses ?? [])].sort());
});

test('hostFactsFromEnv: the canonical JSON back; absent, broken or hostile values give undefined', () => {
  const facts = { address: '192.168.1.20', addresses: ['192.168.1.20'], name: 'nas' };
  assert.deepEqual(hostFactsFromEnv({ PIC_HOST_FACTS: JSON.stringify(facts) }), facts);
  assert.equal(hostFactsFromEnv({}), undefined);
  assert.equal(hostFactsFromEnv({ PIC_HOST_FACTS: '{' }), undefined);
  assert.equal(hostFactsFromEnv({ PIC_HOST_FACTS: '{"address":"1.2.3.4\\nPostUp = x"}' }), undefined);
  assert.equal(hostFactsFromEnv({ PIC_HOST_FACTS: '{"name":"a b"}' }), undefined);
  assert.equal(hostFactsFromEnv({ PIC_HOST_FACTS: '{"extra":1}' }), undefined);
});
