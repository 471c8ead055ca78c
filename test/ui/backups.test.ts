// Settings → Backups in the browser (Debian's Chromium) against `pic serve`: the owner makes an encrypted
// backup and watches it finish, downloads it (a real age file), uploads it back as a new backup, is told
// when a passphrase is wrong, restores with the right one (a peer added after the backup is gone), lands
// on the login page and logs in again, then deletes a backup. Screenshots land in test-results/ui/backups-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, type Served, servePicSetUp } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';
const PASSPHRASE = 'staple-river-lantern-42';

let served: Served;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  mkdirSync(SHOTS, { recursive: true });
  served = await servePicSetUp(PASSWORD);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.stop();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `backups-${name}.png`), fullPage: true });

async function logIn(page: Page): Promise<void> {
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('cell-name').waitFor();
}

/** A peer through the API, in a session of its own (the restore ends it too). */
async function addPeer(name: string): Promise<void> {
  const login = await fetch(`${served.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((pair) => !pair.endsWith('='))!;
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const peer = await fetch(`${served.url}/api/peers?qr=false`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf_token },
    body: JSON.stringify({ name }),
  });
  assert.equal(peer.status, 201, await peer.text());
}

test('back up with a passphrase, download, upload, restore and log in again', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${served.url}/login`);
  await logIn(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page
    .getByRole('navigation', { name: 'Settings sections' })
    .getByRole('link', { name: 'Backups' })
    .click();
  await page.getByRole('heading', { name: 'Create a backup' }).waitFor();
  await page.getByText('a lost passphrase is a lost backup').waitFor();
  assert.equal(new URL(page.url()).pathname, '/settings/backups');
  assert.equal(
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Settings' })
      .getAttribute('aria-current'),
    'page',
    'the sidebar marks Settings on its Backups section',
  );

  // A mismatched confirmation is caught before anything is sent.
  await page
    .getByRole('form', { name: 'Create a backup' })
    .getByLabel('Passphrase', { exact: true })
    .fill(PASSPHRASE);
  await page.getByLabel('Confirm passphrase').fill(`${PASSPHRASE}x`);
  await page.getByRole('button', { name: 'Create backup' }).click();
  await page.getByText('The two passphrases differ.').waitFor();
  await page.getByLabel('Confirm passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create backup' }).click();
  const job = page.getByRole('region', { name: 'Backup job' });
  await job.getByText(/is ready/).waitFor({ timeout: 60_000 });
  await shot(page, '01-backed-up');

  // A peer added after the backup: the restore takes the cell back to before it.
  await addPeer('after-backup');

  const rows = page.getByTestId('backup-row');
  await rows.first().getByText('encrypted').waitFor();
  assert.equal(await rows.count(), 1);
  const original = (await rows.first().locator('.font-mono').textContent())!.trim();
  assert.match(original, /^backup-\d{8}-\d{6}-[0-9a-f]{6}$/);
  const size = /· ([\d.]+ (?:bytes|KiB|MiB)) · encrypted/.exec((await rows.first().textContent())!)?.[1];
  assert.ok(size, 'the row shows the size in human units');
  assert.match((await job.textContent())!, new RegExp(`is ready \\(${size.replace('.', '\\.')}\\)`));

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: `Download ${original}` }).click(),
  ]);
  const file = join(SHOTS, 'backups-download.age');
  await download.saveAs(file);
  assert.equal(readFileSync(file).subarray(0, 21).toString(), 'age-encryption.org/v1');

  await page.getByLabel('Upload a backup file').setInputFiles(file);
  await page.getByText(/^Uploaded as backup-/).waitFor({ timeout: 30_000 });
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2, 'the upload is a backup of its own');
  const uploaded = (await page
    .getByText(/^Uploaded as backup-/)
    .locator('.font-mono')
    .textContent())!.trim();
  assert.notEqual(uploaded, original);
  await shot(page, '02-uploaded');

  // A wrong passphrase: the restore stops and says so, and nothing changes.
  const dialog = page.getByRole('dialog');
  await page.getByRole('button', { name: `Restore ${uploaded}` }).click();
  await dialog.getByText('the WireGuard keys').waitFor();
  await dialog.getByText('users and their passwords').waitFor();
  await dialog.getByText('you will be logged out').waitFor();
  await shot(page, '03-confirm');
  await dialog.getByLabel('Backup passphrase').fill('not-the-right-passphrase');
  await dialog.getByRole('button', { name: 'Restore and log out' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /passphrase/i })
    .first()
    .waitFor({ timeout: 60_000 });
  await shot(page, '04-wrong-passphrase');
  if (await dialog.isVisible()) await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(new URL(page.url()).pathname, '/settings/backups', 'still logged in');

  await page.getByRole('button', { name: `Restore ${uploaded}` }).click();
  await dialog.getByLabel('Backup passphrase').fill(PASSPHRASE);
  await dialog.getByRole('button', { name: 'Restore and log out' }).click();
  await page.getByRole('heading', { name: 'Log in to your cell' }).waitFor({ timeout: 120_000 });
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.getByText(`restored from the backup ${uploaded}`).waitFor();
  await shot(page, '05-restored');

  await logIn(page);
  await page.getByRole('link', { name: 'Peers' }).click();
  await page.getByText('No peers yet.').waitFor();
  await page.goto(`${served.url}/settings/backups`);
  await rows.nth(1).waitFor();
  await page.getByRole('button', { name: `Delete ${original}` }).click();
  await page.getByText(original).waitFor({ state: 'detached' });
  assert.equal(await rows.count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Backups on a phone in dark mode', async () => {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    colorScheme: 'dark',
    isMobile: true,
  });
  const page = await context.newPage();
  await page.goto(`${served.url}/login`);
  await logIn(page);
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page
    .getByRole('navigation', { name: 'Settings sections' })
    .getByRole('link', { name: 'Backups' })
    .click();
  await page.getByRole('button', { name: 'Suggest a strong passphrase' }).click();
  const suggested = await page
    .getByRole('form', { name: 'Create a backup' })
    .getByLabel('Passphrase', { exact: true })
    .inputValue();
  assert.match(suggested, /^([a-z2-9]{5}-){5}[a-z2-9]{5}$/);
  assert.equal(await page.getByLabel('Confirm passphrase').inputValue(), suggested);
  await page.getByTestId('backup-row').first().waitFor();
  await shot(page, '06-phone');
  await context.close();
});
