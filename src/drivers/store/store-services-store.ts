// Thin SQL over store_services (migration "store services"): core's InstalledServicesRepository.
// Every row is checked again on read (id, manifest, image IDs, address): a restored database may
// carry rows no install ever wrote, and a manifest that no longer parses must never be rendered.
import type {
  InstalledService,
  InstalledServicesRepository,
  InstalledState,
} from '../../core/ports/service-store.ts';
import { ipv4 } from '../../schema/fields.ts';
import { parseServiceManifest, serviceId } from '../../schema/service-manifest.ts';
import { type Db, stmt } from '../db.ts';

const STATES: readonly InstalledState[] = ['installing', 'running', 'failed'];
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

function parseRow(r: Record<string, unknown>): InstalledService | undefined {
  const id = String(r.id);
  if (!serviceId.safeParse(id).success) return undefined;
  const state = String(r.state) as InstalledState;
  if (!STATES.includes(state)) return undefined;
  let manifest: unknown;
  let images: unknown;
  try {
    manifest = JSON.parse(String(r.manifest));
    images = JSON.parse(String(r.images));
  } catch {
    return undefined;
  }
  const m = parseServiceManifest(manifest);
  if (!m.ok || m.manifest.id !== id) return undefined;
  if (typeof images !== 'object' || images === null || Array.isArray(images)) return undefined;
  const pinned: Record<string, string> = {};
  for (const [k, v] of Object.entries(images)) {
    if (typeof v !== 'string' || !IMAGE_ID.test(v)) return undefined;
    if (!m.manifest.containers.some((c) => c.name === k)) return undefined;
    pinned[k] = v;
  }
  const vip = r.virtual_ip === null ? undefined : String(r.virtual_ip);
  if (vip !== undefined && !ipv4.safeParse(vip).success) return undefined;
  return {
    id,
    version: m.manifest.version,
    state,
    virtualIp: vip,
    images: pinned,
    manifest: m.manifest,
    installedAt: String(r.installed_at),
    lastError: r.last_error === null ? undefined : String(r.last_error),
  };
}

export class StoreServicesStore implements InstalledServicesRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(): InstalledService[] {
    const rows = stmt(this.#db, 'SELECT * FROM store_services ORDER BY id').all();
    return rows.flatMap((r) => parseRow(r as Record<string, unknown>) ?? []);
  }

  get(id: string): InstalledService | undefined {
    const r = stmt(this.#db, 'SELECT * FROM store_services WHERE id = ?').get(id);
    return r ? parseRow(r as Record<string, unknown>) : undefined;
  }

  put(s: InstalledService): void {
    stmt(
      this.#db,
      `INSERT INTO store_services (id, version, state, virtual_ip, images, manifest, installed_at, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state,
         virtual_ip = excluded.virtual_ip, images = excluded.images, manifest = excluded.manifest,
         installed_at = excluded.installed_at, last_error = excluded.last_error`,
    ).run(
      s.id,
      s.version,
      s.state,
      s.virtualIp ?? null,
      JSON.stringify(s.images),
      JSON.stringify(s.manifest),
      s.installedAt,
      s.lastError ?? null,
    );
  }

  setState(id: string, state: InstalledState, lastError: string | undefined): void {
    stmt(this.#db, 'UPDATE store_services SET state = ?, last_error = ? WHERE id = ?').run(
      state,
      lastError ?? null,
      id,
    );
  }

  remove(id: string): void {
    stmt(this.#db, 'DELETE FROM store_services WHERE id = ?').run(id);
  }
}
