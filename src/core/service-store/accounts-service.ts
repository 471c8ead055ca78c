// Per-peer accounts on installed store services: the owner adds a peer's account (a password of
// their own, or one generated here and shown once), lists and removes them; a peer reads its own
// credentials; deleting a peer removes its accounts on every service (the spec). The service's
// manifest supplies argv hooks that run in its container: `add` gets the password on stdin, never
// in an argument, so it appears in no process list and no log.
import { randomBytes } from 'node:crypto';
import { renderMobileconfig } from '../../render/apple/mobileconfig.ts';
import { renderMailAutoconfig } from '../../render/mail/autoconfig.ts';
import type { AddAccountBody, MyServiceAccount, ServiceAccountView } from '../../schema/service-accounts.ts';
import { RateLimiter } from '../auth/rate-limiter.ts';
import { AppError, notFound } from '../errors.ts';
import type {
  AccountTarget,
  AccountTargets,
  HookRunner,
  ServiceAccountsRepository,
} from '../ports/service-accounts.ts';
import { CLIENT_SETUPS, clientFor, setupHost } from './client-setup.ts';

export interface AccountsServiceDeps {
  repo: ServiceAccountsRepository;
  targets: AccountTargets;
  hooks: HookRunner;
  /** Whether a peer of this name exists (accounts are per peer). */
  peerExists: (name: string) => boolean;
  now?: () => Date;
  onError?: (what: string, err: unknown) => void;
}

/** 18 random bytes in base64url: 24 characters, 144 bits, nothing a phone keyboard fights with. */
export const generatePassword = () => randomBytes(18).toString('base64url');

const USERNAME_PLACEHOLDER = '{username}';

export class AccountsService {
  readonly #d: AccountsServiceDeps;
  /** One change at a time per service: hooks edit one users file. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Autoconfig is public: a source gets 60 answers a minute, like any public document of the cell. */
  readonly autoconfigFetches = new RateLimiter({ max: 60, windowMs: 60_000 });

  constructor(deps: AccountsServiceDeps) {
    this.#d = deps;
  }

  async list(serviceId: string): Promise<{ service: string; accounts: ServiceAccountView[] }> {
    const target = this.#target(serviceId);
    const listed = await this.#listed(target).catch(() => undefined);
    return {
      service: serviceId,
      accounts: this.#d.repo.list(serviceId).map((r) => ({
        username: r.username,
        created_at: r.createdAt,
        in_service: listed ? listed.has(r.username) : null,
      })),
    };
  }

  add(
    serviceId: string,
    body: AddAccountBody,
  ): Promise<{ service: string; username: string; password?: string; generated: boolean }> {
    const target = this.#target(serviceId);
    if (!this.#d.peerExists(body.username))
      throw new AppError('validation_failed', `No peer is named ${body.username}`, {
        fields: [{ field: 'username', message: 'must be the name of an existing peer' }],
      });
    if (this.#d.repo.get(serviceId, body.username))
      throw new AppError('conflict', `${body.username} already has an account on ${target.name}`);
    const generated = body.password === undefined;
    const password = body.password ?? generatePassword();
    return this.#serial(serviceId, async () => {
      await this.#run(target, 'add', body.username, `${password}\n`);
      this.#d.repo.put({
        serviceId,
        username: body.username,
        password,
        createdAt: (this.#d.now?.() ?? new Date()).toISOString(),
      });
      return { service: serviceId, username: body.username, ...(generated ? { password } : {}), generated };
    });
  }

  remove(serviceId: string, username: string): Promise<void> {
    const target = this.#target(serviceId);
    if (!this.#d.repo.get(serviceId, username)) throw notFound(`Account ${username} on ${serviceId}`);
    return this.#serial(serviceId, async () => {
      await this.#run(target, 'remove', username);
      this.#d.repo.delete(serviceId, username);
    });
  }

  /** The peer's own accounts, with their passwords and where to use them (its dashboard). */
  mine(username: string): { accounts: MyServiceAccount[] } {
    const targets = new Map(this.#d.targets.all().map((t) => [t.serviceId, t]));
    return {
      accounts: this.#d.repo
        .ofUser(username)
        .filter((r) => targets.has(r.serviceId))
        .map((r) => {
          const t = targets.get(r.serviceId)!;
          const client = clientFor(t, r.username);
          return {
            service: r.serviceId,
            name: t.name,
            username: r.username,
            password: r.password,
            url: t.url,
            ...(client ? { client } : {}),
          };
        }),
    };
  }

  /**
   * An Apple configuration profile with the peer's accounts on one service (CLIENT_SETUPS says which
   * services have one: calendar's CalDAV and CardDAV, email's IMAP and SMTP) and the cell's CA to
   * trust; 404 for the others, and for a service the peer has no account on.
   */
  appleProfile(username: string, serviceId: string, cellName: string, caPem: string | undefined): string {
    const account = this.mine(username).accounts.find((a) => a.service === serviceId);
    const target = this.#d.targets.all().find((t) => t.serviceId === serviceId);
    if (!account || !target) throw notFound(`Your account on ${serviceId}`);
    const setup = CLIENT_SETUPS[serviceId];
    const host = setup?.servers[0] ? setupHost(target, setup.servers[0].host) : undefined;
    if (!setup?.profile || !host) throw notFound(`A device profile for ${serviceId}`);
    return renderMobileconfig({
      cellName,
      kind: setup.profile,
      host,
      username,
      ...(setup.mailbox ? { address: `${username}@${target.domain}` } : {}),
      password: account.password,
      ...(caPem ? { caPem } : {}),
    });
  }

  /**
   * Thunderbird's autoconfig document for the cell's mail, while a service that answers it (email)
   * is installed and running; 404 otherwise. Public, so limited per source address.
   */
  mailAutoconfig(cellName: string, source: string): string {
    const wait = this.autoconfigFetches.retryAfter(source);
    if (wait > 0)
      throw new AppError('rate_limited', 'Too many autoconfig requests; try again later', {
        retryAfter: wait,
      });
    this.autoconfigFetches.hit(source);
    for (const t of this.#d.targets.all()) {
      const setup = CLIENT_SETUPS[t.serviceId];
      const host = setup?.autoconfig && setup.servers[0] ? setupHost(t, setup.servers[0].host) : undefined;
      if (host) return renderMailAutoconfig({ domain: t.domain, host, cellName });
    }
    throw notFound('Mail autoconfig (the email service is not installed)');
  }

  /**
   * After a peer is deleted (or at start, for a deletion a crash interrupted): every account of a
   * name no peer holds is removed from its service, then forgotten. A failing hook is reported and
   * its row kept, to be tried again next time.
   */
  async removeOrphans(): Promise<void> {
    for (const username of this.#d.repo.usernames()) {
      if (this.#d.peerExists(username)) continue;
      for (const row of this.#d.repo.ofUser(username)) {
        const target = this.#d.targets.target(row.serviceId);
        if (typeof target === 'string') {
          // Uninstalled (or gone from the catalog): nothing runs there to remove it from.
          if (target !== 'no_hooks') this.#d.repo.delete(row.serviceId, username);
          continue;
        }
        await this.#serial(row.serviceId, async () => {
          await this.#run(target, 'remove', username);
          this.#d.repo.delete(row.serviceId, username);
        }).catch((err: unknown) => this.#d.onError?.(`removing ${username} from ${row.serviceId}`, err));
      }
    }
  }

  #target(serviceId: string): AccountTarget {
    const t = this.#d.targets.target(serviceId);
    if (t === 'unknown') throw notFound(`Service ${serviceId}`);
    if (t === 'not_installed')
      throw new AppError(
        'conflict',
        `${serviceId} is not installed: install it from the Service Store first`,
      );
    if (t === 'no_hooks') throw new AppError('conflict', `${serviceId} has no per-peer accounts`);
    return t;
  }

  async #listed(target: AccountTarget): Promise<Set<string>> {
    const r = await this.#d.hooks.run(target.container, target.hooks.list);
    if (r.exitCode !== 0) throw new Error(`list exited ${r.exitCode}`);
    return new Set(
      r.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    );
  }

  async #run(target: AccountTarget, hook: 'add' | 'remove', username: string, stdin?: string) {
    const argv = target.hooks[hook].map((a) => (a === USERNAME_PLACEHOLDER ? username : a));
    const r = await this.#d.hooks.run(target.container, argv, stdin).catch((err: unknown) => {
      throw new AppError('unavailable', `${target.name} could not be reached: ${(err as Error).message}`);
    });
    if (r.exitCode !== 0) {
      // The hook's own words (its stderr), never what was sent to it: stdin held the password.
      const why = r.stderr.trim().split('\n').at(-1)?.slice(0, 200) || `exit code ${r.exitCode}`;
      throw new AppError('unavailable', `${target.name} refused to ${hook} ${username}: ${why}`);
    }
  }

  #serial<T>(serviceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(serviceId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.#queues.set(serviceId, next);
    return next;
  }
}
