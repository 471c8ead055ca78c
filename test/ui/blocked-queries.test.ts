// Blocked queries in the browser (Debian's Chromium) against `pic serve` without Docker: two peers
// added through the Peers page; counts stored as cell-api stores the drains of cell-dns (rows of
// dns_blocked_hourly written into the served cell's database, since no cell-dns runs here). Network
// Services → Blocklists shows the total, each peer's count and the names blocked most, per period; the
// Peers page shows each peer's count of the last 24 hours; "Reset counts" (after confirming) empties
// them. Screenshots: test-results/ui/blocked-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
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

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `blocked-${name}.png`), fullPage: true });

/** Counts hours ago, as BlockedStatsService adds them after a drain. */
function storeCounts(
  rows: Array<[hoursAgo: number, address: string, peer: string, name: string, count: number]>,
) {
  const db = new DatabaseSync(join(served.dataDir, 'cell.db'));
  db.exec('PRAGMA busy_timeout = 5000');
  const now = Math.floor(Date.now() / 3_600_000);
  const add = db.prepare(
    'INSERT INTO dns_blocked_hourly (hour, address, peer, name, count) VALUES (?, ?, ?, ?, ?)',
  );
  for (const [ago, address, peer, name, count] of rows) add.run(now - ago, address, peer, name, count);
  // Counting starts when the table is made (this cell is new): as if it had counted for ten days.
  db.prepare('UPDATE dns_blocked_meta SET reset_at = ?').run(
    new Date(Date.now() - 10 * 86_400_000).toISOString(),
  );
  db.close();
}

test('blocked queries per peer on Network Services and Peers; a reset empties them', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await logIn(page, served.url, 'admin', PASSWORD);
  await page.getByRole('link', { name: 'Peers' }).click();
  await page.getByRole('heading', { name: 'Peers', exact: true }).waitFor();
  for (const name of ['phone', 'laptop']) {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Add peer' }).click();
    await page.getByRole('img', { name: new RegExp(`QR code of the WireGuard config of ${name}`) }).waitFor();
  }
  const peers = (await (await page.request.get(`${served.url}/api/peers`)).json()) as Array<{
    name: string;
    address: string;
  }>;
  const at = (n: string) => peers.find((p) => p.name === n)!.address;
  storeCounts([
    [0, at('phone'), 'phone', 'ads.example', 5],
    [0, at('phone'), 'phone', 'tracker.example', 2],
    [0, at('laptop'), 'laptop', 'ads.example', 1],
    [48, at('laptop'), 'laptop', 'old.example', 4],
  ]);

  await page.reload();
  await page.getByText('7 blocked (24 h)').waitFor();
  await page.getByText('1 blocked (24 h)').waitFor();
  await shot(page, '01-peers');

  await page.getByRole('link', { name: 'Network Services' }).click();
  const section = page.getByRole('region', { name: 'Blocked queries' });
  await section
    .getByRole('status', { name: 'Blocked queries total' })
    .getByText(/^8 queries blocked since/)
    .waitFor();
  const phoneRow = section.getByRole('row', { name: /phone/ });
  await phoneRow.getByRole('cell', { name: '7', exact: true }).waitFor();
  await phoneRow.getByText('ads.example (5), tracker.example (2)').waitFor();
  await section
    .getByRole('row', { name: /laptop/ })
    .getByText('ads.example (1)')
    .waitFor();
  await shot(page, '02-network-24h');

  await section.getByLabel('Period').selectOption('7d');
  await section
    .getByRole('status', { name: 'Blocked queries total' })
    .getByText(/^12 queries blocked since/)
    .waitFor();
  await section
    .getByRole('row', { name: /laptop/ })
    .getByText('old.example (4), ads.example (1)')
    .waitFor();
  await shot(page, '03-network-7d');

  page.once('dialog', (d) => void d.accept());
  await section.getByRole('button', { name: 'Reset counts' }).click();
  await section
    .getByRole('status', { name: 'Blocked queries total' })
    .getByText(/^0 queries blocked since/)
    .waitFor();
  await shot(page, '04-reset');
  assert.deepEqual(errors, []);
  await context.close();
});
