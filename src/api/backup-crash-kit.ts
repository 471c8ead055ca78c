// Helpers of the backup crash test (backup-crash.int.test.ts; not shipped behaviour): a cell served
// by a `pic serve` child with two secret markers (a file in secrets/, a TXT record in the database),
// snapshots of everything a restore swaps, the job's progress, and what a kill may leave on disk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  filesUnder,
  GZIP_MAGIC,
  killAll,
  type Reply,
  type ServeProcess,
  type Session,
  secretHolders,
  startServe,
  startSession,
} from './serve-process-kit.ts';

/** A low scrypt work factor (a test knob of the composition root): passphrases cost milliseconds. */
export const KNOBS = { PIC_BACKUP_SCRYPT_WORK_FACTOR: '10' };
export const PASS = 'a long backup passphrase';
/** Incompressible bytes in data/bulk, so a backup and a restore take long enough to be caught. */
const BULK = { files: 8, bytes: 4 << 20 };
const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0');
const LEFTOVER = /(\.partial-|restore-staging-|backup-snapshot-|restore-journal\.json|\.pic-tmp-)/;

export interface Cell {
  /** The cell's directory: data/ and config/ beside it. */
  root: string;
  data: string;
  password: string;
  markers: string[];
  server: ServeProcess;
  session: Session;
}

export interface Snapshot {
  cell_name: string;
  peers: { name: string; public_key: string; address: string }[];
  users: { username: string; role: string; password_hash: string }[];
  dns: { name: string; type: string; value: string }[];
  ca: string;
  certs: string[];
  wireguard_key: string;
  marker: string;
}

const cells: Cell[] = [];
const markers = () => cells.flatMap((c) => c.markers);

/** Kills every server still running and deletes the cells' directories (an after() hook). */
export async function cleanUp(): Promise<void> {
  await killAll();
  for (const c of cells) rmSync(c.root, { recursive: true, force: true });
}

export const ok = (r: Reply, status: number) => {
  assert.equal(r.status, status, r.text);
  return r.json;
};
export const api = (
  cell: Cell,
  method: string,
  path: string,
  body?: unknown,
  session: Session = cell.session,
) => cell.server.call(method, path, body, session);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = () => randomBytes(16).toString('hex');

export async function newCell(name: string, password: string, peers: string[], bulk: boolean): Promise<Cell> {
  const root = mkdtempSync(join(tmpdir(), `pic-crash-${name}-`));
  const data = join(root, 'data');
  mkdirSync(join(data, 'secrets'), { recursive: true, mode: 0o700 });
  const fileMarker = `file-marker-${hex()}`;
  const dbMarker = `db-marker-${hex()}`;
  writeFileSync(join(data, 'secrets', 'marker'), fileMarker, { mode: 0o600 });
  if (bulk) {
    mkdirSync(join(data, 'bulk'));
    for (let i = 0; i < BULK.files; i++) writeFileSync(join(data, 'bulk', `b${i}`), randomBytes(BULK.bytes));
  }
  const server = await startServe(data, KNOBS);
  const token = await server.setupToken();
  const session = await startSession(server.url, '/api/setup/complete', {
    token,
    cell_name: name,
    domain_mode: 'local',
    timezone: 'UTC',
    admin_password: password,
    services: [],
  });
  const cell: Cell = { root, data, password, markers: [fileMarker, dbMarker], server, session };
  cells.push(cell);
  for (const peer of peers) ok(await api(cell, 'POST', '/api/peers?qr=false', { name: peer }), 201);
  ok(await api(cell, 'POST', '/api/dns/records', { name: 'marker', type: 'TXT', value: dbMarker }), 201);
  ok(await api(cell, 'POST', '/api/vault/certs', { common_name: `nas.${name}.cell` }), 201);
  return cell;
}

export const login = (cell: Cell) =>
  startSession(cell.server.url, '/api/auth/login', { username: 'admin', password: cell.password });

async function text(cell: Cell, path: string): Promise<string> {
  const r = await api(cell, 'GET', path);
  ok(r, 200);
  return r.text;
}

/** The users as the database file holds them (read-only; no API lists them). */
export function usersOf(cell: Cell): Snapshot['users'] {
  const db = new DatabaseSync(join(cell.data, 'cell.db'), { readOnly: true });
  try {
    return (
      db
        .prepare('SELECT username, role, password_hash FROM users ORDER BY username')
        .all() as Snapshot['users']
    ).map((u) => ({ username: u.username, role: u.role, password_hash: u.password_hash }));
  } finally {
    db.close();
  }
}

export async function snapshot(cell: Cell): Promise<Snapshot> {
  const users = usersOf(cell);
  const get = async (path: string) => ok(await api(cell, 'GET', path), 200);
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return {
    cell_name: (await get('/api/config')).identity.cell_name,
    peers: ((await get('/api/peers')) as Snapshot['peers'])
      .map((p) => ({ name: p.name, public_key: p.public_key, address: p.address }))
      .sort(byName),
    users,
    dns: ((await get('/api/dns/records')) as Snapshot['dns'])
      .map((r) => ({ name: r.name, type: r.type, value: r.value }))
      .sort(byName),
    ca: await text(cell, '/api/vault/ca.crt'),
    certs: ((await get('/api/vault/certs')) as { serial: string; common_name: string }[])
      .map((c) => `${c.serial} ${c.common_name}`)
      .sort(),
    wireguard_key: (await get('/api/wireguard/status')).public_key,
    marker: readFileSync(join(cell.data, 'secrets', 'marker'), 'utf8'),
  };
}

/** The job of a backup id; a 401 (a restore ended every session) is `undefined`. */
export async function job(cell: Cell, id: string) {
  const r = await api(cell, 'GET', `/api/config/backups/${id}`);
  if (r.status === 401) return undefined;
  return ok(r, 200).job as { phase: string; bytes_done: number; bytes_total: number | null; error: string };
}

/** Polls the job until `at` holds; fails when the job ends first (the moment to kill was missed). */
export async function pollUntil(
  cell: Cell,
  id: string,
  what: string,
  at: (j: Awaited<ReturnType<typeof job>>) => boolean,
) {
  for (let i = 0; i < 20_000; i++) {
    const j = await job(cell, id);
    if (at(j)) return j;
    if (!j || j.phase === 'done' || j.phase === 'failed')
      throw new Error(`the job ended (${j?.phase ?? '401'}) before ${what}`);
    await pause(5);
  }
  throw new Error(`never ${what}`);
}

export async function finished(cell: Cell, id: string) {
  for (;;) {
    const j = await job(cell, id);
    if (!j) cell.session = await login(cell);
    else if (j.phase === 'done' || j.phase === 'failed') return j;
    await pause(20);
  }
}

export async function backup(cell: Cell, passphrase?: string): Promise<string> {
  const id = ok(
    await api(cell, 'POST', '/api/config/backup', passphrase ? { passphrase } : {}),
    202,
  ).backup_id;
  const j = await finished(cell, id);
  assert.equal(j.phase, 'done', j.error);
  return id;
}

/**
 * What a kill may leave on disk. Before the next start: a temp file of the backup being written (age
 * bytes when encrypted; a gzip only for an unencrypted one) and a restore's staging directory. After
 * it: nothing of either. Always: no database file but the live one outside staging, and the markers
 * only in the live database, the marker file and finished unencrypted backups.
 */
export function checkLeftovers(cell: Cell, started: boolean): void {
  const files = filesUnder(cell.root);
  if (started)
    assert.deepEqual(
      files.filter((f) => LEFTOVER.test(f)),
      [],
      'the start removed every temp file, staging directory and journal',
    );
  const head = (f: string, n: number) => {
    const b = readFileSync(join(cell.root, f));
    return b.subarray(0, n);
  };
  // Before the start, a kill during SQLite's copy may leave the backup's snapshot (0700, swept at start).
  const databases = files.filter(
    (f) =>
      !f.includes('restore-staging-') &&
      !(!started && /^data\/backup-snapshot-[A-Za-z0-9]{6}\//.test(f)) &&
      head(f, 16).equals(SQLITE_MAGIC),
  );
  assert.deepEqual(databases, ['data/cell.db'], 'no database snapshot on disk');
  const backups = join(cell.data, 'backups');
  assert.equal(statSync(backups).mode & 0o777, 0o700);
  for (const f of files.filter((f) => f.startsWith('data/backups/'))) {
    assert.equal(statSync(join(cell.root, f)).mode & 0o777, 0o600, `${f} is 0600`);
    const isGzip = head(f, 2).equals(GZIP_MAGIC);
    if (/\.age(\.partial-[0-9a-f]+)?$/.test(f)) {
      assert.ok(!isGzip, `${f}: an encrypted backup's temp file holds age bytes only`);
      const h = head(f, AGE_MAGIC.length);
      assert.ok(h.length === 0 || AGE_MAGIC.subarray(0, h.length).equals(h), `${f} starts as an age file`);
    } else if (isGzip) {
      const allowed =
        /^data\/backups\/backup-[0-9a-f-]+\.tar\.gz$/.test(f) || (!started && f.includes('.partial-'));
      assert.ok(allowed, `${f}: a gzip in backups/ is a finished unencrypted backup`);
    }
  }
  const allowed = (f: string) =>
    f === 'data/cell.db' ||
    f === 'data/cell.db-wal' ||
    f === 'data/secrets/marker' ||
    /^data\/backups\/backup-[0-9a-f-]+\.tar\.gz$/.test(f) ||
    (!started &&
      (/^data\/backups\/.+\.tar\.gz\.partial-/.test(f) ||
        f.startsWith('data/restore-staging-') ||
        f.startsWith('data/backup-snapshot-')));
  assert.deepEqual(secretHolders(cell.root, markers(), allowed), [], 'no secret left anywhere else');
}

/** Restarts a killed server (no crash knob) and checks what the start cleaned up. */
export async function restart(cell: Cell): Promise<void> {
  assert.ok(cell.server.child.exitCode !== null || cell.server.child.signalCode !== null);
  cell.server = await startServe(cell.data, KNOBS);
  checkLeftovers(cell, true);
}

export type Which = 'before' | 'backup';

/**
 * After a restart: the cell is exactly one of the two states, never a mix, and its sessions ended if
 * and only if it is the backup's (a restore that completed ends every session).
 */
export async function expectState(
  cell: Cell,
  oldSession: Session,
  states: { before: Snapshot; backup: Snapshot; backupPassword: string },
  expected: Which | 'either',
): Promise<Which> {
  const me = await api(cell, 'GET', '/api/auth/me', undefined, oldSession);
  assert.ok(me.status === 200 || me.status === 401, me.text);
  const is: Which = me.status === 401 ? 'backup' : 'before';
  if (expected !== 'either')
    assert.equal(
      is,
      expected,
      `sessions ${is === 'backup' ? 'ended' : 'kept'}, the ${expected} state expected`,
    );
  if (is === 'backup') {
    cell.password = states.backupPassword;
    cell.session = await login(cell);
  } else cell.session = oldSession;
  assert.deepEqual(await snapshot(cell), states[is], `exactly the ${is} state`);
  return is;
}

export const staging = (cell: Cell) => readdirSync(cell.data).filter((n) => n.startsWith('restore-staging-'));
export const journal = (cell: Cell) => existsSync(join(cell.data, 'restore-journal.json'));

/** The process's exit, or an error after `ms`. */
export async function exitedWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pic serve did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
