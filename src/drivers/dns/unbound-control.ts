// The DnsServerPort on unbound-control. Every apply writes the rendered zone file (what a restart of
// cell-dns loads) and changes the running Unbound by the difference from the last apply
// (zone-delta.ts: local_datas_remove, local_datas, view_local_zone[_remove]; local_zone[_remove] for a
// domain switch); no restart, and names the change does not touch keep answering throughout. When the live state is unknown (the first apply
// of this process, a failed apply, a view the loaded config lacks) the whole configuration is checked
// with unbound-checkconf and reloaded (reload_keep_cache): a refused file never reaches the daemon.
//
// Where the commands run is the caller's: inside cell-dns through one long-lived `docker exec` of
// pic-dns-control (control-session.ts; it speaks the control protocol itself on cell-dns's loopback,
// plain TCP that only the container reaches, ADR 0017; a `docker exec` of unbound-control per command
// when the session is unavailable) — or a local process in tests.
// Always argv arrays, never a shell; record data goes on stdin, never in an argument.
//
// Blocklists (ADR 0020): with blocked names given, two policy zone files sit beside the zone file and
// zone.conf loads them; a change of the names or of the exempted peers is a file write and
// `auth_zone_reload` of that zone (Unbound reads the file itself), never a config reload.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { ExecResult } from '../../core/ports/container-engine.ts';
import type { BlockedNames, DnsApplyResult, DnsServerPort } from '../../core/ports/dns-server.ts';
import { type CellZoneInput, renderCellZone } from '../../render/unbound/cell-zone.ts';
import {
  BLOCKLIST_ZONE,
  EXEMPT_ZONE,
  renderBlocklistZone,
  renderExemptZone,
} from '../../render/unbound/policy-zones.ts';
import { isEmptyDelta, zoneDelta } from '../../render/unbound/zone-delta.ts';
import { type BlockedDrain, parseBlockedDrain } from '../../schema/blocklists.ts';

/**
 * Unbound's control server reads each `local_datas` line into a 2048-byte buffer and stops reading at a
 * longer one (the rest of the batch is lost): a record that long (a TXT near TXT_MAX) goes through the
 * file and a reload instead.
 */
export const CONTROL_LINE_MAX = 2047;

export type Exec = (argv: string[], opts?: { stdin?: string }) => Promise<ExecResult>;

export interface UnboundControlOptions {
  exec: Exec;
  /** unbound.conf as the commands see it (inside cell-dns: /etc/unbound/unbound.conf). */
  conf: string;
  /** Where this process writes the zone file (the config/dns/ directory cell-dns includes). */
  zonePath: string;
  /** Writes a rendered file atomically (writeFileAtomic), unless it already holds this content. */
  writeFile: (path: string, content: string) => void;
  /** The zone file's directory as cell-dns sees it (default: the directory of zonePath). */
  includeDirInDns?: string;
  /** What drains the per-client blocked counts (default: cell-dns's `pic-dns-blocked drain`). */
  drainArgv?: readonly string[];
}

const RELOAD_WAIT_MS = 15_000;
const RPZ_COUNTER = /^num\.rpz\.action\.rpz-nxdomain=(\d+)$/m;

export class UnboundControlError extends Error {}

export class UnboundControl implements DnsServerPort {
  readonly #o: UnboundControlOptions;
  #last: CellZoneInput | undefined;
  #lastExempt: string | undefined;
  #lastDigest: string | undefined;
  /** Blocked queries counted before the last reload (a reload zeroes Unbound's counters). */
  #carried = 0;

  constructor(opts: UnboundControlOptions) {
    this.#o = opts;
  }

  /**
   * True without asking when the last apply succeeded (the live state is known): a change then costs
   * one unbound-control run, not two. If cell-dns went away since, that apply fails, the caller
   * resets, and the next call asks again.
   */
  async running(): Promise<boolean> {
    if (this.#last) return true;
    try {
      return (await this.#o.exec(['unbound-control', '-c', this.#o.conf, 'status'])).exitCode === 0;
    } catch {
      return false;
    }
  }

  reset(): void {
    this.#last = undefined;
  }

  async blockedQueries(): Promise<number | undefined> {
    try {
      return this.#carried + (await this.#counter());
    } catch {
      return undefined;
    }
  }

  /**
   * The blocked queries per client and name since the last drain, read from cell-dns's
   * pic-dns-blocked (it forgets them: at most once, ADR 0020 amendment); undefined when it does not
   * answer (cell-dns down, an image without the tap) or answers something else.
   */
  async drainBlocked(): Promise<BlockedDrain | undefined> {
    try {
      const r = await this.#o.exec([...(this.#o.drainArgv ?? ['pic-dns-blocked', 'drain'])]);
      return r.exitCode === 0 ? parseBlockedDrain(r.stdout) : undefined;
    } catch {
      return undefined;
    }
  }

  async #counter(): Promise<number> {
    const out = await this.#control(['stats_noreset']);
    return Number(RPZ_COUNTER.exec(out)?.[1] ?? 0);
  }

  async apply(input: CellZoneInput, blocked?: BlockedNames): Promise<DnsApplyResult> {
    const inDns = this.#o.includeDirInDns ?? dirname(this.#o.zonePath);
    const zone: CellZoneInput = {
      ...structuredClone(input), // the caller may change its arrays after this apply
      policy: blocked
        ? { exemptFile: join(inDns, 'exempt.rpz'), blocklistFile: join(inDns, 'blocklist.rpz') }
        : undefined,
    };
    const text = renderCellZone(zone).output;
    const live = this.#last ? zoneDelta(this.#last, zone) : undefined;
    const delta = live?.addData.every((l) => Buffer.byteLength(l) < CONTROL_LINE_MAX) ? live : undefined;
    const exempt = blocked
      ? renderExemptZone(zone.views.filter((v) => v.block === false).map((v) => v.address))
      : undefined;
    const exemptChanged = exempt !== undefined && exempt !== this.#lastExempt;
    const namesChanged = blocked !== undefined && blocked.digest !== this.#lastDigest;
    const here = dirname(this.#o.zonePath);
    // The policy files before anything loads them (a reload, an auth_zone_reload, a restart).
    if (blocked && (namesChanged || !delta))
      this.#o.writeFile(
        join(here, 'blocklist.rpz'),
        renderBlocklistZone(blocked.names(), serialOf(blocked.digest)),
      );
    if (exempt !== undefined && (exemptChanged || !delta))
      this.#o.writeFile(join(here, 'exempt.rpz'), exempt);
    this.#last = undefined; // unknown until this apply completes
    if (!delta) {
      this.#o.writeFile(this.#o.zonePath, text);
      await this.#run(['unbound-checkconf', this.#o.conf]);
      // A reload zeroes Unbound's counters: keep the blocked queries counted so far.
      if (blocked) this.#carried += await this.#counter().catch(() => 0);
      await this.#control(['reload_keep_cache']);
      await this.#reloaded();
      this.#remember(zone, exempt, blocked);
      return { mode: 'full' };
    }
    if (isEmptyDelta(delta) && !exemptChanged && !namesChanged) {
      this.#o.writeFile(this.#o.zonePath, text);
      this.#remember(zone, exempt, blocked);
      return { mode: 'unchanged' };
    }
    if (exemptChanged) await this.#control(['auth_zone_reload', EXEMPT_ZONE]);
    if (namesChanged) await this.#control(['auth_zone_reload', BLOCKLIST_ZONE]);
    if (delta.zone) {
      // A domain switch (zone-delta.ts): the new zone, transparent while it fills (a name not added
      // yet is resolved as before the switch, not answered NXDOMAIN), its denials before its records
      // (a denied service never answers), static once whole; then the old zone (its records go with
      // it) and its denials.
      await this.#control(['local_zone', delta.zone.add, 'transparent']);
      for (const v of delta.viewAdd)
        await this.#control(['view_local_zone', v.view, v.name, 'always_nxdomain']);
      if (delta.addData.length) await this.#control(['local_datas'], `${delta.addData.join('\n')}\n`);
      await this.#control(['local_zone', delta.zone.add, 'static']);
      await this.#control(['local_zone_remove', delta.zone.remove]);
      for (const v of delta.viewRemove) await this.#control(['view_local_zone_remove', v.view, v.name]);
      this.#o.writeFile(this.#o.zonePath, text);
      this.#remember(zone, exempt, blocked);
      return { mode: 'delta' };
    }
    if (delta.removeNames.length)
      await this.#control(['local_datas_remove'], `${delta.removeNames.join('\n')}\n`);
    if (delta.addData.length) await this.#control(['local_datas'], `${delta.addData.join('\n')}\n`);
    for (const v of delta.viewRemove) await this.#control(['view_local_zone_remove', v.view, v.name]);
    for (const v of delta.viewAdd)
      await this.#control(['view_local_zone', v.view, v.name, 'always_nxdomain']);
    // The file a restart loads is written once the change is live (its fsync is not on the way to the
    // answer); if this process stops in between, its first apply after the restart is a full one.
    this.#o.writeFile(this.#o.zonePath, text);
    this.#remember(zone, exempt, blocked);
    return { mode: 'delta' };
  }

  /**
   * reload_keep_cache answers before Unbound has read the new config (its control port is closed
   * meanwhile, ~1 s with a 100k-name blocklist): the apply completes once control answers again, so
   * the next command does not meet a refused connection. Polls a condition, at most RELOAD_WAIT_MS.
   */
  async #reloaded(): Promise<void> {
    const deadline = Date.now() + RELOAD_WAIT_MS;
    for (;;) {
      const r = await this.#o.exec(['unbound-control', '-c', this.#o.conf, 'status']).catch(() => undefined);
      if (r?.exitCode === 0) return;
      if (Date.now() > deadline) throw new UnboundControlError('unbound did not come back after a reload');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  #remember(zone: CellZoneInput, exempt: string | undefined, blocked: BlockedNames | undefined): void {
    this.#last = zone;
    this.#lastExempt = exempt;
    this.#lastDigest = blocked?.digest;
  }

  async #control(args: string[], stdin?: string): Promise<string> {
    return this.#run(['unbound-control', '-c', this.#o.conf, ...args], stdin);
  }

  async #run(argv: string[], stdin?: string): Promise<string> {
    const r = await this.#o.exec(argv, stdin === undefined ? {} : { stdin });
    // unbound-control exits 0 on some refusals and reports them on stdout, one "error" line each.
    const refused = /^error/m.test(r.stdout);
    if (r.exitCode !== 0 || refused) {
      const why = `${r.stdout}${r.stderr}`.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300);
      const what = argv[0] === 'unbound-control' ? `unbound-control ${argv[3]}` : argv[0];
      throw new UnboundControlError(`${what} failed: ${why}`);
    }
    return r.stdout;
  }
}

/** A zone serial from the names' digest: it changes with the content (Unbound only logs it). */
const serialOf = (digest: string) => createHash('sha256').update(digest).digest().readUInt32BE(0) || 1;

/** Runs argv as a local process (no shell): the Exec of tests and of a host-run Unbound. */
export const localExec: Exec = (argv, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    // A child that exits before reading its stdin (unbound-control refused, a daemon stopping) makes
    // the write fail with EPIPE: its exit code and output say what happened, the pipe error is noise
    // that would otherwise be an uncaught exception.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) =>
      resolve({
        exitCode: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.end(opts.stdin ?? '');
  });
