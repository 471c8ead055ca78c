#!/usr/bin/env node
// Launcher for the `pic` command. PIC needs Node >= 24.7 (type stripping, node:sqlite, crypto.argon2).
// When started by an older system Node (Debian 12 ships 20), re-run the same command with the Node 24
// binary that the `node@24` devDependency installed. argv array, no shell.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const modern = major > 24 || (major === 24 && minor >= 7);

if (modern) {
  const { main } = await import(entry);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node24)) {
    console.error(`pic needs Node >= 24.7 (found ${process.version}); run \`npm ci\` to install it.`);
    process.exit(2);
  }
  const r = spawnSync(node24, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
