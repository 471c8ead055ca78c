// The cell's key is made once, by PIC, and the config cell-wireguard loads on its first start holds it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareWireguardBoot, serverKeyFile } from './server-key.ts';

test('prepareWireguardBoot makes the key and the boot config once, and keeps a rendered config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-wgboot-'));
  try {
    const secrets = join(dir, 'data', 'secrets');
    const conf = join(dir, 'config', 'wireguard');
    const pub = prepareWireguardBoot(secrets, conf);
    const key = serverKeyFile(secrets)();
    assert.equal(pub, key.publicKey);
    assert.equal(statSync(join(secrets, 'wireguard', 'server.key')).mode & 0o777, 0o600);
    const text = readFileSync(join(conf, 'wg0.conf'), 'utf8');
    assert.match(text, new RegExp(`^PrivateKey = ${key.privateKey.replace(/[+/]/g, '\\$&')}$`, 'm'));
    assert.doesNotMatch(text, /\[Peer\]/);
    assert.equal(statSync(join(conf, 'wg0.conf')).mode & 0o777, 0o600);
    // Later runs: the same key, and cell-api's latest config is not overwritten.
    writeFileSync(join(conf, 'wg0.conf'), `${text}\n# rendered by cell-api\n`);
    assert.equal(prepareWireguardBoot(secrets, conf), pub);
    assert.match(readFileSync(join(conf, 'wg0.conf'), 'utf8'), /rendered by cell-api/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
