// Starts `pic serve` on a free loopback port with a fresh data dir and returns its setup token; launches
// Debian's Chromium the way every UI test does (never a browser a tool downloads, never the network).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

const root = join(import.meta.dirname, '..', '..');

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** The login form, as a person fills it; resolves once the form is sent (the caller waits for what follows). */
export async function logIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Served {
  url: string;
  token: string;
  /** The served cell's data directory (its cell directory is the folder above it). */
  dataDir: string;
  stop(): Promise<void>;
}

export async function servePic(): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'pic-ui-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, 'src', 'cli', 'main.ts'),
      'serve',
      '--data-dir',
      join(dir, 'data'),
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const token = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pic serve did not print a token:\n${out}`)), 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = out.split('\n');
      const at = lines.findIndex((l) => l.includes('Setup token'));
      if (at >= 0 && lines[at + 1]?.trim()) {
        clearTimeout(timer);
        resolve(lines[at + 1]!.trim());
      }
    });
    child.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('exit', (code) => reject(new Error(`pic serve exited ${code}:\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    dataDir: join(dir, 'data'),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `pic serve` with setup already completed through the API: cell `home`, the admin's password given. */
export async function servePicSetUp(adminPassword: string): Promise<Served> {
  const served = await servePic();
  const r = await fetch(`${served.url}/api/setup/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: served.token,
      cell_name: 'home',
      domain_mode: 'local',
      timezone: 'UTC',
      admin_password: adminPassword,
      services: [],
    }),
  });
  if (r.status !== 201) {
    await served.stop();
    throw new Error(`setup failed: ${r.status} ${await r.text()}`);
  }
  return served;
}
