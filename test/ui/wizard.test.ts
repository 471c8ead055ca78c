// Wizard → dashboard → logout → login (wrong, then right) → phone-size and dark mode → logout, in
// Debian's Chromium. Screenshots of every step land in test-results/ui/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, type Served, servePic } from './serve.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');
const PASSWORD = 'Correct-Horse-Battery-42';

let served: Served;
let browser: Browser;

before(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run scripts/install-prereqs.sh (Debian's chromium package)`,
  );
  assert.ok(
    existsSync(join(import.meta.dirname, '..', '..', 'web', 'dist', 'index.html')),
    'web/dist is missing: run `npm run build:web`',
  );
  mkdirSync(SHOTS, { recursive: true });
  served = await servePic();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.stop();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a new owner sets up the cell, logs out, logs in and out again', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${served.url}/`);
  await page.waitForURL('**/setup');
  await page.getByRole('heading', { name: 'Set up your cell' }).waitFor();
  await shot(page, '01-setup-token');

  // A wrong token is refused by the API at the end and the wizard returns to the token step.
  await page.getByLabel('Setup token').fill('wrong-token-00000');
  await page.getByRole('button', { name: 'Next' }).click();

  // Identity: an invalid name shows its error and blocks Next.
  await page.getByLabel('Cell name').fill('Bad Name');
  await page.getByText('must be a lowercase DNS label').first().waitFor();
  await shot(page, '02-identity-invalid');
  assert.equal(await page.getByRole('button', { name: 'Next' }).isDisabled(), true);
  await page.getByLabel('Cell name').fill('home');
  await page.getByRole('button', { name: 'Next' }).click();

  // Time zone with search.
  await page.getByLabel('Search time zones').fill('Berlin');
  await page.getByLabel('Time zone', { exact: true }).selectOption('Europe/Berlin');
  await shot(page, '03-timezone');
  await page.getByRole('button', { name: 'Next' }).click();

  // Password with the strength meter.
  await page.getByLabel('Admin password').fill('password1234');
  await page.getByTestId('password-strength').getByText('Too weak').waitFor();
  await page.getByLabel('Admin password').fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await shot(page, '04-password');
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByLabel('Calendar and contacts (Radicale)').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('review').getByText('home.cell').waitFor();
  await shot(page, '05-review');

  // The wrong token comes back from the API on the token step.
  await page.getByRole('button', { name: 'Finish setup' }).click();
  await page.getByText('The setup token is wrong').waitFor();
  await shot(page, '06-wrong-token');
  await page.getByLabel('Setup token').fill(served.token);
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Finish setup' }).click();

  // Where devices will dial: shown once the admin exists, changeable, with its warnings.
  await page
    .getByTestId('wizard-endpoint')
    .getByText(/:51820$/)
    .waitFor();
  await shot(page, '06b-endpoint');
  await page.getByLabel('Endpoint devices dial').fill('192.168.1.20');
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await page.getByTestId('wizard-endpoint').getByText('192.168.1.20:51820').waitFor();
  await page.locator('[data-code="private_address"]').getByText('devices elsewhere').waitFor();
  await page.locator('[data-code="not_this_host"]').waitFor();
  await page.getByRole('link', { name: 'Change the endpoint' }).first().waitFor();
  await shot(page, '06c-endpoint-private');
  await page.getByRole('button', { name: 'Continue to the dashboard' }).click();

  await page.getByTestId('identity-name').getByText('home').waitFor();
  await page.locator('[data-code="private_address"]').first().waitFor();
  await page.getByText('The data plane is not running').waitFor();
  assert.equal(await page.getByTestId('cell-name').textContent(), 'home');
  await shot(page, '07-dashboard');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('Wrong username or password.').waitFor();
  await shot(page, '08-login-wrong');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('identity-name').getByText('home').waitFor();

  await page.getByRole('link', { name: 'Containers' }).click();
  await page.getByText('The data plane is not running').waitFor();
  await shot(page, '09-containers-without-docker');

  await page.getByRole('link', { name: 'Logs' }).click();
  await page.getByTestId('audit-table').getByText('POST /api/setup/complete').first().waitFor();
  await shot(page, '10-logs');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the dashboard works on a phone screen in dark mode', async () => {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    colorScheme: 'dark',
    isMobile: true,
  });
  const page = await context.newPage();
  await page.goto(`${served.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('identity-name').getByText('home').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('dark')), true);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, 'the page scrolls sideways at 375 px');
  await shot(page, '11-phone-dark-dashboard');
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await shot(page, '12-phone-dark-settings');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  await context.close();
});
