import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cellConfigSchema, defaultConfig } from './config.ts';
import { vpnAddressOfSource, vpnAddressOnCell, vpnMapProblem, vpnSourceBlock } from './vpn-sources.ts';

describe('VPN sources on the cell network', () => {
  test('the VPN range maps onto the last block of its size, one address each way', () => {
    assert.equal(vpnSourceBlock('172.20.0.0/16', '10.0.0.0/24'), '172.20.255.0/24');
    assert.equal(vpnSourceBlock('192.168.64.0/20', '10.8.0.0/22'), '192.168.76.0/22');
    assert.equal(vpnAddressOnCell('10.0.0.7', '172.20.0.0/16', '10.0.0.0/24'), '172.20.255.7');
    assert.equal(vpnAddressOfSource('172.20.255.7', '172.20.0.0/16', '10.0.0.0/24'), '10.0.0.7');
    assert.equal(vpnAddressOfSource('::ffff:172.20.255.9', '172.20.0.0/16', '10.0.0.0/24'), '10.0.0.9');
  });

  test('an address outside the block is nobody on the VPN', () => {
    for (const ip of ['172.20.0.2', '172.20.254.255', '10.0.0.7', '192.168.1.5', 'fe80::1', 'garbage'])
      assert.equal(vpnAddressOfSource(ip, '172.20.0.0/16', '10.0.0.0/24'), undefined, ip);
  });

  test('a VPN range larger than a quarter of the cell network is refused by the config, naming the field', () => {
    assert.match(vpnMapProblem('172.20.0.0/24', '10.0.0.0/24') ?? '', /at most a quarter/);
    assert.equal(vpnMapProblem('172.20.0.0/22', '10.0.0.0/24'), undefined);
    const cfg = defaultConfig();
    cfg.identity.ip_range = '172.20.0.0/24';
    const r = cellConfigSchema.safeParse(cfg);
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, ['identity', 'vpn_address']);
    assert.equal(vpnAddressOfSource('172.20.0.7', '172.20.0.0/24', '10.0.0.0/24'), undefined);
  });
});
