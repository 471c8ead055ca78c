// Peers in the browser (Debian's Chromium): the owner adds a peer and sees its QR code and one-time
// password at once, edits its access, disables it, opens the WireGuard page; the peer logs in and sees
// its own config and QR code on My account once enabled (disabled, its login is refused and My account
// says so without the config), with the cell's name in its header; the owner deletes it after
// confirming. Screenshots land in test-results/ui/peers-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, logIn as logInAt, type Served, servePicSetUp } from './serve.ts';

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

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `peers-${name}.png`), fullPage: true });

const logIn = (page: Page, username: string, password: string) =>
  logInAt(page, served.url, username, password);

test('owner adds, edits, disables and deletes a peer; the peer sees only its own config', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await logIn(page, 'admin', PASSWORD);
  await page.getByRole('link', { name: 'Peers' }).click();
  await page.getByRole('heading', { name: 'Peers', exact: true }).waitFor();

  // A bad name: the API's message under the field, nothing added.
  await page.getByLabel('Name', { exact: true }).fill('Bad Name');
  await page.getByRole('button', { name: 'Add peer' }).click();
  await page.getByText('must be a lowercase DNS label').first().waitFor();

  await page.getByLabel('Name', { exact: true }).fill('laptop');
  await page.getByRole('button', { name: 'Add peer' }).click();
  await page.getByRole('img', { name: /QR code of the WireGuard config of laptop/ }).waitFor();
  const password = (await page.getByTestId('peer-password').textContent())!.trim();
  assert.match(password, /^\S{20}$/);
  await page
    .getByText(/^PrivateKey = /m)
    .first()
    .waitFor();
  await shot(page, '01-added');

  await page.getByRole('button', { name: 'Access' }).click();
  await page.getByLabel('Web and HTTPS services').last().uncheck();
  await page.getByLabel('Disable after').fill('2099-01-01T12:00');
  await page.getByRole('button', { name: 'Save access' }).click();
  await page.getByText('split · dns, ntp').waitFor();
  await page.getByText(/expires .*2099/).waitFor();

  // A one-time link serves the config once.
  await page.getByRole('button', { name: 'One-time link' }).click();
  const linkText = await page.getByText('Serves the config once').textContent();
  const url = /(http\S+\/api\/config-links\/\S+)/.exec(linkText ?? '')?.[1];
  assert.ok(url, `a link is shown: ${linkText}`);
  const first = await page.request.get(url);
  assert.equal(first.status(), 200);
  assert.match(await first.text(), /^\[Interface\]$/m);
  assert.notEqual((await page.request.get(url)).status(), 200, 'the link works once');
  await page.getByRole('button', { name: 'Disable' }).click();
  await page.getByText('disabled', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Traffic' }).click();
  await page.getByText(/Not enough samples yet/).waitFor();
  await shot(page, '02-disabled');

  await page.getByRole('link', { name: 'WireGuard' }).click();
  await page.getByText('not running').waitFor();
  await page.getByRole('cell', { name: /laptop/ }).waitFor();
  await shot(page, '03-wireguard');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { name: 'Peer traffic' }).waitFor();
  await page.getByTestId('traffic-laptop').waitFor();

  // Upstreams on the Settings page: a bad address is named, a good one waits for Apply.
  await page.getByRole('link', { name: 'Settings' }).click();
  const forwarders = page.getByLabel('DNS forwarders', { exact: true });
  await forwarders.fill('192.0.2.53, 300.1.1.1');
  await page.getByRole('button', { name: 'Save network' }).click();
  await page.getByText('must be an IPv4 address').waitFor();
  await forwarders.fill('192.0.2.53');
  await page.getByRole('button', { name: 'Save network' }).click();
  await page.getByText('Saved. Waiting to apply (restarts cell-dns)', { exact: false }).waitFor();
  await shot(page, '03b-settings-network');
  // DNS-over-TLS instead of plain forwarders, DNSSEC off: saved as typed, shown back as typed.
  await forwarders.fill('');
  await page.getByLabel('DNS-over-TLS forwarders').fill('192.0.2.9#dns.example@853');
  await page.getByLabel('Validate forwarded answers with DNSSEC').uncheck();
  await page.getByRole('button', { name: 'Save network' }).click();
  await page.getByText('Saved. Waiting to apply (restarts cell-dns)', { exact: false }).waitFor();
  await page.reload();
  await page.getByLabel('DNS-over-TLS forwarders').waitFor();
  await page.waitForFunction(
    () => (document.querySelector('input[name=dns_tls_forwarders]') as HTMLInputElement)?.value !== '',
  );
  assert.equal(await page.getByLabel('DNS-over-TLS forwarders').inputValue(), '192.0.2.9#dns.example@853');
  assert.equal(await page.getByLabel('Validate forwarded answers with DNSSEC').isChecked(), false);
  await page.getByLabel('Time zone').fill('Europe/Berlin');
  await page.getByRole('button', { name: 'Save identity' }).click();
  await page
    .getByText(/^Saved\./)
    .first()
    .waitFor();
  assert.equal(await page.getByLabel('Time zone').inputValue(), 'Europe/Berlin');

  // Metrics: the token is shown once and opens /metrics for a scraper.
  await page.getByRole('button', { name: 'Create token' }).click();
  const tokenBox = page.locator('input[name="metrics-token"]');
  await tokenBox.waitFor();
  const metricsToken = await tokenBox.inputValue();
  await page.getByText('credentials: picm_').waitFor();
  await shot(page, '03c-settings-metrics');
  const scrape = await fetch(`${served.url}/metrics`, {
    headers: { authorization: `Bearer ${metricsToken}` },
  });
  assert.equal(scrape.status, 200);
  assert.match(await scrape.text(), /^pic_peers 1$/m);
  assert.equal((await fetch(`${served.url}/metrics`)).status, 401);

  // The peer's own dashboard. laptop is still disabled: its login is refused and says why.
  const peerCtx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const peerPage = await peerCtx.newPage();
  await logIn(peerPage, 'laptop', password);
  await peerPage.getByText(/peer is disabled/).waitFor();
  await shot(peerPage, '04a-peer-login-disabled');
  await page.getByRole('link', { name: 'Peers' }).click();
  await page.getByRole('button', { name: 'Enable' }).click();
  await page.getByRole('button', { name: 'Disable' }).waitFor();
  await peerPage.getByRole('button', { name: 'Log in' }).click();
  await peerPage.getByRole('heading', { name: 'My account' }).waitFor();
  await peerPage.getByRole('img', { name: /QR code of the WireGuard config of laptop/ }).waitFor();
  assert.equal(await peerPage.getByRole('link', { name: 'Peers' }).count(), 0, 'no admin pages for a peer');
  // The header names the cell for a peer too (from its login: a peer cannot read the cell's config).
  assert.equal(await peerPage.getByTestId('cell-name').textContent(), 'home');
  await shot(peerPage, '04-peer-account');
  // Disabled again while the peer is logged in: My account says so, with no config or QR code.
  await page.getByRole('button', { name: 'Disable' }).click();
  await page.getByRole('button', { name: 'Enable' }).waitFor();
  await peerPage.reload();
  await peerPage.getByTestId('peer-disabled').waitFor();
  await peerPage
    .getByTestId('cell-name')
    .filter({ hasText: /^home$/ })
    .waitFor();
  assert.equal(await peerPage.getByRole('img', { name: /QR code/ }).count(), 0);
  assert.equal(await peerPage.getByText(/PrivateKey/).count(), 0);
  await shot(peerPage, '04b-peer-account-disabled');
  await peerCtx.close();

  await page.getByRole('link', { name: 'Peers' }).click();
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No peers yet.').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
