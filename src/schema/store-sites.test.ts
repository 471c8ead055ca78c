import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeSites } from './store-sites.ts';

test('a route the store reports as a label is rendered under the domain being rendered (a domain change)', () => {
  // The store reports `calendar`; an apply renders the target config's domain while the applied one is
  // still the cell's: a name fixed to the old domain made the Caddy render refuse the domain change.
  const routes = [
    {
      serviceId: 'calendar',
      subdomain: 'calendar',
      virtualIp: '10.150.0.64',
      upstream: 'p-cell-calendar_radicale:5232',
    },
  ];
  for (const domain of ['home.example.org', 'e2e.pic.ngo']) {
    const [site] = storeSites(routes, domain, '10.150.0.0/16');
    assert.deepEqual(
      site?.hosts.map((h) => [h.label, h.host, h.address]),
      [['calendar', `calendar.${domain}`, '10.150.0.64']],
    );
  }
  // A name already under the rendered domain keeps working.
  const [site] = storeSites(
    [{ ...routes[0]!, subdomain: 'calendar.e2e.pic.ngo' }],
    'e2e.pic.ngo',
    '10.150.0.0/16',
  );
  assert.equal(site?.hosts[0]?.label, 'calendar');
});
