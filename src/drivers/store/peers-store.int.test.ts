// The peers store's in-memory snapshot never serves a stale row: changes through the store, raw SQL on
// the same connection, commits by another connection, and rolled-back transactions are all seen.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKeyPair, generatePresharedKey } from '../../core/peers/keys.ts';
import type { NewPeer } from '../../core/peers/peers-repository.ts';
import { openDb, transaction } from '../db.ts';
import { PeersStore } from './peers-store.ts';

const peer = (name: string, n: number): NewPeer => ({
  name,
  address: `10.0.0.${n}`,
  public_key: generateKeyPair().publicKey,
  private_key: null,
  preshared_key: generatePresharedKey(),
  routing: 'split',
  services: ['dns'],
  internet: false,
  peer_to_peer: false,
  blocklists: true,
  enabled: true,
  expires_at: null,
  account: false,
});

test('the peers snapshot follows every kind of change', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-peers-store-'));
  const path = join(dir, 'cell.db');
  const db = openDb(path);
  const other = openDb(path);
  try {
    const store = new PeersStore(db);
    const names = () => store.list().map((p) => `${p.name}:${p.enabled}`);
    assert.deepEqual(names(), []);
    const b = store.insert(peer('bob', 3));
    store.insert(peer('alice', 2));
    assert.deepEqual(names(), ['alice:true', 'bob:true'], 'in name order');
    store.update(b, { enabled: false });
    assert.deepEqual(names(), ['alice:true', 'bob:false']);
    assert.equal(store.allSecrets().size, 2);

    // Another PeersStore on the same connection, and raw SQL on it.
    new PeersStore(db).insert(peer('carol', 4));
    db.prepare("UPDATE peers SET enabled = 0 WHERE name = 'alice'").run();
    assert.deepEqual(names(), ['alice:false', 'bob:false', 'carol:true']);

    // A commit by another connection (`pic peers add` beside `pic serve`).
    new PeersStore(other).insert(peer('dave', 5));
    other.prepare("DELETE FROM peers WHERE name = 'carol'").run();
    assert.deepEqual(names(), ['alice:false', 'bob:false', 'dave:true']);

    // Rolled back: an insert read inside the transaction, then undone, and a delete undone.
    assert.throws(() =>
      transaction(db, () => {
        store.insert(peer('erin', 6));
        store.delete(b);
        assert.deepEqual(names(), ['alice:false', 'dave:true', 'erin:true']);
        throw new Error('roll back');
      }),
    );
    assert.deepEqual(names(), ['alice:false', 'bob:false', 'dave:true']);
    assert.deepEqual(store.addressesInUse().sort(), ['10.0.0.2', '10.0.0.3', '10.0.0.5']);
  } finally {
    db.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
