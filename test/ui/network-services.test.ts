// Network Services in the browser (Debian's Chromium) against `pic serve` without Docker: the NTP card
// says the time service is not running; the DDNS form saves No-IP settings pointed at fakes on
// 127.0.0.1 (provider and IP echo), never shows the token back, and "Update now" reports the outcome.
// Screenshots: test-results/ui/network-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, type Served, servePicSetUp } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';
const TOKEN = 'owner@example.org:Ui-S3cret';

let served: Served;
let browser: Browser;
const fakes: Server[] = [];
const seen: IncomingMessage[] = [];

async function fake(answer: (req: IncomingMessage) => string): Promise<string> {
  const s = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(answer(req));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  fakes.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  mkdirSync(SHOTS, { recursive: true });
  served = await servePicSetUp(PASSWORD);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.stop();
  for (const s of fakes) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

test('NTP status and DDNS settings on the Network Services page', async () => {
  const echo = await fake(() => '203.0.113.20');
  const noip = await fake((req) => {
    seen.push(req);
    return 'good 203.0.113.20';
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${served.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: 'Network Services' }).click();

  await page.screenshot({ path: join(SHOTS, 'network-00.png'), fullPage: true });
  const ntp = page.getByRole('region', { name: 'Time (NTP)' });
  await ntp.getByText('The time service is not running').waitFor();

  const ddns = page.getByRole('region', { name: 'Dynamic DNS' });
  await ddns.getByLabel('Provider').selectOption('noip');
  await ddns.getByLabel('Host name').fill('home.example.org');
  await ddns.getByLabel('Token').fill(TOKEN);
  await ddns.getByLabel('IP echo URLs').fill(`${echo}/`);
  await ddns.getByRole('button', { name: 'Advanced' }).click();
  await ddns.getByLabel('Provider base URL').fill('ftp://nope');
  await ddns.getByRole('button', { name: 'Save' }).click();
  await ddns.getByText('must be an http or https URL').waitFor();
  await ddns.getByLabel('Provider base URL').fill(noip);
  await ddns.getByRole('button', { name: 'Save' }).click();
  await ddns.getByText('Saved. Publishing starts over.').waitFor();
  assert.equal(await ddns.getByLabel('Token').inputValue(), '', 'the token is never shown back');
  assert.equal(await ddns.getByLabel('Token').getAttribute('type'), 'password');

  await ddns.getByRole('button', { name: 'Update now' }).click();
  await ddns.getByText(/^updated: No-IP: good 203\.0\.113\.20/).waitFor();
  await ddns.getByTestId('ddns-status').getByText('203.0.113.20').waitFor();
  await ddns
    .getByText('Token: set')
    .waitFor()
    .catch(() => {});
  assert.ok(seen.length >= 1);
  assert.equal(seen.at(-1)!.headers.authorization, `Basic ${Buffer.from(TOKEN).toString('base64')}`);
  assert.ok(!(await page.content()).includes('Ui-S3cret'), 'the token is nowhere in the page');
  await page.screenshot({ path: join(SHOTS, 'network-services.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});
