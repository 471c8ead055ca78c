// The Vault in the browser (Debian's Chromium): the owner sees the root's fingerprint, issues a
// certificate and sees its key once with the warning, revokes it; a peer finds "Trust this cell" on
// My account with the same fingerprint. Screenshots land in test-results/ui/vault-*.png.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, logIn as logInAt, type Served, servePicSetUp } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';
const PEER_PASSWORD = 'peer-password-123';

let served: Served;
let browser: Browser;
let fingerprint: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  mkdirSync(SHOTS, { recursive: true });
  served = await servePicSetUp(PASSWORD);
  browser = await launchChromium();
  const root = await (await fetch(`${served.url}/api/vault/ca.crt`)).text();
  fingerprint = new X509Certificate(root).fingerprint256;
  // A peer with a login, added through the API.
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
    body: JSON.stringify({ name: 'phone', create_account: true, password: PEER_PASSWORD }),
  });
  assert.equal(peer.status, 201, await peer.text());
});

after(async () => {
  await browser?.close();
  await served?.stop();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `vault-${name}.png`), fullPage: true });

const logIn = (page: Page, username: string, password: string) =>
  logInAt(page, served.url, username, password);

test('the owner issues a certificate, sees its key once, and revokes it', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await logIn(page, 'admin', PASSWORD);
  await page.getByRole('link', { name: 'Vault' }).click();
  await page.getByRole('heading', { name: 'Vault', exact: true }).waitFor();
  await page.getByTestId('root-fingerprint').getByText(fingerprint).waitFor();

  await page.getByLabel('Common name').fill('*.cell');
  await page.getByRole('button', { name: 'Issue', exact: true }).click();
  await page.getByText('a wildcard must stand above at least two labels').waitFor();
  // Outside the CA's name constraints: refused under the field, nothing signed.
  await page.getByLabel('Common name').fill('bank.example.com');
  await page.getByRole('button', { name: 'Issue', exact: true }).click();
  await page.getByText('only issues for names under .cell and private addresses').waitFor();

  await page.getByLabel('Common name').fill('nas.home.cell');
  await page.getByLabel('Other names (optional)').fill('10.0.0.5, files.home.cell');
  await page.getByRole('button', { name: 'Issue', exact: true }).click();
  const once = page.getByTestId('issued-once');
  await once.getByText('it is shown only this once').waitFor();
  assert.match(await once.getByLabel('Private key').inputValue(), /^-----BEGIN PRIVATE KEY-----/);
  await shot(page, '01-issued');
  await page.getByRole('button', { name: 'I have saved it' }).click();
  await once.waitFor({ state: 'detached' });
  assert.equal(await page.getByText('BEGIN PRIVATE KEY').count(), 0, 'the key is gone from the page');

  const row = page.getByTestId('cert-row').filter({ hasText: 'nas.home.cell' });
  await row.getByText('valid until').waitFor();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.getByLabel('Reason').selectOption('keyCompromise');
  await row.getByRole('button', { name: 'Revoke nas.home.cell' }).click();
  await row.getByText('(keyCompromise)').waitFor();
  await shot(page, '02-revoked');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a peer finds "Trust this cell" with the root and its fingerprint, on a phone in dark mode', async () => {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    colorScheme: 'dark',
    isMobile: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await logIn(page, 'phone', PEER_PASSWORD);
  const card = page.getByTestId('trust-cell');
  await card.getByRole('heading', { name: 'Trust this cell' }).waitFor();
  await card.getByTestId('root-fingerprint').getByText(fingerprint).waitFor();
  assert.equal(
    await card.getByRole('link', { name: 'Download the root certificate' }).getAttribute('href'),
    '/api/vault/ca.crt',
  );
  await card.getByText('iPhone and iPad').click();
  await card.getByText('Certificate Trust Settings').waitFor();
  await shot(page, '03-peer-trust');
  assert.deepEqual(errors, []);
  await context.close();
});
