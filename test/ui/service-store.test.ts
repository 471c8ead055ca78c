// The Service Store page in the browser against `pic serve` (no Docker): the catalog's built-in
// services show as cards with what they need and their state, and Install says plainly why it cannot
// run here instead of failing silently. Installing for real is the e2e tier's (a cell on Docker).
// Screenshots land in test-results/ui/store-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, logIn, type Served, servePicSetUp } from './serve.ts';

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

test('the store lists the catalog, and Install without Docker says why it cannot run', async () => {
  const page = await browser.newPage();
  await logIn(page, served.url, 'admin', PASSWORD);
  await page.getByTestId('cell-name').waitFor();

  await page.getByRole('link', { name: /Service Store/ }).click();
  await page.getByRole('heading', { name: 'Service Store' }).waitFor();
  const calendar = page.getByTestId('store-card-calendar');
  const files = page.getByTestId('store-card-files');
  await calendar.waitFor();
  await files.waitFor();
  assert.equal(await page.getByTestId('store-state-calendar').textContent(), 'not installed');
  assert.match((await calendar.textContent()) ?? '', /CalDAV|calendar/i);
  await page.screenshot({ path: join(SHOTS, 'store-catalog.png'), fullPage: true });

  await calendar.getByRole('button', { name: 'Install' }).click();
  const banner = page.getByRole('alert');
  await banner.waitFor();
  assert.match((await banner.textContent()) ?? '', /Docker/i);
  // Nothing changed: still not installed.
  assert.equal(await page.getByTestId('store-state-calendar').textContent(), 'not installed');
  await page.screenshot({ path: join(SHOTS, 'store-no-docker.png'), fullPage: true });
  await page.close();
});
