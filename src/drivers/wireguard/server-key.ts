// The cell's own WireGuard key pair: data/secrets/wireguard/server.key (0600, directory 0700), created
// once with node:crypto and written atomically. Read once per process and kept in memory.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair, publicKeyOf } from '../../core/peers/keys.ts';
import { wgKey } from '../../schema/peers.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export function serverKeyFile(secretsDir: string): () => KeyPair {
  const path = join(secretsDir, 'wireguard', 'server.key');
  let pair: KeyPair | undefined;
  return () => {
    if (pair) return pair;
    if (existsSync(path)) {
      const privateKey = readFileSync(path, 'utf8').trim();
      if (!wgKey.safeParse(privateKey).success) throw new Error(`${path} does not hold a WireGuard key`);
      pair = { privateKey, publicKey: publicKeyOf(privateKey) };
    } else {
      pair = generateKeyPair();
      writeFileAtomic(path, `${pair.privateKey}\n`, { mode: 0o600 });
    }
    return pair;
  };
}
