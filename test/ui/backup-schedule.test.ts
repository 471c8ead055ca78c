// Settings → Backups → Schedule and off-host copies, in Debian's Chromium against `pic serve`: the owner
// turns the daily backup on with a stored passphrase, adds a directory target (a mounted disk, here a
// temp directory under /srv: targets must be under /mnt/, /media/ or /srv/; the tests run as root), tests it (a probe written, listed and removed), sees the secret never shown again,
// and removes the target. A target without encryption cannot be added. An S3 target on loopback is
// refused until the owner ticks "Allow an endpoint on this machine…" (allow_private_endpoint); adding
// one contacts nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, type Served, servePicSetUp } from './serve.ts';

const PASSWORD = 'Correct-Horse-Battery-42';

let served: Served;
let browser: Browser;
let disk: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-prereqs.sh`);
  served = await servePicSetUp(PASSWORD);
  browser = await launchChromium();
  mkdirSync('/srv', { recursive: true });
  disk = mkdtempSync('/srv/pic-ui-test-');
});

after(async () => {
  await browser?.close();
  await served?.stop();
  if (disk) rmSync(disk, { recursive: true, force: true });
});

test('daily backups with a stored passphrase, a directory target tested and removed, an S3 target on loopback allowed on purpose', async () => {
  const page = await browser.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${served.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('cell-name').waitFor();
  await page.goto(`${served.url}/settings/backups`);
  const card = page.getByTestId('backup-schedule');
  await card.waitFor();

  // No encryption yet: targets cannot be added.
  await card.getByText('Set a recipient or a passphrase first').waitFor();

  const schedule = card.getByRole('form', { name: 'Backup schedule' });
  await schedule.getByLabel('Back up every day').check();
  await schedule.getByRole('radio', { name: 'Passphrase' }).check();
  await schedule.getByRole('textbox', { name: 'Passphrase' }).fill('short');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await card
    .getByText(/at least 12/i)
    .first()
    .waitFor();
  await schedule.getByRole('textbox', { name: 'Passphrase' }).fill('a stored schedule passphrase');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await card.getByText(/Saved\. Next backup:/).waitFor();

  const add = card.getByRole('form', { name: 'Add a backup target' });
  await add.getByLabel('Directory').fill(disk);
  await add.getByRole('button', { name: 'Add target' }).click();
  const row = card.getByTestId('backup-target');
  await row.getByText(disk).waitFor();
  await row.getByRole('button', { name: 'Test' }).click();
  await row.getByText('Test passed').waitFor({ timeout: 30_000 });
  assert.deepEqual(readdirSync(disk), [], 'the probe is removed after the test');

  // The stored passphrase is never sent back to the browser.
  const view = await page.evaluate(async () => (await fetch('/api/config/backups/schedule')).text());
  assert.ok(!view.includes('a stored schedule passphrase'));
  assert.match(view, /"passphrase_set":true/);

  await row.getByRole('button', { name: 'Remove' }).click();
  await row.waitFor({ state: 'detached' });

  // An S3 endpoint on this machine: refused, then accepted on purpose.
  await add.getByLabel('Kind').selectOption('s3');
  await add.getByLabel('Endpoint', { exact: true }).fill('http://127.0.0.1:9');
  await add.getByLabel('Region').fill('us-east-1');
  await add.getByLabel('Bucket').fill('pic-ui-test');
  await add.getByLabel('Access key id').fill('PICUITESTKEY');
  await add.getByLabel('Secret access key').fill('pic-ui-test-secret');
  await add.getByRole('button', { name: 'Add target' }).click();
  await add.getByText(/is this machine \(loopback\).*allow_private_endpoint/).waitFor();
  const allow = add.getByLabel("Allow an endpoint on this machine or the cell's own networks");
  assert.equal(await allow.isChecked(), false);
  await allow.check();
  await add.getByRole('button', { name: 'Add target' }).click();
  const s3 = card.getByTestId('backup-target');
  await s3.getByText('http://127.0.0.1:9/pic-ui-test').waitFor();
  const stored = await page.evaluate(async () => (await fetch('/api/config/backups/schedule')).text());
  assert.match(stored, /"allow_private_endpoint":true/);
  assert.ok(!stored.includes('pic-ui-test-secret'));
  assert.equal(await allow.isChecked(), false, 'the form is reset after adding');
  await s3.getByRole('button', { name: 'Remove' }).click();
  await s3.waitFor({ state: 'detached' });
  await page.close();
});
