// The `pic` command as a person runs it: a child process (Node 24 running src/cli/main.ts), argv
// arrays, exit codes and output checked; the API checked through a Fastify app on the same data dir.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, type Kit, login, makeKit, sessionCookieOf, setupBody } from '../api/test-kit.ts';
import { DockerEngine } from '../drivers/docker/engine.ts';
import { engineSkipReason } from '../drivers/docker/engine-skip-kit.ts';
import { cellIdFor } from '../render/runtime/desired-state.ts';
import { LABELS } from '../schema/runtime.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const lastLine = (s: string) => s.trimEnd().split('\n').at(-1) ?? '';
const TOKEN = /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/;

function grepDir(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      // Never open cell.db-shm while this process has the database open: closing any descriptor of a
      // file drops all of this process's POSIX locks on it, SQLite's included, and the next process
      // to close the database then thinks it is the last one and removes the WAL under us. The shm
      // holds only the WAL index, no row data.
      else if (!e.name.endsWith('-shm') && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

describe('pic setup-token and pic admin reset-password', () => {
  let kit: Kit;
  let dataDir: string;
  before(async () => {
    kit = await makeKit();
    dataDir = kit.cell.paths.data;
  });
  after(() => kit.close());

  const complete = (token: string) =>
    kit.app.inject({ method: 'POST', url: '/api/setup/complete', payload: setupBody(token) });

  test('setup-token prints the token alone on its last line and rotates it', async () => {
    const first = await pic(['setup-token', '--data-dir', dataDir]);
    assert.equal(first.code, 0, first.stderr);
    const t1 = lastLine(first.stdout);
    assert.match(t1, TOKEN);
    const second = await pic(['setup-token', '--data-dir', dataDir]);
    const t2 = lastLine(second.stdout);
    assert.match(t2, TOKEN);
    assert.notEqual(t1, t2);
    assert.deepEqual(grepDir(dataDir, t2), [], 'stored only as a hash');

    const old = await complete(t1);
    assert.equal(old.statusCode, 403, 'the rotated-out token no longer works');
    const ok = await complete(t2);
    assert.equal(ok.statusCode, 201, ok.body);
  });

  test('after setup there is no token: exit 1 with a message', async () => {
    const r = await pic(['setup-token', '--data-dir', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already complete/);
    assert.doesNotMatch(r.stdout, TOKEN);
  });

  test('admin reset-password prints a working password once; old sessions die; no plain text stored', async () => {
    const before = await login(kit.app, 'admin', 'correct horse battery staple');
    const r = await pic(['admin', 'reset-password', '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const password = lastLine(r.stdout);
    assert.match(password, /^[A-Za-z2-9]{20}$/);
    assert.equal(r.stdout.split(password).length, 2, 'printed once');

    const me = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: before.cookie } });
    assert.equal(me.statusCode, 401, 'sessions from before the reset are ended');
    const oldPw = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'correct horse battery staple' },
    });
    assert.equal(oldPw.statusCode, 401);
    const fresh = await login(kit.app, 'admin', password);
    assert.equal((await kit.app.inject({ url: '/api/config', headers: authed(fresh) })).statusCode, 200);
    assert.ok(sessionCookieOf(oldPw) === undefined);

    assert.deepEqual(grepDir(dataDir, password), [], 'the password is in no file of the data dir');
    const audit = kit.cell.deps.audit.query({ action: 'reset-password', limit: 5, offset: 0 }).items;
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.source, 'cli');
  });

  test('reset-password for an unknown user fails with exit 1', async () => {
    const r = await pic(['admin', 'reset-password', '--data-dir', dataDir, '--username', 'nobody']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not found/);
  });

  test('status --json reports the cell', async () => {
    const r = await pic(['status', '--data-dir', dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.setup_completed, true);
    assert.equal(s.identity.cell_name, 'home');
    assert.ok(s.services.every((x: { state: string }) => x.state === 'not_running'));
  });
});

describe('pic usage errors', { concurrency: 4 }, () => {
  const empty = mkdtempSync(join(tmpdir(), 'pic-cli-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  for (const [args, pattern] of [
    [[], /usage: pic/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['setup-token', '--bogus'], /bogus/],
    [['setup-token', '--data-dir'], /data-dir/],
    [['admin'], /missing admin command/],
    [['admin', 'explode'], /unknown admin command "explode"/],
    [['admin', 'reset-password', '--user', 'x'], /user/],
    [['serve', '--listen', 'nonsense'], /--listen must be HOST:PORT/],
    [['serve', '--listen', '127.0.0.1:99999'], /--listen must be HOST:PORT/],
    [['status', 'extra-positional'], /extra-positional|positional/i],
  ] as Array<[string[], RegExp]>) {
    test(`pic ${args.join(' ') || '(nothing)'} → exit 2 with a message`, async () => {
      const r = await pic(args);
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, pattern);
    });
  }

  test('a wrong --data-dir is an error, not a new empty cell', async () => {
    const dir = join(empty, 'typo');
    for (const args of [['setup-token'], ['admin', 'reset-password']]) {
      const r = await pic([...args, '--data-dir', dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /no cell in/);
    }
    assert.deepEqual(readdirSync(empty), []);
  });

  test('--help prints help and exits 0', async () => {
    const r = await pic(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /pic setup-token/);
    const sub = await pic(['admin', '--help']);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /reset-password/);
  });
});

describe('pic serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-serve-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('listens, prints the setup token alone on a line, serves the API, stops cleanly on SIGTERM', async () => {
    const child = spawn(NODE, [MAIN, 'serve', '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const m = await new Promise<RegExpMatchArray>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const hit = out.match(
          /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*\n([a-z2-9]{5}(?:-[a-z2-9]{5}){3})\n/,
        );
        if (hit) resolve(hit);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const base = m[1]!;
    try {
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { setup_completed: boolean }).setup_completed, false);
      assert.equal((await fetch(`${base}/api/config`)).status, 428);
      const done = await fetch(`${base}/api/setup/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(setupBody(m[2]!)),
      });
      assert.equal(done.status, 201);
      assert.match(done.headers.get('set-cookie') ?? '', /pic_session=/);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });

  test('a busy port is a clear error, exit 1', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await pic(['serve', '--data-dir', join(dir, 'busy'), '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /EADDRINUSE|in use/);
    } finally {
      blocker.close();
    }
  });
});

// `pic down` and `pic uninstall` choose the cell by its id (the hash of its directory, --dir) and remove
// what Docker lists under that id, without opening the cell or rendering its desired state. Two fake
// cells, each a labelled container (created, never started) and a cell network plus a store service's
// network: no whole cell comes up. Everything made here carries the pic-clitest- prefix and goes.
describe('pic down and pic uninstall: the cell chosen by its id', async () => {
  const engine = new DockerEngine();
  const skip = await engineSkipReason(engine);
  const root = mkdtempSync(join(tmpdir(), 'pic-clitest-'));
  const prefix = `pic-clitest-${randomBytes(3).toString('hex')}`;
  const cells = { a: join(root, 'a'), b: join(root, 'b') };
  const ids = { a: cellIdFor(cells.a), b: cellIdFor(cells.b) };

  const labels = (id: string, extra: Record<string, string> = {}) => ({
    [LABELS.managed]: 'true',
    [LABELS.cell]: id,
    ...extra,
  });
  /** What Docker lists under a cell id: container names and network names, sorted. */
  async function objects(id: string): Promise<string[]> {
    const filters = { label: [`${LABELS.managed}=true`, `${LABELS.cell}=${id}`] };
    const [cs, ns] = await Promise.all([
      engine.docker.listContainers({ all: true, filters }),
      engine.docker.listNetworks({ filters }),
    ]);
    return [...cs.map((c) => (c.Names[0] ?? '').replace(/^\//, '')), ...ns.map((n) => n.Name)].sort();
  }
  async function makeCell(key: 'a' | 'b'): Promise<string[]> {
    const dir = cells[key];
    // A cell directory whose configuration no renderer would accept: down never reads it.
    mkdirSync(join(dir, 'config'), { recursive: true });
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'config', 'cell.json'), '{ not json');
    const id = ids[key];
    await engine.docker.createNetwork({ Name: `${prefix}-${key}-net`, Labels: labels(id) });
    await engine.docker.createNetwork({
      Name: `${prefix}-${key}-store-net`,
      Labels: labels(id, { [LABELS.storeId]: 'calendar' }),
    });
    await engine.docker.createContainer({
      name: `${prefix}-${key}-dns`,
      Image: 'debian:bookworm-slim',
      Cmd: ['true'],
      Labels: labels(id, { [LABELS.service]: 'dns' }),
    });
    return [`${prefix}-${key}-dns`, `${prefix}-${key}-net`, `${prefix}-${key}-store-net`];
  }
  let made: { a: string[]; b: string[] };

  before(async () => {
    if (skip) return;
    made = { a: await makeCell('a'), b: await makeCell('b') };
    assert.deepEqual(await objects(ids.a), made.a);
    assert.deepEqual(await objects(ids.b), made.b);
  });
  after(async () => {
    if (!skip)
      for (const id of Object.values(ids)) {
        const filters = { label: [`${LABELS.cell}=${id}`] };
        for (const c of await engine.docker.listContainers({ all: true, filters }))
          await engine.docker.getContainer(c.Id).remove({ force: true, v: true });
        for (const n of await engine.docker.listNetworks({ filters }))
          await engine.docker.getNetwork(n.Id).remove();
      }
    rmSync(root, { recursive: true, force: true });
  });

  test('a cell id or a path given as an argument is refused, naming it, before anything runs', {
    skip,
  }, async () => {
    const marker = join(root, 'pwned');
    for (const cmd of ['down', 'uninstall'])
      for (const arg of [
        ids.b,
        `${ids.b}; touch ${marker}`,
        `$(touch ${marker})`,
        `../${basename(cells.b)}`,
        '../../etc',
      ]) {
        const r = await pic([cmd, arg]);
        assert.equal(r.code, 2, `${cmd} ${arg}: ${r.stdout}${r.stderr}`);
        assert.ok(r.stderr.includes(`pic ${cmd}: Unexpected argument '${arg}'`), r.stderr);
        assert.equal(r.stdout, '', 'nothing ran');
      }
    for (const cmd of ['down', 'uninstall']) {
      const dir = join(root, `nope; touch ${marker}`);
      const r = await pic([cmd, '--dir', dir]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(`pic ${cmd}: --dir ${dir} does not exist`), r.stderr);
    }
    assert.equal(existsSync(marker), false);
    assert.deepEqual(await objects(ids.a), made.a, "no cell's objects were touched");
    assert.deepEqual(await objects(ids.b), made.b);
  });

  test("pic down --dir takes down that cell's containers and networks only, without opening it", {
    skip,
  }, async () => {
    const r = await pic(['down', '--dir', cells.a]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`remove ${prefix}-a-dns\\n`));
    assert.doesNotMatch(r.stdout, /-b-/);
    assert.match(r.stdout, /The cell is down\./);
    assert.deepEqual(await objects(ids.a), []);
    assert.deepEqual(await objects(ids.b), made.b, 'the other cell is untouched');
    assert.deepEqual(readdirSync(join(cells.a, 'data')), [], 'the cell was not opened (no database made)');

    const again = await pic(['down', '--dir', cells.a]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Nothing to do: no container of this cell exists\./);
  });

  test('pic uninstall --dir (a path through ..) removes the cell it resolves to and keeps config/ and data/', {
    skip,
  }, async () => {
    const r = await pic(['uninstall', '--dir', `${cells.b}/../${basename(cells.b)}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`remove ${prefix}-b-dns\\n`));
    assert.match(r.stdout, /config\/ and data\/ kept/);
    assert.deepEqual(await objects(ids.b), []);
    assert.ok(existsSync(join(cells.b, 'config', 'cell.json')));
    assert.ok(existsSync(join(cells.b, 'data')));
  });

  test('pic uninstall --purge --yes deletes nothing in a directory that holds no cell (no data/api/cell.db)', {
    skip,
  }, async () => {
    const r = await pic(['uninstall', '--purge', '--yes', '--dir', cells.b]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Refusing to delete .*holds no cell \(data\/api\/cell\.db not found\)/);
    assert.ok(existsSync(join(cells.b, 'config', 'cell.json')));
    assert.ok(existsSync(join(cells.b, 'data')));
  });
});
