// Settings → Domain and TLS in the browser (Debian's Chromium): the card shows what the cell serves
// (local mode, the cell CA as issuer, the expiry), and a public mode's settings are checked before
// anything is sent anywhere: a directory over plain http to another host and a domain carrying a Caddy
// placeholder are named under their fields, and the mode stays local. Nothing leaves the machine: no
// valid public-mode change is ever applied here. Screenshots: test-results/ui/domain-tls-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, type Served, servePicSetUp } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';

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

test('the Domain and TLS card shows the cell CA serving; bad public-mode settings are named and change nothing', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${served.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();

  const card = page.getByTestId('domain-tls');
  const status = card.getByTestId('tls-status');
  await status.getByText(/\(Local/).waitFor();
  assert.match((await status.textContent()) ?? '', /Issuer.*\S/);
  assert.doesNotMatch((await status.textContent()) ?? '', /Issuer—/, 'an issuer is shown');

  await card.getByLabel('Domain mode').selectOption('custom');
  await card.getByLabel('Domain', { exact: true }).fill('home.example.org');
  await card.getByRole('button', { name: 'Advanced' }).click();
  await card.getByLabel('ACME directory').fill('http://acme.example.org/directory');
  await card.getByRole('button', { name: 'Save and apply' }).click();
  await card.getByText('must be https (http only on 127.0.0.1 or [::1])').waitFor();

  await card.getByLabel('ACME directory').fill('http://127.0.0.1:9/directory');
  await card.getByLabel('Domain', { exact: true }).fill('{env.HOME}');
  await card.getByRole('button', { name: 'Save and apply' }).click();
  await card.getByText('must be a lowercase domain name such as home.example.org').waitFor();
  await page.screenshot({ path: join(SHOTS, 'domain-tls-refused.png'), fullPage: true });

  const config = await page.evaluate(async () => (await fetch('/api/config')).json());
  assert.equal(config.identity.domain_mode, 'local', 'nothing was switched');
  assert.deepEqual(errors, []);
  await context.close();
});
