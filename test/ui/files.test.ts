// The Files page in Chromium against `pic serve` (no Docker): the Files service is recorded as
// installed and alice's account and folder made as its account hook makes them (the real service on
// Docker is the e2e tier's). The owner picks alice, makes a folder, uploads with the progress bar
// moving, drops a file on the list, downloads, renames, moves into a folder and deletes with the
// confirmation; every step checked on disk. Then alice herself, in her own folder; and an upload past
// the quota is refused with a clear message. Screenshots land in test-results/ui/files-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadBuiltinCatalog } from '../../src/drivers/catalog/builtin-catalog.ts';
import { openDb } from '../../src/drivers/db.ts';
import { sealedText } from '../../src/drivers/secrets/sealed-text.ts';
import { secretFile } from '../../src/drivers/secrets/secret-file.ts';
import { ServiceAccountsStore } from '../../src/drivers/store/service-accounts-store.ts';
import { StoreServicesStore } from '../../src/drivers/store/store-services-store.ts';
import { CHROMIUM, launchChromium, logIn, type Served, servePicSetUp } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';
const MiB = 1024 * 1024;

let served: Served;
let browser: Browser;
let alicePassword: string;
let vol: string;
const alice = (...p: string[]) => join(vol, 'users', 'alice', ...p);

async function api(method: string, path: string, body?: unknown, cookie?: string, csrf?: string) {
  return fetch(`${served.url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(cookie ? { cookie } : {}),
      ...(csrf ? { 'x-csrf-token': csrf } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  mkdirSync(SHOTS, { recursive: true });
  served = await servePicSetUp(PASSWORD);
  browser = await launchChromium();
  // The owner makes the peer alice through the API.
  const login = await api('POST', '/api/auth/login', { username: 'admin', password: PASSWORD });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((pair) => !pair.endsWith('='))!;
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const peer = await api('POST', '/api/peers', { name: 'alice' }, cookie, csrf_token);
  assert.equal(peer.status, 201, await peer.clone().text());
  alicePassword = ((await peer.json()) as { password: string }).password;
  // Files installed, and alice's account and folder as the service's hook makes them.
  vol = join(served.dataDir, 'services', 'files', 'data');
  for (const d of ['users/alice', 'tmp']) mkdirSync(join(vol, d), { recursive: true });
  const db = openDb(join(served.dataDir, 'cell.db'));
  const files = (await loadBuiltinCatalog()).find((c) => c.manifest.id === 'files')!;
  new StoreServicesStore(db).put({
    id: 'files',
    version: files.manifest.version,
    state: 'running',
    virtualIp: undefined,
    images: {},
    manifest: files.manifest,
    installedAt: new Date().toISOString(),
    lastError: undefined,
  });
  new ServiceAccountsStore(
    db,
    sealedText(secretFile(join(served.dataDir, 'secrets', 'service-accounts.key'))),
  ).put({
    serviceId: 'files',
    username: 'alice',
    password: 'x'.repeat(24),
    createdAt: new Date().toISOString(),
  });
  db.close();
});

after(async () => {
  await browser?.close();
  await served?.stop();
});

const row = (page: Page, name: string) => page.getByTestId('file-row').filter({ hasText: name });

test('the owner browses alice’s folder: new folder, upload with progress, drop, download, rename, move, delete', async () => {
  const page = await browser.newPage({ acceptDownloads: true });
  await logIn(page, served.url, 'admin', PASSWORD);
  await page.getByTestId('cell-name').waitFor();
  await page.getByRole('link', { name: 'Files' }).click();
  await page.getByRole('heading', { name: 'Files' }).waitFor();
  const browserCard = page.getByTestId('file-browser');
  await browserCard.getByText('This folder is empty').waitFor();
  assert.equal(await page.getByLabel('Account', { exact: true }).inputValue(), 'alice');

  // New folder.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('docs');
  await page.getByRole('button', { name: 'Create' }).click();
  await row(page, 'docs').waitFor();
  assert.ok(existsSync(alice('docs')));

  // Upload through the file input; the progress bar's value is recorded as it changes.
  await page.evaluate(() => {
    const w = window as unknown as { seen: number[] };
    w.seen = [];
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[role=progressbar][aria-label^="Uploading"]'))
        w.seen.push(Number(el.getAttribute('aria-valuenow') ?? -1));
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  const big = Buffer.alloc(8 * MiB, 7);
  await page
    .getByLabel('Files to upload')
    .setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big });
  await row(page, 'big.bin').waitFor();
  const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
  assert.ok(seen.length > 0, 'the upload showed a progress bar');
  assert.ok(
    seen.some((v) => v >= 0 && v <= 100),
    `progress values: ${seen.join(',')}`,
  );
  assert.equal(readFileSync(alice('big.bin')).length, big.length);
  assert.match((await row(page, 'big.bin').textContent()) ?? '', /8\.00 MiB/);
  await page.screenshot({ path: join(SHOTS, 'files-owner.png'), fullPage: true });

  // Drag and drop onto the list.
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['dropped on the list\n'], 'notes.txt', { type: 'text/plain' }));
    return d;
  });
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: dt });
  await row(page, 'notes.txt').waitFor();
  assert.equal(readFileSync(alice('notes.txt'), 'utf8'), 'dropped on the list\n');

  // Download.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download notes.txt' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'notes.txt');
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'dropped on the list\n');

  // Rename.
  await page.getByRole('button', { name: 'Rename notes.txt' }).click();
  await page.getByLabel('New name').fill('renamed.txt');
  await page.getByRole('button', { name: 'Rename', exact: true }).click();
  await row(page, 'renamed.txt').waitFor();
  assert.ok(existsSync(alice('renamed.txt')) && !existsSync(alice('notes.txt')));

  // Move into docs, chosen in the dialog.
  await page.getByRole('button', { name: 'Move renamed.txt' }).click();
  const move = page.getByRole('dialog', { name: 'Move renamed.txt' });
  await move.getByRole('button', { name: 'docs', exact: true }).click();
  await move.getByText('Into: /docs').waitFor();
  await move.getByRole('button', { name: 'Move here' }).click();
  await row(page, 'renamed.txt').waitFor({ state: 'detached' });
  assert.equal(readFileSync(alice('docs', 'renamed.txt'), 'utf8'), 'dropped on the list\n');
  await page.getByRole('button', { name: 'docs', exact: true }).click();
  await row(page, 'renamed.txt').waitFor();
  await page.getByTestId('breadcrumbs').getByRole('button', { name: 'Home' }).click();
  await row(page, 'big.bin').waitFor();

  // Delete a folder, confirmed: it goes with what is in it; then a file.
  await page.getByRole('button', { name: 'Delete docs' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete docs?' });
  await confirm.getByText('and everything in it').waitFor();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await row(page, 'docs').waitFor({ state: 'detached' });
  assert.ok(!existsSync(alice('docs')));
  await page.getByRole('button', { name: 'Delete big.bin' }).click();
  await page.getByRole('dialog', { name: 'Delete big.bin?' }).getByRole('button', { name: 'Delete' }).click();
  await browserCard.getByText('This folder is empty').waitFor();
  assert.deepEqual(readdirSync(alice()), []);
  await page.close();
});

test('alice browses her own folder; past the quota an upload is refused with a clear message', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await logIn(page, served.url, 'alice', alicePassword);
  await page.getByRole('link', { name: 'My files' }).click();
  await page.getByRole('heading', { name: 'Files' }).waitFor();
  await page.getByText('This folder is empty').waitFor();
  await page
    .getByLabel('Files to upload')
    .setInputFiles({ name: 'mine.txt', mimeType: 'text/plain', buffer: Buffer.from('mine\n') });
  await row(page, 'mine.txt').waitFor();
  assert.equal(readFileSync(alice('mine.txt'), 'utf8'), 'mine\n');

  // The quota (as the service's settings hook writes it) is 1 MiB: 2 MiB do not fit.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(vol, 'settings.json'), '{"quota_mb":1}\n');
  await page.reload();
  await page.getByTestId('usage').getByText('of 1.00 MiB used').waitFor();
  await page.getByLabel('Files to upload').setInputFiles({
    name: 'too-big.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(2 * MiB, 1),
  });
  const alert = page.getByTestId('uploads').getByRole('alert');
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? '', /Over quota/);
  assert.ok(!existsSync(alice('too-big.bin')));
  await page.screenshot({ path: join(SHOTS, 'files-peer-quota.png'), fullPage: true });
  rmSync(join(vol, 'settings.json'));
  await ctx.close();
});
