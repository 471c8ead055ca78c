// `pic peers list|add|remove|config`, `pic list-peers` and `pic show-routes`: the peer use-cases run on
// the data directory through core (as `pic admin` does), applied live through cell-wireguard when the
// Docker engine and that container are reachable; otherwise stored, and the API applies them when the
// data plane runs. Output never contains a key except the config a user asked for.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import { type Cell, createCell } from '../../composition.ts';
import { AppError } from '../../core/errors.ts';
import type { WireguardPort } from '../../core/peers/wireguard-port.ts';
import { cellPaths } from '../../drivers/paths.ts';
import { createPeerSchema } from '../../schema/peers.ts';
import { runtimeContext } from '../runtime-context.ts';
import { defaultDataDir, UsageError } from '../usage.ts';

export const peersHelp = `pic peers list|add|remove|config [--data-dir DIR] [--dir CELL_DIR]
  list                      the peers (name, address, state, routing, services)
  add NAME [--public-key KEY] [--routing full|split] [--services dns,ntp,web] [--internet]
           [--peer-to-peer] [--no-account]
                            adds a peer; prints its config and, with an account, its password (once)
  remove NAME               removes the peer, its login and its tunnel
  config NAME [--qr]        prints the peer's wg-quick config (with --qr also as a QR code)
  Changes apply live when cell-wireguard runs; otherwise the API applies them when it does.`;
export const listPeersHelp = 'pic list-peers [--data-dir DIR]\n  Same as `pic peers list`.';
export const showRoutesHelp = `pic show-routes [--dir CELL_DIR] [--data-dir DIR]
  WireGuard peers and routes inside cell-wireguard (wg show, ip route); without a running cell,
  the addresses each stored peer will get.`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  dir: { type: 'string' },
  'public-key': { type: 'string' },
  routing: { type: 'string' },
  services: { type: 'string' },
  internet: { type: 'boolean' },
  'peer-to-peer': { type: 'boolean' },
  'no-account': { type: 'boolean' },
  qr: { type: 'boolean' },
} as const;

function requireCell(dataDir: string): string {
  if (!existsSync(cellPaths(dataDir).db))
    throw new Error(`no cell in ${dataDir} (cell.db not found); pass the --data-dir that \`pic serve\` uses`);
  return dataDir;
}

/** The cell, with cell-wireguard as its data plane when one was found (see dataPlane). */
function open(dataDir: string, wireguard?: WireguardPort): Cell {
  return createCell({ dataDir, sweepTemps: false, writeLogs: false, background: false, wireguard });
}

/** cell-wireguard through docker exec, when the engine answers and the container exists. */
async function dataPlane(dir: string | undefined) {
  try {
    return await runtimeContext(dir).wireguard();
  } catch {
    return undefined;
  }
}

function audit(cell: Cell, action: string, target: string): void {
  cell.deps.audit.record({ source: 'cli', action, target });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function applied(a: { applied: boolean }): string {
  return a.applied ? 'applied to cell-wireguard' : 'stored; applied when the data plane runs';
}

export async function peers(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: OPTIONS,
    strict: true,
    allowPositionals: true,
  });
  if (!sub || !['list', 'add', 'remove', 'config'].includes(sub))
    throw new UsageError(
      sub ? `unknown peers command "${sub}"` : 'missing peers command (list, add, remove, config)',
    );
  const dataDir = requireCell(values['data-dir'] ?? defaultDataDir());
  const name = positionals[0] ?? '';
  if (sub !== 'list' && (!name || positionals.length > 1))
    throw new UsageError(`peers ${sub} takes one NAME`);
  // The data plane is found before the cell is built: add and remove apply through it.
  const wg = sub === 'add' || sub === 'remove' ? await dataPlane(values.dir) : undefined;
  const cell = open(dataDir, wg?.port);
  try {
    if (sub === 'list') {
      const list = cell.deps.peers.list();
      if (!list.length) console.log('No peers yet (add one with `pic peers add NAME`).');
      else
        console.log(
          table([
            ['NAME', 'ADDRESS', 'STATE', 'ROUTING', 'SERVICES', 'INTERNET'],
            ...list.map((p) => [
              p.name,
              p.address,
              p.enabled ? 'enabled' : 'disabled',
              p.routing,
              p.services.join(',') || '-',
              p.internet ? 'yes' : 'no',
            ]),
          ]),
        );
      return 0;
    }
    if (sub === 'config') {
      const { config } = cell.deps.peers.exportConfig(name);
      console.log(config.trimEnd());
      if (values.qr) console.log(await QRCode.toString(config, { type: 'terminal', small: true }));
      return 0;
    }
    if (sub === 'remove') {
      const r = await cell.deps.peers.remove(name);
      audit(cell, 'peers remove', `name=${name}`);
      console.log(`Removed ${name} (${applied(r)}).`);
      return 0;
    }
    const parsed = createPeerSchema.safeParse({
      name,
      ...(values['public-key'] ? { public_key: values['public-key'] } : {}),
      ...(values.routing ? { routing: values.routing } : {}),
      ...(values.services !== undefined ? { services: values.services.split(',').filter(Boolean) } : {}),
      ...(values.internet ? { internet: true } : {}),
      ...(values['peer-to-peer'] ? { peer_to_peer: true } : {}),
      ...(values['no-account'] ? { create_account: false } : {}),
    });
    if (!parsed.success)
      throw new UsageError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '),
      );
    const r = await cell.deps.peers.create(parsed.data);
    audit(cell, 'peers add', `name=${name}`);
    console.log(`Added ${name} at ${r.peer.address} (${applied(r.apply)}).`);
    if (r.password) console.log(`Login ${name} / password (shown once): ${r.password}`);
    console.log(`\n${r.config.trimEnd()}`);
    return 0;
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      console.error(`pic peers ${sub}: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    cell.close();
  }
}

export async function listPeers(argv: string[]): Promise<number> {
  return peers(['list', ...argv]);
}

export async function showRoutes(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'data-dir': OPTIONS['data-dir'], dir: OPTIONS.dir },
    strict: true,
  });
  const dataDir = requireCell(values['data-dir'] ?? defaultDataDir());
  const run = (await dataPlane(values.dir))?.run;
  const cell = open(dataDir);
  try {
    if (run) {
      // `wg show` hides the private and preshared keys.
      console.log((await run(['wg', 'show', 'wg0'])).trimEnd());
      console.log(`\n${(await run(['ip', 'route'])).trimEnd()}`);
      return 0;
    }
    console.log('cell-wireguard is not running; stored peers and the routes they will get:');
    const list = cell.deps.peers.list();
    console.log(
      table([
        ['PEER', 'ALLOWED IPS', 'STATE'],
        ...list.map((p) => [p.name, `${p.address}/32`, p.enabled ? 'enabled' : 'disabled']),
      ]),
    );
    return 0;
  } finally {
    cell.close();
  }
}
