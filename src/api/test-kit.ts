// Helpers for the API tests (not shipped behaviour): a real cell in a temp dir, the Fastify app on
// top of it, and the few steps most tests need (complete setup, log in, read cookies). Everything
// goes through inject(): a real database, real Argon2, real hooks — no mocks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Cell, type CellOptions, createCell } from '../composition.ts';
import { type AppOptions, buildApp } from './app.ts';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface Kit {
  dir: string;
  cell: Cell;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function makeKit(
  appOpts: AppOptions = {},
  cellOpts: Partial<CellOptions> = {},
  dir: string = mkdtempSync(join(tmpdir(), 'pic-api-')),
): Promise<Kit> {
  const cell = createCell({ dataDir: join(dir, 'data'), ...cellOpts });
  const app = await buildApp(cell.deps, appOpts);
  await app.ready();
  return {
    dir,
    cell,
    app,
    async close() {
      await app.close();
      cell.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `name=value` pair of the session cookie a response set (the one with a value). */
export function sessionCookieOf(res: LightMyRequestResponse): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  for (const c of list) {
    const pair = c.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(eq + 1) !== '') return pair;
  }
  return undefined;
}

export function setCookies(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

export interface Login {
  cookie: string;
  csrf: string;
}

export function setupBody(token: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    token,
    cell_name: 'home',
    domain_mode: 'local',
    timezone: 'Europe/Berlin',
    admin_password: ADMIN_PASSWORD,
    services: [],
    ...over,
  };
}

/** Completes first-run setup through the API; returns the admin's session. */
export async function completeSetup(kit: Kit, over: Record<string, unknown> = {}): Promise<Login> {
  const token = kit.cell.deps.setup.issueToken();
  if (!token) throw new Error('setup already complete');
  const res = await kit.app.inject({
    method: 'POST',
    url: '/api/setup/complete',
    payload: setupBody(token, over),
  });
  if (res.statusCode !== 201) throw new Error(`setup failed: ${res.statusCode} ${res.body}`);
  return { cookie: sessionCookieOf(res)!, csrf: res.json().csrf_token };
}

export async function login(
  app: FastifyInstance,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Login> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    headers,
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return { cookie: sessionCookieOf(res)!, csrf: res.json().csrf_token };
}

/** Headers of a same-origin browser call made with a session. */
export const authed = (s: Login, extra: Record<string, string> = {}) => ({
  cookie: s.cookie,
  'x-csrf-token': s.csrf,
  ...extra,
});
