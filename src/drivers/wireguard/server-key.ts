// The cell's own WireGuard key pair: data/secrets/wireguard/server.key (0600, directory 0700), created
// once with node:crypto and written atomically. This is the one place that makes it: cell-wireguard
// never generates a key, it loads the config rendered from this one. Read again only when the file
// changed (a restore puts the backup's key in its place; ADR 0021).
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKeyPair, type KeyPair, publicKeyOf } from '../../core/peers/keys.ts';
import { renderServerConf } from '../../render/wireguard/server-conf.ts';
import { wgKey } from '../../schema/peers.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export function serverKeyFile(secretsDir: string): () => KeyPair {
  const path = join(secretsDir, 'wireguard', 'server.key');
  let pair: KeyPair | undefined;
  let seen = '';
  return () => {
    const st = existsSync(path) ? statSync(path) : undefined;
    const stamp = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : '';
    if (pair && stamp === seen) return pair;
    if (st) {
      const privateKey = readFileSync(path, 'utf8').trim();
      if (!wgKey.safeParse(privateKey).success) throw new Error(`${path} does not hold a WireGuard key`);
      pair = { privateKey, publicKey: publicKeyOf(privateKey) };
      seen = stamp;
    } else {
      pair = generateKeyPair();
      writeFileAtomic(path, `${pair.privateKey}\n`, { mode: 0o600 });
      // Made by a root `pic up`: the key belongs to whoever owns the secrets directory (cell-api's uid).
      if (process.getuid?.() === 0) {
        const owner = statSync(secretsDir);
        for (const p of [dirname(path), path]) chownSync(p, owner.uid, owner.gid);
      }
      const made = statSync(path);
      seen = `${made.ino}:${made.mtimeMs}:${made.size}`;
    }
    return pair;
  };
}

/**
 * Before cell-wireguard first starts (`pic up`): the cell's key exists, and so does the config the
 * container loads (confDir/wg0.conf: the key, no peers yet; cell-api renders the peers once it runs).
 * An existing config is left alone: it is cell-api's latest. Returns the public key.
 */
export function prepareWireguardBoot(secretsDir: string, confDir: string): string {
  const key = serverKeyFile(secretsDir)();
  const conf = join(confDir, 'wg0.conf');
  if (!existsSync(conf))
    writeFileAtomic(conf, renderServerConf({ privateKey: key.privateKey, peers: [] }).output, {
      mode: 0o600,
    });
  return key.publicKey;
}
