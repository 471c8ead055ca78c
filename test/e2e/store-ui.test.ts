// The Service Store page on a real cell, in Debian's Chromium (issue 12, parts 7 and 8): the owner
// opens the cell's UI on its LAN address (the first-run page, plain HTTP), installs Calendar from its
// card and watches the job until the card says running, adds an account for a peer from the
// Accounts panel (the generated password shown once), sees the service in the sidebar, and
// uninstalls it with the confirmation. The API says the same at each step. Screenshots land in
// test-results/e2e/store-ui-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, logIn } from '../ui/serve.ts';
import {
  ADMIN_PASSWORD,
  ApiClient,
  completeSetup,
  ensureImages,
  leftovers,
  ROOT,
  startCell,
  type TestCell,
} from './harness.ts';

const SHOTS = join(ROOT, 'test-results', 'e2e');

let cell: TestCell;
let admin: ApiClient;
let browser: Browser;
let page: Page;
/** carol's own cell login, generated when she was added. */
let carolLogin = '';

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  mkdirSync(SHOTS, { recursive: true });
  ensureImages();
  cell = await startCell();
  admin = new ApiClient(cell.url);
  await completeSetup(cell, admin);
  const peer = await admin.call('POST', '/api/peers?qr=false', { name: 'carol' });
  assert.equal(peer.status, 201, JSON.stringify(peer.json));
  carolLogin = (peer.json as { password?: string }).password ?? '';
  assert.ok(carolLogin, 'the peer got a cell login');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // The uninstall asks for a confirmation: the owner says yes.
  page.on('dialog', (d) => void d.accept());
});

after(async () => {
  await browser?.close();
  if (!cell) return;
  cell.destroy();
  assert.deepEqual(leftovers(cell.prefix), [], 'containers, networks or volumes left behind');
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `store-ui-${name}.png`), fullPage: true });
const state = () => page.getByTestId('store-state-calendar').textContent();

test('install from the card, watch it run, add a peer account, uninstall', async () => {
  await logIn(page, cell.url, 'admin', ADMIN_PASSWORD);
  await page.getByTestId('cell-name').waitFor();
  await page.getByRole('link', { name: /Service Store/ }).click();
  const card = page.getByTestId('store-card-calendar');
  await card.waitFor();
  assert.equal(await state(), 'not installed');

  await card.getByRole('button', { name: 'Install' }).click();
  // The job shows while it runs (the image may be built now, or reused from an earlier cell).
  await page
    .getByTestId('store-state-calendar')
    .filter({ hasText: /installing|running/ })
    .waitFor();
  await shot('installing');
  await page.getByTestId('store-state-calendar').filter({ hasText: 'running' }).waitFor({ timeout: 240_000 });
  const item = await admin.call('GET', '/api/services/catalog/calendar');
  assert.equal((item.json as { state: string }).state, 'running');
  // It is in the sidebar, opening at its own address.
  const nav = page.getByTestId('nav-services').getByRole('link', { name: /Calendar and Contacts/ });
  await nav.waitFor({ timeout: 40_000 });
  assert.equal(await nav.getAttribute('href'), 'https://calendar.e2e.cell');

  const accounts = page.getByTestId('accounts-calendar');
  await accounts.waitFor();
  await accounts.getByLabel('Peer').selectOption('carol');
  await accounts.getByRole('button', { name: 'Add account' }).click();
  const password = page.getByTestId('generated-password');
  await password.waitFor();
  assert.equal((await password.textContent())?.length, 24);
  await accounts.getByText('carol', { exact: true }).waitFor();
  await shot('account');
  const listed = await admin.call('GET', '/api/services/calendar/accounts');
  assert.deepEqual(
    (listed.json as { accounts: { username: string; in_service: boolean }[] }).accounts.map((a) => [
      a.username,
      a.in_service,
    ]),
    [['carol', true]],
  );

  const generated = (await password.textContent()) ?? '';

  // carol, on her own page, finds the account with what to type, and the one-step device profile.
  const peerPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await logIn(peerPage, cell.url, 'carol', carolLogin);
  await peerPage.getByRole('link', { name: /My account/ }).click();
  const mine = peerPage.getByTestId('my-service-calendar');
  await mine.waitFor();
  assert.match((await mine.textContent()) ?? '', /https:\/\/calendar\.e2e\.cell/);
  await mine.getByRole('button', { name: 'Show' }).click();
  await mine.getByText(generated).waitFor();
  const download = peerPage.waitForEvent('download');
  await mine.getByRole('link', { name: /iPhone, iPad or Mac/ }).click();
  const profile = await download;
  assert.equal(profile.suggestedFilename(), 'e2e-calendar.mobileconfig');
  const text = await (await profile.createReadStream()).toArray();
  const body = Buffer.concat(text as Buffer[]).toString();
  assert.ok(body.includes('<string>com.apple.caldav.account</string>'));
  assert.ok(body.includes(`<string>${generated}</string>`));
  await peerPage.screenshot({ path: join(SHOTS, 'store-ui-peer.png'), fullPage: true });
  await peerPage.close();

  await card.getByRole('button', { name: 'Uninstall' }).click();
  await page
    .getByTestId('store-state-calendar')
    .filter({ hasText: 'not installed' })
    .waitFor({ timeout: 120_000 });
  await shot('uninstalled');
  const active = await admin.call('GET', '/api/services/active');
  assert.deepEqual((active.json as { services: unknown[] }).services, []);
});
