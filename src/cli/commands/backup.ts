// `pic backup` and `pic restore` on the host (the spec's `make backup` / `make restore`): the same
// archives as the API's, in the same directory (data/api/backups). Passphrases come from a file or
// the terminal, never from an argument (every process on the host could read it there).
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BackupService } from '../../core/backup/backup-service.ts';
import { writeFileAtomic } from '../../drivers/atomic-file.ts';
import { BACKUP_ID_PATTERN, type BackupJob, backupPassphrase } from '../../schema/backup.ts';
import { openCell } from '../open-cell.ts';
import { REPO_ROOT } from '../runtime-context.ts';
import { UsageError } from '../usage.ts';
import { up } from './up.ts';

export const backupHelp = `pic backup [--passphrase-file F] [--dir DIR]
  Backs up the whole cell (database, keys, vault, .env, rendered configs) into
  data/api/backups/<id>.tar.gz, or <id>.tar.gz.age (an age file) with a passphrase of 12+
  characters read from F ('-' reads it from the terminal). Prints the archive's path last.`;

export const restoreHelp = `pic restore [FILE | ID] [--passphrase-file F] [--dir DIR] [--no-up]
  Without an argument, lists the backups. With one, restores that archive (a file anywhere, or a
  backup id): it is verified in full before anything is replaced; the backup's .env is written
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

function openForBackup(cellDir: string) {
  const envPath = join(cellDir, '.env');
  return openCell(join(cellDir, 'data', 'api'), {
    envText: () => (existsSync(envPath) ? readFileSync(envPath, 'utf8') : undefined),
    backupConfigDir: join(cellDir, 'config'),
  });
}

export async function backup(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'passphrase-file': { type: 'string' }, dir: { type: 'string' } },
    strict: true,
  });
  const cellDir = cellDirOf(values.dir);
  const passphrase = values['passphrase-file']
    ? await readPassphrase(values['passphrase-file'], true)
    : undefined;
  const cell = openForBackup(cellDir);
  try {
    const { backup_id } = cell.deps.backups.create({ ...(passphrase ? { passphrase } : {}), origin: 'cli' });
    const job = await follow(cell.deps.backups, backup_id);
    if (job.phase !== 'done') {
      console.error(`backup failed: ${job.error}`);
      return 1;
    }
    const item = cell.deps.backups.list().backups.find((b) => b.backup_id === backup_id)!;
    console.log(
      `Backup ${backup_id}: ${human(item.size)}${item.encrypted ? ', encrypted' : ', NOT encrypted'}`,
    );
    console.log(join(cellDir, 'data', 'api', 'backups', item.file));
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
    },
    allowPositionals: true,
    strict: true,
  });
  const cellDir = cellDirOf(values.dir);
  const cell = openForBackup(cellDir);
  let restoredEnv: string | undefined;
  try {
    const backups = cell.deps.backups;
    const what = positionals[0];
    if (!what) {
      const { backups: list } = backups.list();
      if (list.length === 0) console.log('No backups yet: `pic backup` makes one.');
      for (const b of list)
        console.log(
          `${b.backup_id}  ${b.created_at}  ${human(b.size).padStart(9)}  ${b.encrypted ? 'encrypted' : 'plain'}`,
        );
      return 0;
    }
    const id = BACKUP_ID_PATTERN.test(what) ? what : await importFile(backups, what);
    const item = backups.list().backups.find((b) => b.backup_id === id);
    if (!item) throw new UsageError(`no backup ${id}: \`pic restore\` lists them`);
    const passphrase = item.encrypted
      ? await readPassphrase(values['passphrase-file'] ?? '-', false)
      : undefined;
    console.log(`Restoring ${id}: every peer, key, certificate, DNS record, user and setting is replaced.`);
    await backups.restore(id, passphrase, 'cli');
    const job = await follow(backups, id);
    if (job.phase !== 'done') {
      console.error(`restore failed, nothing was changed: ${job.error}`);
      return 1;
    }
    restoredEnv = cell.deps.backups.lastRestoredEnv();
  } finally {
    cell.close();
  }
  const envPath = join(cellDir, '.env');
  if (restoredEnv !== undefined) {
    const current = existsSync(envPath) ? readFileSync(envPath, 'utf8') : undefined;
    if (current !== restoredEnv) {
      if (current !== undefined) writeFileAtomic(`${envPath}.before-restore`, current, { mode: 0o600 });
      writeFileAtomic(envPath, restoredEnv, { mode: 0o600 });
      console.log(`The backup's .env replaced ${envPath} (the old one is ${envPath}.before-restore).`);
    }
  }
  console.log('Restored. Every session has ended: log in again with the restored accounts.');
  if (values['no-up']) {
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
