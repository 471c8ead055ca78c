// `pic backup` and `pic restore` on the host (the spec's `make backup` / `make restore`): the same
// archives as the API's, in the same directory (data/api/backups). Passphrases come from a file or
// the terminal, never from an argument (every process on the host could read it there).
//
// Run as root on a running cell, whose data/api belongs to cell-api's user: everything touching
// data/api happens in a child process running as that directory's owner (`--as-owner`, internal),
// so a compromised cell-api swapping directories for symlinks mid-operation can only make the child
// write where that user could write anyway. Root keeps what only root may read: it reads the
// passphrase file, the .env and a FILE outside the data directory, and passes them on the child's
// stdin (one JSON line, then the FILE's bytes); the child hands the restored .env back on fd 3 and
// root validates it before writing it beside the data directory.
import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  createReadStream,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { hostServiceVolumes } from '../../composition.ts';
import type { BackupService } from '../../core/backup/backup-service.ts';
import { writeFileAtomic } from '../../drivers/atomic-file.ts';
import { sweepUnderLock } from '../../drivers/backup/cell-state.ts';
import { tryJobLock } from '../../drivers/backup/job-lock.ts';
import { DOCKER_SOCKET } from '../../drivers/docker/create-options.ts';
import { BACKUP_ID_PATTERN, type BackupJob, backupPassphrase } from '../../schema/backup.ts';
import { type CellEnv, parseEnvFile } from '../../schema/runtime.ts';
import { openCell } from '../open-cell.ts';
import { REPO_ROOT } from '../runtime-context.ts';
import { UsageError } from '../usage.ts';
import { up } from './up.ts';

export const backupHelp = `pic backup [--passphrase-file F] [--dir DIR]
  Backs up the whole cell (database, keys, vault, .env, rendered configs, and the data volumes of
  installed store services when Docker answers) into
  data/api/backups/<id>.tar.gz, or <id>.tar.gz.age (an age file) with a passphrase of 12+
  characters read from F ('-' reads it from the terminal). Prints the archive's path last.`;

export const restoreHelp = `pic restore [FILE | ID] [--passphrase-file F] [--dir DIR] [--no-up]
  Without an argument, lists the backups. With one, restores that archive (a file anywhere, or a
  backup id): it is verified in full before anything is replaced, installed store services' data
  volumes are put back into their containers when Docker answers; the backup's .env is written
  (the old one kept as .env.before-restore); then \`pic up\` applies it and cell-api restarts.
  An encrypted archive asks for its passphrase on the terminal unless --passphrase-file is given.`;

function cellDirOf(dir: string | undefined): string {
  const cellDir = resolve(dir ?? process.env.PIC_CELL_DIR ?? REPO_ROOT);
  if (!existsSync(join(cellDir, 'data', 'api', 'cell.db')))
    throw new Error(
      `no cell in ${cellDir} (data/api/cell.db not found): pass --dir, or run \`./pic up\` first`,
    );
  return cellDir;
}

const dataDirOf = (cellDir: string) => join(cellDir, 'data', 'api');

/**
 * The cell, opened for a backup (`envText`: the .env it carries) or a restore, with the installed
 * store services' data volumes when the host's Docker engine answers: the same archive as the API's.
 * `cellEnvText` (the host's .env) gives the store its container names' prefix.
 */
async function openForBackup(cellDir: string, envText: string | undefined, cellEnvText = envText) {
  let cell: ReturnType<typeof openCell> | undefined;
  const volumes = await hostServiceVolumes(() => cell?.deps.store.volumes() ?? []);
  const cellEnv = parsedEnv(cellEnvText);
  cell = openCell(dataDirOf(cellDir), {
    envText: () => envText,
    backupConfigDir: join(cellDir, 'config'),
    ...(cellEnv ? { cellEnv } : {}),
    ...(volumes ? { serviceVolumes: volumes } : {}),
  });
  // The cell was opened without the start's sweeps (sweepTemps: false): what a killed backup or restore
  // left (a staging directory, a database snapshot) goes now, under the job lock (ADR 0021).
  const swept = sweepUnderLock(dataDirOf(cellDir), () => tryJobLock(dataDirOf(cellDir)));
  if (swept?.interrupted)
    console.error(
      `note: the ${swept.interrupted.kind} of ${swept.interrupted.backup_id} (started ${swept.interrupted.started_at}) was interrupted: its process stopped before it ended`,
    );
  if (swept?.swept.length)
    console.error(`note: removed what an interrupted backup or restore left: ${swept.swept.join(', ')}`);
  const declared = volumes ? [] : cell.deps.store.volumes();
  if (declared.length > 0)
    console.error(
      `note: the Docker engine does not answer here: the data volumes of ${declared.map((v) => `${v.service}/${v.volume}`).join(', ')} ` +
        'are left out of this command (a backup without them, a restore that does not touch them)',
    );
  return cell;
}

/** The .env as the store reads it; one that does not parse (`pic up` says why) names nothing. */
function parsedEnv(text: string | undefined): CellEnv | undefined {
  if (text === undefined) return undefined;
  try {
    return parseEnvFile(text);
  } catch {
    return undefined;
  }
}

function readEnvText(cellDir: string): string | undefined {
  const envPath = join(cellDir, '.env');
  return existsSync(envPath) ? readFileSync(envPath, 'utf8') : undefined;
}

/** What root passes to the owner's child: the first line of its stdin. */
interface OwnerInput {
  passphrase?: string;
  /** The host's .env (root may read it; the owner may not): a backup carries it, both name containers by it. */
  envText?: string;
  /** The archive to restore follows the JSON line on stdin (a FILE the owner may not read). */
  stream?: boolean;
}

/** Root on a data directory root does not own: the work must run as that directory's owner. */
export function ownerToRunAs(dataDir: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  // lstat: a data/api its owner swapped for a link to a root-owned directory must not put root back.
  const st = lstatSync(dataDir);
  if (st.isSymbolicLink() || !st.isDirectory())
    throw new Error(`${dataDir} is not a plain directory (a symbolic link?): refusing to run as root on it`);
  return st.uid === 0 ? undefined : { uid: st.uid, gid: st.gid };
}

/** The child's argv: the internal flag and paths, never a passphrase or the .env. */
export function ownerArgv(command: 'backup' | 'restore', cellDir: string, rest: string[] = []): string[] {
  return [
    ...process.execArgv,
    join(import.meta.dirname, '..', 'main.ts'),
    command,
    ...rest,
    '--dir',
    cellDir,
    '--as-owner',
  ];
}

/** The owner's child: the cell was restored, a volume was not (the parent still writes the .env and runs up). */
const PARTIAL = 3;

/** util-linux's setpriv (Essential in Debian): node's spawn sets a uid and a gid, not supplementary groups. */
const SETPRIV = '/usr/bin/setpriv';

/**
 * The owner's uid and group, plus the Docker socket's group when there is one: the child streams the
 * store services' volumes through Docker as cell-api does (cell-api runs as that same uid with that
 * same group added), so this grants the child nothing cell-api's user does not hold already; its
 * files are still written with the owner's rights only. No new privileges (no set-id program).
 */
export function setprivArgs(owner: { uid: number; gid: number }, socket = DOCKER_SOCKET): string[] {
  const sock = statSync(socket, { throwIfNoEntry: false });
  const groups = [owner.gid, ...(sock && sock.gid !== owner.gid && sock.gid !== 0 ? [sock.gid] : [])];
  return [
    `--reuid=${owner.uid}`,
    `--regid=${owner.gid}`,
    `--groups=${groups.join(',')}`,
    '--inh-caps=-all',
    '--no-new-privs',
  ];
}

/**
 * Runs `pic <command> --as-owner` as the data directory's owner; `input` goes to its stdin as one
 * JSON line, then `file`'s bytes when given. Resolves with its exit code and what it wrote on fd 3.
 */
function runAsOwner(
  owner: { uid: number; gid: number },
  argv: string[],
  input: OwnerInput,
  file?: string,
): Promise<{ code: number; fd3: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(SETPRIV, [...setprivArgs(owner), '--', process.execPath, ...argv], {
      cwd: '/',
      stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
    });
    const chunks: Buffer[] = [];
    (child.stdio[3] as Readable).on('data', (b: Buffer) => chunks.push(b));
    child.stdin!.on('error', () => {}); // the child may end before reading everything: its code says why
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolveRun({ code: code ?? (signal ? 1 : 0), fd3: Buffer.concat(chunks).toString('utf8') }),
    );
    child.stdin!.write(`${JSON.stringify(input)}\n`);
    if (file) {
      const src = createReadStream(file);
      src.on('error', (err) => {
        console.error(`pic restore: ${err.message}`);
        child.stdin!.destroy();
      });
      src.pipe(child.stdin!);
    } else child.stdin!.end();
  });
}

/** In the owner's child: refused unless this process is the data directory's owner. */
function assertOwner(dataDir: string): void {
  const uid = process.getuid?.();
  if (uid === undefined || uid !== statSync(dataDir).uid)
    throw new UsageError("--as-owner is internal: it runs only as the data directory's owner");
}

/** The child's stdin: the JSON line, and the stream positioned after it. */
function readOwnerInput(): Promise<OwnerInput> {
  const stdin = process.stdin;
  return new Promise((resolveInput, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      cleanup();
      stdin.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) stdin.unshift(rest);
      try {
        resolveInput(JSON.parse(buf.subarray(0, nl).toString('utf8')) as OwnerInput);
      } catch (err) {
        reject(err);
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('no input from the parent process'));
    };
    const cleanup = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
  });
}

export async function backup(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'passphrase-file': { type: 'string' },
      dir: { type: 'string' },
      'as-owner': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const cellDir = cellDirOf(values.dir);
  if (values['as-owner']) {
    assertOwner(dataDirOf(cellDir));
    const input = await readOwnerInput();
    process.stdin.destroy();
    return makeBackup(cellDir, checkedPassphrase(input.passphrase), input.envText);
  }
  const passphrase = values['passphrase-file']
    ? await readPassphrase(values['passphrase-file'], true)
    : undefined;
  const envText = readEnvText(cellDir);
  const owner = ownerToRunAs(dataDirOf(cellDir));
  if (!owner) return makeBackup(cellDir, passphrase, envText);
  const { code } = await runAsOwner(owner, ownerArgv('backup', cellDir), {
    ...(passphrase ? { passphrase } : {}),
    ...(envText !== undefined ? { envText } : {}),
  });
  return code;
}

async function makeBackup(
  cellDir: string,
  passphrase: string | undefined,
  envText: string | undefined,
): Promise<number> {
  const cell = await openForBackup(cellDir, envText);
  try {
    const { backup_id } = cell.deps.backups.create({ ...(passphrase ? { passphrase } : {}), origin: 'cli' });
    const job = await follow(cell.deps.backups, backup_id);
    for (const n of job.notes) console.error(`note: ${n}`);
    if (job.phase !== 'done') {
      console.error(`backup failed: ${job.error}`);
      return 1;
    }
    const item = cell.deps.backups.list().backups.find((b) => b.backup_id === backup_id)!;
    console.log(
      `Backup ${backup_id}: ${human(item.size)}${item.encrypted ? ', encrypted' : ', NOT encrypted'}`,
    );
    console.log(join(dataDirOf(cellDir), 'backups', item.file));
    return 0;
  } finally {
    cell.close();
  }
}

export async function restore(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'passphrase-file': { type: 'string' },
      dir: { type: 'string' },
      'no-up': { type: 'boolean', default: false },
      'as-owner': { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const cellDir = cellDirOf(values.dir);
  const dataDir = dataDirOf(cellDir);
  const what = positionals[0];

  if (values['as-owner']) {
    assertOwner(dataDir);
    const input = await readOwnerInput();
    if (!input.stream) process.stdin.destroy();
    // A fresh stream: stdin was paused after the JSON line, and a 'data' listener alone would not resume it.
    const source = input.stream ? { stream: process.stdin.pipe(new PassThrough()) } : what;
    const r = await restoreData(
      cellDir,
      source,
      async () => checkedPassphrase(input.passphrase),
      input.envText,
    );
    // The restored .env goes back to root, which validates and writes it outside the data directory.
    if (r.code === 0) writeSync(3, `${JSON.stringify({ env: r.restoredEnv ?? null })}\n`);
    return r.partial ? PARTIAL : r.code;
  }

  let result: { code: number; restoredEnv?: string | undefined; partial?: boolean };
  const owner = ownerToRunAs(dataDir);
  if (!owner) {
    result = await restoreData(
      cellDir,
      what,
      () => readPassphrase(values['passphrase-file'] ?? '-', false),
      readEnvText(cellDir),
    );
  } else {
    // Root reads the passphrase (the child has no terminal, and may not read the file) and, for a
    // FILE outside the data directory, the archive itself.
    const file = what && !BACKUP_ID_PATTERN.test(what) ? resolve(what) : undefined;
    if (file && (!existsSync(file) || !statSync(file).isFile()))
      throw new UsageError(`${what} is not a file`);
    const streamIt = file !== undefined && !insideDir(file, join(cellDir, 'data'));
    const envText = readEnvText(cellDir);
    const passphrase =
      what && (values['passphrase-file'] || looksEncrypted(dataDir, what, file))
        ? await readPassphrase(values['passphrase-file'] ?? '-', false)
        : undefined;
    const run = await runAsOwner(
      owner,
      ownerArgv('restore', cellDir, what ? [file ?? what] : []),
      {
        ...(passphrase ? { passphrase } : {}),
        ...(streamIt ? { stream: true } : {}),
        ...(envText !== undefined ? { envText } : {}),
      },
      streamIt ? file : undefined,
    );
    if ((run.code !== 0 && run.code !== PARTIAL) || !what) return run.code;
    try {
      const last = run.fd3.trimEnd().split('\n').at(-1) ?? '';
      const env = (JSON.parse(last) as { env: unknown }).env;
      result = {
        code: 0,
        restoredEnv: typeof env === 'string' ? env : undefined,
        partial: run.code === PARTIAL,
      };
    } catch {
      console.error('restore: the data was restored, but its .env did not come back from the child');
      return 1;
    }
  }
  if (result.code !== 0 || !what) return result.code;
  const code = await finishRestore(cellDir, result.restoredEnv, values['no-up']);
  // The cell is the backup's, but a volume is not: the command still fails, for scripts to see.
  return result.partial && code === 0 ? 1 : code;
}

/** Lists the backups (no `what`) or restores one: everything that touches the data directory. */
async function restoreData(
  cellDir: string,
  what: string | { stream: Readable } | undefined,
  passphraseOf: () => Promise<string | undefined>,
  cellEnvText: string | undefined,
): Promise<{ code: number; restoredEnv?: string | undefined; partial?: boolean }> {
  const cell = await openForBackup(cellDir, undefined, cellEnvText);
  try {
    const backups = cell.deps.backups;
    if (!what) {
      const { backups: list } = backups.list();
      if (list.length === 0) console.log('No backups yet: `pic backup` makes one.');
      for (const b of list)
        console.log(
          `${b.backup_id}  ${b.created_at}  ${human(b.size).padStart(9)}  ${b.encrypted ? 'encrypted' : 'plain'}`,
        );
      return { code: 0 };
    }
    const id =
      typeof what !== 'string'
        ? (await backups.upload(what.stream, 'cli')).backup_id
        : BACKUP_ID_PATTERN.test(what)
          ? what
          : await importFile(backups, what);
    const item = backups.list().backups.find((b) => b.backup_id === id);
    if (!item) throw new UsageError(`no backup ${id}: \`pic restore\` lists them`);
    const passphrase = item.encrypted ? await passphraseOf() : undefined;
    if (item.encrypted && !passphrase)
      throw new UsageError('the backup is encrypted: give its passphrase with --passphrase-file F');
    console.log(`Restoring ${id}: every peer, key, certificate, DNS record, user and setting is replaced.`);
    await backups.restore(id, passphrase, 'cli');
    const job = await follow(backups, id);
    for (const n of job.notes) console.error(`note: ${n}`);
    if (job.phase !== 'done') {
      // After the swap only the volumes can fail: the cell is the backup's, its .env and `up` follow.
      if (job.error?.startsWith('the cell was restored')) {
        console.error(
          `${job.error}\nA service whose containers do not exist yet (a new machine) gets them once cell-api ` +
            `starts after \`./pic up\`: then run \`pic restore ${id}\` again to put its data back.`,
        );
        return { code: 0, restoredEnv: backups.lastRestoredEnv(), partial: true };
      }
      console.error(`restore failed, nothing was changed: ${job.error}`);
      return { code: 1 };
    }
    return { code: 0, restoredEnv: backups.lastRestoredEnv() };
  } finally {
    cell.close();
  }
}

/** As root (or the invoking user): the backup's .env, validated, then `up` and a fresh cell-api. */
async function finishRestore(cellDir: string, restoredEnv: string | undefined, noUp: boolean) {
  const envPath = join(cellDir, '.env');
  if (restoredEnv !== undefined) {
    try {
      parseEnvFile(restoredEnv);
    } catch (err) {
      console.error(
        `The data was restored, but the backup's .env is not valid (${(err as Error).message}): ` +
          `${envPath} was left as it is. Fix it by hand, then run \`./pic up\`.`,
      );
      return 1;
    }
    const current = existsSync(envPath) ? readFileSync(envPath, 'utf8') : undefined;
    if (current !== restoredEnv) {
      if (current !== undefined) writeFileAtomic(`${envPath}.before-restore`, current, { mode: 0o600 });
      writeFileAtomic(envPath, restoredEnv, { mode: 0o600 });
      console.log(`The backup's .env replaced ${envPath} (the old one is ${envPath}.before-restore).`);
    }
  }
  console.log('Restored. Every session has ended: log in again with the restored accounts.');
  if (noUp) {
    console.log('Run `./pic up` to apply it to the running cell.');
    return 0;
  }
  // The containers from the restored configuration, then a fresh cell-api (it holds the old state in
  // memory; at start it applies peers, DNS and the certificate from the restored state).
  const code = await up(['--yes', '--no-build', '--dir', cellDir]);
  if (code !== 0) return code;
  const { restart } = await import('./service-commands.ts');
  return restart(['api', '--dir', cellDir]);
}

/** Lexically or once resolved, under `dir` (where the data directory's owner may swap things). */
function insideDir(file: string, dir: string): boolean {
  const under = (p: string, d: string) => {
    const rel = relative(d, p);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  if (under(file, dir)) return true;
  try {
    const real = realpathSync(file);
    return under(real, dir) || (existsSync(dir) && under(real, realpathSync(dir)));
  } catch {
    return true; // unresolvable: the owner's child reads it, with the owner's rights
  }
}

/** Whether to ask for a passphrase before handing the restore to the owner's child. */
function looksEncrypted(dataDir: string, what: string, file: string | undefined): boolean {
  if (!file) return existsSync(join(dataDir, 'backups', `${what}.tar.gz.age`));
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); // never blocks on a FIFO
  try {
    const head = Buffer.alloc(21);
    readSync(fd, head, 0, 21, 0);
    return head.toString('latin1') === 'age-encryption.org/v1';
  } finally {
    closeSync(fd);
  }
}

/** A file given to `pic restore`: copied into the backups directory under a new id first. */
async function importFile(backups: BackupService, path: string): Promise<string> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${path} is not a file`);
  const { backup_id } = await backups.upload(createReadStream(path), 'cli');
  return backup_id;
}

/** Prints the job's phases as they change, until it ends. */
async function follow(backups: BackupService, id: string): Promise<BackupJob> {
  let last = '';
  const timer = setInterval(() => {
    const job = backups.detail(id).job;
    if (!job) return;
    const line = `  ${job.phase}${job.bytes_total ? ` ${Math.floor((100 * job.bytes_done) / job.bytes_total)}%` : ''}`;
    if (line !== last) console.error(line);
    last = line;
  }, 500);
  try {
    return await backups.wait(id);
  } finally {
    clearInterval(timer);
  }
}

/** A passphrase root passed to the owner's child, checked again like the API checks it. */
function checkedPassphrase(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = backupPassphrase.safeParse(value);
  if (!parsed.success)
    throw new UsageError(`the passphrase ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return parsed.data;
}

/** From a file (first line) or, with '-', the terminal without echo; checked like the API checks it. */
async function readPassphrase(from: string, confirm: boolean): Promise<string> {
  const value =
    from === '-'
      ? await promptHidden('Passphrase: ', confirm)
      : (readFileSync(from, 'utf8').split(/\r?\n/)[0] ?? '');
  const parsed = backupPassphrase.safeParse(value);
  if (!parsed.success)
    throw new UsageError(`the passphrase ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return parsed.data;
}

async function promptHidden(prompt: string, confirm: boolean): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError('no terminal to ask for the passphrase: use --passphrase-file F');
  const once = (p: string) =>
    new Promise<string>((resolveLine, reject) => {
      process.stderr.write(p);
      const stdin = process.stdin;
      stdin.setRawMode(true);
      stdin.resume();
      let typed = '';
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            done();
            return resolveLine(typed);
          }
          if (ch === '\u0003') {
            done();
            return reject(new Error('cancelled'));
          }
          if (ch === '\u007f') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      const done = () => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        process.stderr.write('\n');
      };
      stdin.on('data', onData);
    });
  const first = await once(prompt);
  if (confirm && (await once('Again: ')) !== first) throw new UsageError('the two passphrases differ');
  return first;
}

function human(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
