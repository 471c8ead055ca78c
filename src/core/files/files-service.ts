// The UI's file browser over the Files service (ADR 0010): the owner browses any account's folder, a
// peer only its own (the routes give the account: a URL parameter for the owner, the session's name
// for a peer). The folder must belong to an account the store knows on the installed service.
// Quotas: one per account, the service's `quota_mb` setting (the store's settings API stores it and
// runs the service's settings hook, which writes it into the volume, where the WebDAV side reads it
// too); an upload is held to what is left, counting uploads
// still in flight, and refused with 507 before a byte is written when its declared length is over.
import type { Readable } from 'node:stream';
import { DEFAULT_QUOTA_MB, type FileEntry, type FilesListing } from '../../schema/files.ts';
import { AppError } from '../errors.ts';
import type { FilesTarget, FilesVolumePort } from '../ports/files.ts';

const MIB = 1024 * 1024;

/** The Files service as the store has it: installed or not, and the quota its manifest defaults to. */
export type FilesServiceState = 'unknown' | 'not_installed' | { defaultQuotaMb: number };

export interface FilesServiceDeps {
  volume: FilesVolumePort;
  service: () => FilesServiceState;
  /** The accounts the store holds on the Files service (usernames). */
  accounts: () => string[];
}

export interface FilesOverview {
  quota_mb: number;
  accounts: Array<{ username: string; used_bytes: number | null; has_folder: boolean }>;
}

const target = (segments: readonly string[], field: string): FilesTarget => ({ segments, field });

export class FilesService {
  readonly #d: FilesServiceDeps;
  /** Bytes written by uploads in progress, per account (they count against the quota too). */
  readonly #inFlight = new Map<string, number>();

  constructor(deps: FilesServiceDeps) {
    this.#d = deps;
  }

  /** The owner's view: the quota and every account with what it uses. */
  async overview(): Promise<FilesOverview> {
    const state = this.#state();
    const accounts = [];
    for (const username of this.#d.accounts().sort()) {
      const has = await this.#d.volume.hasFolder(username);
      accounts.push({
        username,
        has_folder: has,
        used_bytes: has ? await this.#d.volume.usage(username) : null,
      });
    }
    return { quota_mb: await this.#quotaMb(state), accounts };
  }

  async list(account: string, path: readonly string[]): Promise<FilesListing> {
    const state = this.#account(account);
    const entries = await this.#d.volume.list(account, target(path, 'path'));
    return {
      account,
      path: path.join('/'),
      entries,
      used_bytes: await this.#d.volume.usage(account),
      quota_bytes: (await this.#quotaMb(state)) * MIB,
    };
  }

  download(
    account: string,
    path: readonly string[],
  ): Promise<{ stream: Readable; size: number; name: string }> {
    this.#account(account);
    return this.#d.volume.openRead(account, target(path, 'path'));
  }

  async upload(
    account: string,
    path: readonly string[],
    body: Readable,
    opts: { overwrite: boolean; declaredBytes: number | undefined },
  ): Promise<FileEntry> {
    const state = this.#account(account);
    const t = target(path, 'path');
    let replaced = 0;
    if (opts.overwrite) {
      const old = await this.#d.volume.stat(account, t).catch(() => undefined);
      if (old?.type === 'file') replaced = old.size;
    }
    const quota = (await this.#quotaMb(state)) * MIB;
    const free = quota - (await this.#d.volume.usage(account)) + replaced;
    const busy = () => this.#inFlight.get(account) ?? 0;
    const tooBig = () =>
      new AppError(
        'insufficient_storage',
        `Over quota: ${path.join('/')} does not fit in the ${formatMb(quota)} this account may use ` +
          `(${formatMb(Math.max(0, free - busy()))} left)`,
      );
    if (opts.declaredBytes !== undefined && opts.declaredBytes > free - busy()) throw tooBig();
    let written = 0;
    try {
      return await this.#d.volume.write(account, t, body, {
        overwrite: opts.overwrite,
        budget: {
          take: (n) => {
            if (busy() + n > free) return false;
            written += n;
            this.#inFlight.set(account, busy() + n);
            return true;
          },
        },
      });
    } catch (err) {
      if (
        err instanceof AppError &&
        err.code === 'insufficient_storage' &&
        err.message.startsWith('Over quota')
      )
        throw tooBig();
      throw err;
    } finally {
      const left = busy() - written;
      if (left > 0) this.#inFlight.set(account, left);
      else this.#inFlight.delete(account);
    }
  }

  mkdir(account: string, path: readonly string[]): Promise<FileEntry> {
    this.#account(account);
    return this.#d.volume.mkdir(account, target(path, 'path'));
  }

  move(account: string, from: readonly string[], to: readonly string[]): Promise<FileEntry> {
    this.#account(account);
    return this.#d.volume.move(account, target(from, 'from'), target(to, 'to'));
  }

  remove(account: string, path: readonly string[], recursive: boolean): Promise<void> {
    this.#account(account);
    return this.#d.volume.remove(account, target(path, 'path'), recursive);
  }

  #state(): Exclude<FilesServiceState, 'unknown' | 'not_installed'> {
    const s = this.#d.service();
    if (s === 'unknown') throw new AppError('not_found', 'The Files service is not in the catalog');
    if (s === 'not_installed')
      throw new AppError('conflict', 'Files is not installed: install it from the Service Store first');
    return s;
  }

  #account(account: string): Exclude<FilesServiceState, 'unknown' | 'not_installed'> {
    const state = this.#state();
    if (!this.#d.accounts().includes(account))
      throw new AppError('not_found', `${account} has no account on the Files service`, {
        fields: [{ field: 'account', message: 'has no Files account' }],
      });
    return state;
  }

  async #quotaMb(state: Exclude<FilesServiceState, 'unknown' | 'not_installed'>): Promise<number> {
    return (await this.#d.volume.quotaMb()) ?? state.defaultQuotaMb ?? DEFAULT_QUOTA_MB;
  }
}

function formatMb(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;
}
