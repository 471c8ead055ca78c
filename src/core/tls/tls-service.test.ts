// The TLS use-case's ordering with installed services (HTTP-01): which names an order carries, when the
// tick orders again, and that the domain itself never waits on a service name the CA cannot prove.
// The CA is a fake that signs what it is asked (self-signed leaves) unless a name is made to fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AcmeOrder, AcmePort } from '../ports/acme.ts';
import type { Clock } from '../ports/clock.ts';
import type { TlsFileName, TlsFiles } from '../ports/tls-files.ts';
import { certPem, selfSignedLeaf } from '../vault/x509.ts';
import type { TlsRecord, TlsRepository } from './tls-repository.ts';
import { TlsService } from './tls-service.ts';

const DOMAIN = 'home.example.org';

function setup(o: { services: string[] }) {
  const t = { now: Date.now() };
  const clock: Clock = { now: () => t.now, setTimer: () => 0, clearTimer: () => {} };
  let record: TlsRecord = {
    settings: { directoryUrl: null, email: null, eabKid: null, challenge: 'http-01' },
    state: { lastRenewal: null, lastError: null, failures: 0, nextAttemptAt: null },
  };
  const repo: TlsRepository = {
    get: () => record,
    saveSettings: (settings) => {
      record = { ...record, settings };
    },
    saveState: (state) => {
      record = { ...record, state };
    },
  };
  const stored = new Map<TlsFileName, string>();
  const files: TlsFiles = {
    read: (n) => stored.get(n),
    write: (n, text) => void stored.set(n, text),
    remove: (n) => void stored.delete(n),
  };
  const orders: string[][] = [];
  const failing = new Set<string>();
  const acme: AcmePort = {
    newAccountKey: async () => 'account key',
    async order(order: AcmeOrder) {
      orders.push(order.names);
      const bad = order.names.find((n) => failing.has(n));
      if (bad) throw new Error(`urn:ietf:params:acme:error:connection: ${bad} did not answer`);
      const leaf = await selfSignedLeaf(
        { commonName: order.names[0]!, names: order.names, days: 90, clientAuth: false },
        'Fake CA',
        new Date(t.now),
      );
      return { certPem: certPem(leaf.cert), chainPem: '', keyPem: leaf.privateKeyPem };
    },
  };
  const services = [...o.services];
  const tls = new TlsService({
    repo,
    files,
    acme,
    dns: {
      setTxt: async () => ({ kind: 'updated', message: '' }),
      removeTxt: async () => ({ kind: 'updated', message: '' }),
      txtProvider: () => ({ provider: null, supportsTxt: false }),
    },
    vault: {
      serverCertificate: async () => {
        throw new Error('not in a public mode');
      },
      fallbackCertificate: async () => {
        throw new Error('not used here');
      },
    },
    applied: () => ({ domain_mode: 'custom', domain: DOMAIN }),
    serviceNames: () => services,
    clock,
  });
  return { tls, t, orders, failing, services, state: () => record.state };
}

test('the tick orders the domain and each service name; a service installed is ordered at once, within the hour', async () => {
  const s = setup({ services: ['mail'] });
  await s.tls.tick();
  assert.deepEqual(s.orders, [[DOMAIN, `mail.${DOMAIN}`]]);
  await s.tls.tick();
  assert.equal(s.orders.length, 1, 'nothing new to order');
  s.services.push('calendar');
  s.t.now += 60_000;
  await s.tls.tick();
  assert.deepEqual(s.orders.at(-1), [DOMAIN, `calendar.${DOMAIN}`, `mail.${DOMAIN}`]);
  assert.deepEqual((await s.tls.certificate()).names, [DOMAIN, `calendar.${DOMAIN}`, `mail.${DOMAIN}`]);
  // Removed: the certificate still covers what is wanted; a smaller one waits for the hour.
  s.services.splice(s.services.indexOf('calendar'), 1);
  await s.tls.tick();
  assert.equal(s.orders.length, 2);
  s.t.now += 61 * 60_000;
  await s.tls.tick();
  assert.deepEqual(s.orders.at(-1), [DOMAIN, `mail.${DOMAIN}`]);
});

test('a service name the CA cannot prove never keeps the domain without a certificate', async () => {
  const s = setup({ services: ['calendar'] });
  s.failing.add(`calendar.${DOMAIN}`);
  await s.tls.tick();
  // The whole order failed; the domain alone was ordered next, and the failure stays shown.
  assert.deepEqual(s.orders, [[DOMAIN, `calendar.${DOMAIN}`], [DOMAIN]]);
  const c = await s.tls.certificate();
  assert.equal(c.source, 'acme');
  assert.deepEqual(c.names, [DOMAIN]);
  const st = await s.tls.status();
  assert.match(st.last_error ?? '', /calendar\.home\.example\.org/);
  assert.equal(s.state().failures, 1);
  assert.ok(Date.parse(st.next_attempt!) >= s.t.now + 30 * 60_000, 'the full order backs off');
  await s.tls.tick();
  assert.equal(s.orders.length, 2, 'backing off: no new order');
  // After the backoff the full order is tried again; the valid certificate held is kept when it fails.
  s.t.now += 31 * 60_000;
  await s.tls.tick();
  assert.deepEqual(s.orders.at(-1), [DOMAIN, `calendar.${DOMAIN}`]);
  assert.equal(s.orders.length, 3, 'no fallback while the domain’s certificate is good');
  assert.equal(s.state().failures, 2);
  // Once the name answers, the next try (after the doubled backoff) covers it.
  s.failing.clear();
  s.t.now += 61 * 60_000;
  await s.tls.tick();
  assert.deepEqual((await s.tls.certificate()).names, [DOMAIN, `calendar.${DOMAIN}`]);
  assert.equal((await s.tls.status()).last_error, null);
});
