// A store service's own page and the peer's mail settings in Chromium, against `pic serve` (no
// Docker): the store cannot install email here, so the browser's requests for what an installed
// email would answer (the active list, its catalog item, accounts, settings, status, DNS records, the
// peer's accounts) are answered by Playwright with the shapes the API serves (schema/service-hooks.ts,
// schema/service-accounts.ts); everything else (login, session, CSRF, config) is the real API.
// Covered: the settings form built from the manifest's fields (a 400 shown next to its field, the
// secret write-only with Clear, aliases as a table, applied: false shown with the service's reason),
// the status card's queue and smarthost, the DNS records card (copy, badges, the custom mode's
// sentence), the sidebar (email's page, webmail at https://mail.<domain>), and the peer's address,
// servers and profile link. Screenshots land in test-results/ui/service-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { myServiceAccountsSchema } from '../../src/schema/service-accounts.ts';
import {
  serviceDnsRecordsSchema,
  serviceStatusSchema,
  settingsViewSchema,
} from '../../src/schema/service-hooks.ts';
import { catalogItemSchema } from '../../src/schema/service-store.ts';
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

const json = (route: Route, body: unknown, status = 200) =>
  route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** An answer in the API's own shape: parsed by the route's response schema before it is served. */
const answer = (schema: { parse(v: unknown): unknown }) => (route: Route, body: unknown) =>
  json(route, schema.parse(body));
const settingsAnswer = answer(settingsViewSchema);

const FIELDS = [
  { key: 'smarthost_host', type: 'host', label: 'Smarthost', help: 'Where outbound mail goes.' },
  { key: 'smarthost_port', type: 'port', label: 'Smarthost port', default: 587 },
  { key: 'smarthost_username', type: 'text', label: 'Smarthost username' },
  { key: 'smarthost_password', type: 'secret', label: 'Smarthost password' },
  {
    key: 'smarthost_verify',
    type: 'boolean',
    label: "Check the smarthost's certificate",
    help: 'Turn off only for a relay on your own network with a self-signed certificate.',
    default: true,
  },
  { key: 'quota_mb', type: 'integer', label: 'Mailbox quota (MB)', min: 10, max: 1048576, default: 1024 },
  { key: 'aliases', type: 'aliases', label: 'Aliases' },
];

const catalogItem = (id: string, name: string, accounts: boolean) => ({
  id,
  name,
  description: `${name} for the cell's peers.`,
  version: '1.0.0',
  kind: 'app',
  requires: id === 'webmail' ? ['email'] : [],
  installed: true,
  state: 'running',
  subdomains: id === 'webmail' ? ['mail.home.cell'] : [],
  accounts,
  source: 'builtin',
});

/** What an installed email answers, with the PUTs it received. */
async function fakeEmail(page: Page) {
  const puts: Array<Record<string, unknown>> = [];
  let view = {
    fields: FIELDS,
    values: {
      smarthost_host: null,
      smarthost_port: 587,
      smarthost_username: null,
      smarthost_verify: true,
      quota_mb: 1024,
      aliases: [{ alias: 'info', to: 'alice' }],
    },
    secrets_set: { smarthost_password: true },
    applied: true,
    apply_error: null as string | null,
  };
  await page.route('**/api/services/active', (r) =>
    json(r, {
      services: [
        { id: 'email', name: 'Email', state: 'running', url: null },
        { id: 'webmail', name: 'Webmail', state: 'running', url: 'https://mail.home.cell' },
      ],
    }),
  );
  await page.route('**/api/services/catalog', (r) =>
    json(r, { services: [catalogItem('email', 'Email', true), catalogItem('webmail', 'Webmail', false)] }),
  );
  await page.route('**/api/services/catalog/email', (r) =>
    answer(catalogItemSchema)(r, catalogItem('email', 'Email', true)),
  );
  await page.route('**/api/services/email/accounts', (r) =>
    json(r, {
      service: 'email',
      accounts: [
        { username: 'alice', created_at: '2026-12-01T10:00:00Z', in_service: true },
        { username: 'bob', created_at: '2026-12-01T10:00:00Z', in_service: true },
      ],
    }),
  );
  await page.route('**/api/services/email/settings', async (r) => {
    if (r.request().method() === 'GET') return settingsAnswer(r, view);
    const body = r.request().postDataJSON() as { values: Record<string, unknown> };
    puts.push(body.values);
    if (body.values.quota_mb === 5)
      return json(
        r,
        {
          error: 'validation_failed',
          message: 'Invalid values.quota_mb',
          fields: [{ field: 'values.quota_mb', message: 'must be from 10 to 1048576' }],
        },
        400,
      );
    const { smarthost_password, ...values } = body.values;
    view = {
      ...view,
      values: { ...view.values, ...(values as typeof view.values) },
      secrets_set: {
        smarthost_password:
          smarthost_password === undefined
            ? view.secrets_set.smarthost_password
            : smarthost_password !== null,
      },
      applied: false,
      apply_error: 'postfix reload failed: smarthost smtp.example.org does not resolve',
    };
    return settingsAnswer(r, view);
  });
  await page.route('**/api/services/email/status', (r) =>
    answer(serviceStatusSchema)(r, {
      status: {
        queue: [
          {
            id: '4Fq2kL0xyz',
            arrival: '2026-12-03T09:15:00Z',
            size: 2048,
            sender: 'alice@home.cell',
            recipients: ['carol@example.org'],
            reason: 'connect to example.org[192.0.2.10]:25: Connection timed out',
          },
        ],
        smarthost: null,
      },
      error: null,
    }),
  );
  await page.route('**/api/services/email/dns-records', (r) =>
    answer(serviceDnsRecordsSchema)(r, {
      records: [
        {
          name: '@',
          fqdn: 'example.org.',
          type: 'MX',
          value: '10 mail.example.org.',
          in_zone: true,
          public: 'match',
        },
        {
          name: 'pic._domainkey',
          fqdn: 'pic._domainkey.example.org.',
          type: 'TXT',
          value: 'v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA',
          in_zone: true,
          public: 'missing',
        },
        {
          name: '_dmarc',
          fqdn: '_dmarc.example.org.',
          type: 'TXT',
          value: 'v=DMARC1; p=quarantine; adkim=s; aspf=s',
          in_zone: false,
          public: 'differs',
        },
      ],
    }),
  );
  // The real config, shown as a cell in the custom mode (the sentence about the registrar).
  await page.route('**/api/config', async (r) => {
    if (r.request().method() !== 'GET') return r.fallback();
    const real = await r.fetch();
    const body = (await real.json()) as { identity: Record<string, unknown> };
    body.identity.domain_mode = 'custom';
    body.identity.domain = 'example.org';
    return json(r, body);
  });
  return { puts };
}

test('the email page: settings from the manifest (a 400 by its field, the secret write-only, aliases), the queue, the records', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const { puts } = await fakeEmail(page);
  await logIn(page, served.url, 'admin', PASSWORD);
  await page.getByTestId('cell-name').waitFor();

  // The sidebar: email opens its page in the UI; webmail opens at its own address.
  const nav = page.getByTestId('nav-services');
  await nav.waitFor();
  assert.equal(
    await nav.getByRole('link', { name: 'Webmail' }).getAttribute('href'),
    'https://mail.home.cell',
  );
  await nav.getByRole('link', { name: 'Email' }).click();
  await page.getByRole('heading', { name: 'Email', exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/services/email');
  // The Service Store entry is marked as the current section.
  assert.equal(
    await page
      .getByRole('link', { name: /Service Store/ })
      .first()
      .getAttribute('aria-current'),
    'page',
  );

  // Settings: each field by its label, with its value and bounds.
  const form = page.getByTestId('service-settings');
  await form.waitFor();
  assert.equal(await form.getByLabel('Smarthost port').inputValue(), '587');
  assert.equal(await form.getByLabel('Mailbox quota (MB)').getAttribute('min'), '10');
  assert.equal(await page.getByTestId('secret-state-smarthost_password').textContent(), 'set');
  assert.equal(
    await form.getByLabel('Smarthost password', { exact: true }).inputValue(),
    '',
    'a secret is never shown',
  );
  assert.equal(await form.getByLabel('Alias 1', { exact: true }).inputValue(), 'info');
  assert.equal(await form.getByLabel('Account for alias 1').inputValue(), 'alice');

  // A value the API refuses: its message next to the field, nothing else changes.
  await form.getByLabel('Mailbox quota (MB)').fill('5');
  await form.getByRole('button', { name: 'Save settings' }).click();
  const quotaError = form.getByText('must be from 10 to 1048576');
  await quotaError.waitFor();
  const describedBy = await form.getByLabel('Mailbox quota (MB)').getAttribute('aria-describedby');
  assert.ok(
    describedBy &&
      (await quotaError.getAttribute('id')) &&
      describedBy.includes((await quotaError.getAttribute('id'))!),
  );
  assert.equal(await form.getByLabel('Mailbox quota (MB)').getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: join(SHOTS, 'service-email-400.png'), fullPage: true });

  // A good save: smarthost, a new alias to bob, the secret left alone; the service did not take it.
  await form.getByLabel('Mailbox quota (MB)').fill('2048');
  await form.getByLabel('Smarthost', { exact: true }).fill('smtp.example.org');
  await form.getByRole('button', { name: 'Add alias' }).click();
  await form.getByLabel('Alias 2', { exact: true }).fill('postmaster');
  await form.getByLabel('Account for alias 2').selectOption('bob');
  // The certificate check is on as applied; the owner turns it off for a self-signed LAN relay.
  const verify = form.getByLabel("Check the smarthost's certificate");
  assert.equal(await verify.isChecked(), true);
  await verify.uncheck();
  await form.getByRole('button', { name: 'Save settings' }).click();
  const notApplied = page.getByTestId('settings-not-applied');
  await notApplied.waitFor();
  assert.match((await notApplied.textContent()) ?? '', /does not resolve/);
  const saved = puts.at(-1)!;
  assert.deepEqual(saved, {
    smarthost_host: 'smtp.example.org',
    smarthost_port: 587,
    smarthost_username: null,
    smarthost_verify: false,
    quota_mb: 2048,
    aliases: [
      { alias: 'info', to: 'alice' },
      { alias: 'postmaster', to: 'bob' },
    ],
  });
  assert.ok(!('smarthost_password' in saved), 'an untouched secret is not sent');

  // The secret: a new value is sent as typed; Clear sends null, and the state says so.
  await form.getByLabel('Smarthost password', { exact: true }).fill('app-password-1');
  await form.getByRole('button', { name: 'Save settings' }).click();
  assert.equal((await waitFor(() => puts.length >= 3 && puts[2])).smarthost_password, 'app-password-1');
  await form.getByRole('button', { name: 'Clear Smarthost password' }).click();
  assert.equal(
    await page.getByTestId('secret-state-smarthost_password').textContent(),
    'will be cleared on save',
  );
  await form.getByRole('button', { name: 'Save settings' }).click();
  assert.equal((await waitFor(() => puts.length >= 4 && puts[3])).smarthost_password, null);
  await page
    .getByTestId('secret-state-smarthost_password')
    .filter({ hasText: /^not set$/ })
    .waitFor();

  // Status: the queue with why each message waits, and no smarthost.
  const status = page.getByTestId('service-status');
  await status.waitFor();
  const queue = page.getByTestId('mail-queue');
  assert.match((await queue.textContent()) ?? '', /carol@example\.org/);
  assert.match((await queue.textContent()) ?? '', /Connection timed out/);
  assert.match((await page.getByTestId('smarthost').textContent()) ?? '', /no smarthost/);

  // DNS records: name and fqdn, value, copy buttons, badges, what to do at the registrar.
  const dns = page.getByTestId('service-dns');
  await dns.waitFor();
  assert.match((await page.getByTestId('dns-what-to-do').textContent()) ?? '', /registrar/);
  const dkim = page.getByTestId('dns-record-TXT-pic._domainkey');
  assert.match((await dkim.textContent()) ?? '', /pic\._domainkey\.example\.org\./);
  assert.equal(await dkim.getByTestId('public').textContent(), 'Not published');
  assert.equal(await dkim.getByTestId('in-zone').textContent(), "In the cell's zone");
  const dmarc = page.getByTestId('dns-record-TXT-_dmarc');
  assert.equal(await dmarc.getByTestId('in-zone').textContent(), 'Not in the zone');
  assert.equal(await dmarc.getByTestId('public').textContent(), 'Published, different value');
  assert.equal(await page.getByTestId('dns-record-MX-@').getByTestId('public').textContent(), 'Published');
  const copy = dkim.getByRole('button', { name: /Copy the value/ });
  await copy.click();
  await copy.filter({ hasText: 'Copied' }).waitFor();
  assert.equal(
    await page.evaluate(() => navigator.clipboard.readText()),
    'v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA',
  );
  await page.screenshot({ path: join(SHOTS, 'service-email.png'), fullPage: true });

  // Narrow screen: the page still reads (no horizontal overflow of the page itself).
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page overflows by ${overflow}px at 375px`);
  await page.screenshot({ path: join(SHOTS, 'service-email-narrow.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the Service Store card of an installed service links to its page', async () => {
  const page = await browser.newPage();
  await fakeEmail(page);
  await logIn(page, served.url, 'admin', PASSWORD);
  await page.getByTestId('cell-name').waitFor();
  await page.getByRole('link', { name: /Service Store/ }).click();
  await page.getByTestId('store-card-email').getByRole('link', { name: 'Manage Email' }).click();
  await page.getByTestId('service-page-email').waitFor();
  await page.getByTestId('service-settings').waitFor();
  await page.close();
});

test('the peer sees its address, the IMAP and SMTP servers to type in, its password on demand and the profile', async () => {
  // A real peer with a login, through the API.
  const login = await fetch(`${served.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .filter((c) => !c.endsWith('='))
    .join('; ');
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const made = await fetch(`${served.url}/api/peers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf_token, origin: served.url },
    body: JSON.stringify({ name: 'alice', routing: 'split' }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  const { password } = (await made.json()) as { password: string };

  const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
  const mailPassword = 'Mail-Pass-7f3k2q9z';
  await page.route('**/api/peer/services', (r) =>
    answer(myServiceAccountsSchema)(r, {
      accounts: [
        {
          service: 'email',
          name: 'Email',
          username: 'alice',
          password: mailPassword,
          url: null,
          client: {
            address: 'alice@home.cell',
            servers: [
              {
                protocol: 'imap',
                host: 'mail.home.cell',
                port: 993,
                security: 'tls',
                username: 'alice@home.cell',
              },
              {
                protocol: 'smtp',
                host: 'mail.home.cell',
                port: 587,
                security: 'starttls',
                username: 'alice@home.cell',
              },
            ],
            profile: '/api/peer/services/email/mobileconfig',
          },
        },
      ],
    }),
  );
  await logIn(page, served.url, 'alice', password);
  await page.getByRole('heading', { name: 'My account' }).waitFor();
  const mine = page.getByTestId('my-service-email');
  await mine.waitFor();
  assert.equal(await mine.getByTestId('mail-address').textContent(), 'alice@home.cell');
  const imap = await mine.getByTestId('server-imap').textContent();
  assert.match(imap ?? '', /IMAP.*mail\.home\.cell.*993.*SSL\/TLS.*alice@home\.cell/);
  const smtp = await mine.getByTestId('server-smtp').textContent();
  assert.match(smtp ?? '', /SMTP.*mail\.home\.cell.*587.*STARTTLS.*alice@home\.cell/);
  assert.ok(!((await mine.textContent()) ?? '').includes(mailPassword), 'hidden until asked');
  await mine.getByRole('button', { name: 'Show' }).click();
  await mine.getByText(mailPassword).waitFor();
  assert.equal(
    await mine.getByRole('link', { name: /iPhone, iPad or Mac/ }).getAttribute('href'),
    '/api/peer/services/email/mobileconfig',
  );
  await page.screenshot({ path: join(SHOTS, 'service-peer-email.png'), fullPage: true });
  await page.close();
});

async function waitFor<T>(check: () => T | false | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
