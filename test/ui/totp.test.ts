// Two-factor login in the browser (Debian's Chromium): the owner turns it on in Settings → Security
// (QR code and secret, a code from the app, recovery codes shown once), logs out, and logs in again with
// the password and then a code; a wrong code is refused on the way. Codes are made here with otpauth
// from the secret the page shows, as an authenticator app would. Screenshots: test-results/ui/totp-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
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

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `totp-${name}.png`), fullPage: true });

async function passwordStep(page: Page): Promise<void> {
  await page.goto(`${served.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('turn two-factor on in Settings, log out, log in with the password and then a code', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await passwordStep(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  const card = page.getByRole('region', { name: 'Security' });
  await card.getByText('It is off.').waitFor();
  await card.getByRole('button', { name: 'Set up two-factor login' }).click();
  await card.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  const secret = (await card.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const app = new TOTP({ secret: Secret.fromBase32(secret) });
  await shot(page, '01-setup');

  // A wrong code is named under the field and turns nothing on.
  const wrong = app.generate({ timestamp: Date.now() + 10 * 30_000 });
  await card.getByLabel('Code from the app').fill(wrong);
  // A stolen session alone cannot turn it on: the password is asked for too.
  await card.getByLabel('Your password').fill(PASSWORD);
  await card.getByRole('button', { name: 'Turn on' }).click();
  await card.getByText('does not match').waitFor();

  await card.getByLabel('Code from the app').fill(app.generate());
  await card.getByRole('button', { name: 'Turn on' }).click();
  const codesBox = card.getByTestId('recovery-codes');
  await codesBox.waitFor();
  const codes = (await codesBox.inputValue()).split('\n');
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  await card.getByText('they are not shown again').waitFor();
  await card.getByRole('button', { name: 'Copy codes' }).click();
  await card.getByRole('button', { name: 'Copied' }).waitFor();
  await shot(page, '02-recovery-codes');
  await card.getByRole('button', { name: 'I saved them' }).click();
  await card.getByText('It is on.').waitFor();
  assert.equal(await codesBox.count(), 0, 'the codes are gone once dismissed');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();

  // The password first, then the code it asks for.
  await passwordStep(page);
  const codeField = page.getByLabel('Code');
  await codeField.waitFor();
  await page.getByText('Two-factor login is on for').waitFor();
  await shot(page, '03-code-step');
  await codeField.fill(wrong);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Wrong or already used code').waitFor();
  // The code that turned two-factor on is spent: the app's next one logs in.
  await codeField.fill(app.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('link', { name: 'Settings' }).waitFor();
  const me = await page.request.get(`${served.url}/api/auth/me`);
  assert.equal(me.status(), 200);
  assert.equal((await me.json()).totp_enabled, true);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('region', { name: 'Security' }).getByText('It is on.').waitFor();
  await shot(page, '04-logged-in');

  assert.deepEqual(errors, []);
  await context.close();
});
