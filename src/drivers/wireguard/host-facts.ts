// The host's facts for cell-api (see schema/host-facts.ts): read by `pic up` on the host, and read
// back by cell-api from the PIC_HOST_FACTS variable the container was created with.
import { spawnSync } from 'node:child_process';
import { HOST_FACTS_VAR, type HostFacts, hostFactsSchema } from '../../schema/host-facts.ts';
import { hostAddresses, hostName } from './endpoint-guess.ts';

/**
 * A documentation address (RFC 5737): asking the kernel which route it would take names the source
 * address of the default route. `ip route get` only consults the routing table; it sends no packet.
 */
const PROBE_DESTINATION = '192.0.2.1';

/** Source address of the host's default route, from `ip -j route get` (argv, no shell). */
export function defaultRouteAddress(): string | undefined {
  const r = spawnSync('ip', ['-j', 'route', 'get', PROBE_DESTINATION], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return undefined;
  try {
    const routes = JSON.parse(r.stdout) as Array<{ prefsrc?: string }>;
    return routes.find((x) => x.prefsrc)?.prefsrc;
  } catch {
    return undefined;
  }
}

/** What `pic up` hands over; a value that fails the schema (an odd host name) is left out. */
export function readHostFacts(): HostFacts {
  const raw = {
    address: defaultRouteAddress(),
    name: hostName(),
    addresses: [...new Set(hostAddresses())].sort(),
  };
  const facts: HostFacts = {};
  for (const key of ['address', 'name', 'addresses'] as const) {
    const one = hostFactsSchema.shape[key].safeParse(raw[key]);
    if (one.success && one.data !== undefined) Object.assign(facts, { [key]: one.data });
  }
  return facts;
}

/** The facts cell-api was created with; undefined outside the cell or when the variable is unusable. */
export function hostFactsFromEnv(env: NodeJS.ProcessEnv = process.env): HostFacts | undefined {
  const text = env[HOST_FACTS_VAR];
  if (!text) return undefined;
  try {
    const r = hostFactsSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
