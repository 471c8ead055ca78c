// Settings → Domain and TLS → Advanced → "Private CA's roots (PEM)" (`directory_ca`) in the browser
// (Debian's Chromium): the roots a private ACME directory is trusted with are saved with the ACME
// settings, shown again after a reload, a text that is not PEM certificates is refused under the
// field (and the stored roots stay), and an emptied field removes them. The ACME directory is a
// server of this test on loopback that answers 404 to everything: saving stores the settings first,
// then the apply's order fails at once (a 4xx is not retried) and the change stays pending, the cell
// serving as before. Nothing leaves the machine.
// Screenshots: test-results/ui/domain-tls-directory-ca-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { certPem, createRoot } from '../../src/core/vault/x509.ts';
import { CHROMIUM, launchChromium, logIn, type Served, servePicSetUp } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';

let served: Served;
let browser: Browser;
let rootPem: string;
/** The ACME directory every apply here asks: a loopback server of this test that finds nothing. */
let acme: Server;
let directory: string;
/** What the directory was asked (method and path). */
const asked: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  mkdirSync(SHOTS, { recursive: true });
  const root = await createRoot(
    { organisation: 'Private ACME', root: 'Private ACME Root', intermediate: 'Private ACME Issuing' },
    new Date(),
    30,
  );
  rootPem = certPem(root.cert);
  acme = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:malformed', detail: 'no such directory' }));
  });
  await new Promise<void>((r) => acme.listen(0, '127.0.0.1', r));
  directory = `http://127.0.0.1:${(acme.address() as { port: number }).port}/directory`;
  served = await servePicSetUp(PASSWORD);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.stop();
  acme?.closeAllConnections();
  await new Promise((r) => acme?.close(r));
});

const tlsSettings = (page: Page) =>
  page.evaluate(async () => (await fetch('/api/tls/settings')).json()) as Promise<{
    directory_url: string;
    directory_ca: string | null;
  }>;

/** The card with the own-domain mode chosen and the advanced settings open (after a reload too). */
async function openAdvanced(page: Page): Promise<Locator> {
  const card = page.getByTestId('domain-tls');
  await card.getByTestId('tls-status').waitFor();
  const mode = card.getByLabel('Domain mode');
  if ((await mode.inputValue()) !== 'custom') {
    await mode.selectOption('custom');
    await card.getByLabel('Domain', { exact: true }).fill('home.example.org');
  }
  await card.getByRole('button', { name: 'Advanced' }).click();
  return card;
}

/** Save and apply: the settings are stored, then the apply is refused (no certificate: the directory finds nothing). */
async function saveSettings(card: Locator): Promise<void> {
  await card.getByRole('button', { name: 'Save and apply' }).click();
  await card
    .getByRole('alert')
    .getByText(/No certificate for home\.example\.org/)
    .waitFor();
}

test("the private CA's roots are saved, shown after a reload, refused when not PEM, and removed when emptied", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await logIn(page, served.url, 'admin', PASSWORD);
  await page.getByRole('link', { name: 'Settings' }).click();

  let card = await openAdvanced(page);
  const roots = () => card.getByLabel("Private CA's roots (PEM)");
  assert.equal(await roots().inputValue(), '', 'no roots at first');
  await card.getByLabel('ACME directory').fill(directory);
  await roots().fill(rootPem);
  await saveSettings(card);
  assert.equal((await tlsSettings(page)).directory_ca, rootPem, 'stored as given');

  // Persisted: a reload shows the directory and the roots again.
  await page.reload();
  card = await openAdvanced(page);
  assert.equal(await card.getByLabel('ACME directory').inputValue(), directory);
  assert.equal((await roots().inputValue()).trim(), rootPem.trim());
  await page.screenshot({ path: join(SHOTS, 'domain-tls-directory-ca-saved.png'), fullPage: true });

  // Not PEM certificates (a private key among them): refused under the field itself, nothing stored.
  await roots().fill(`${rootPem}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`);
  const applies = asked.length;
  const refused = page.waitForResponse(
    (r) => r.url().endsWith('/api/tls/settings') && r.request().method() === 'PUT',
  );
  await card.getByRole('button', { name: 'Save and apply' }).click();
  const body = await (await refused).json();
  assert.equal((await refused).status(), 400);
  assert.deepEqual(
    body.fields.map((f: { field: string }) => f.field),
    ['directory_ca'],
    'the error names the field',
  );
  const message = 'must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)';
  const fieldError = card.getByRole('alert').filter({ hasText: message });
  await fieldError.waitFor();
  assert.equal(await roots().getAttribute('aria-invalid'), 'true');
  const errorId = await fieldError.getAttribute('id');
  assert.ok(errorId, 'the error has an id');
  assert.ok(
    ((await roots().getAttribute('aria-describedby')) ?? '').split(' ').includes(errorId),
    'the field is described by its error',
  );
  await page.screenshot({ path: join(SHOTS, 'domain-tls-directory-ca-refused.png'), fullPage: true });
  assert.equal((await tlsSettings(page)).directory_ca, rootPem, 'the stored roots stay');
  assert.equal(asked.length, applies, 'nothing was applied');

  // Emptied: the roots are removed (the system's only), and stay removed after a reload.
  await roots().fill('');
  await saveSettings(card);
  assert.equal(await roots().getAttribute('aria-invalid'), null, 'the field error is gone');
  assert.equal((await tlsSettings(page)).directory_ca, null);
  await page.reload();
  card = await openAdvanced(page);
  assert.equal(await roots().inputValue(), '');
  assert.equal(await card.getByLabel('ACME directory').inputValue(), directory, 'the directory stays');

  const status = await page.evaluate(async () => (await fetch('/api/tls/status')).json());
  assert.equal(status.mode, 'local', 'the cell still serves in local mode');
  assert.ok(asked.length > 0, 'the applies asked the loopback directory');
  assert.ok(
    asked.every((a) => a === 'GET /directory'),
    asked.join(', '),
  );
  assert.deepEqual(errors, []);
  await context.close();
});
