// The host ports the core holds, as the policy's context wants them: whatever the cell's containers
// publish now (the .env overrides included, e.g. API_PORT, WEBUI_PORT), plus the well-known ports the
// core may publish later (443 once HTTPS is on, the defaults before a .env moves them), so a service
// never takes a port the owner would need back.
import type { DesiredState } from '../../schema/runtime.ts';
import type { HeldPort } from './manifest-policy.ts';

const ALWAYS_HELD: readonly HeldPort[] = [
  { proto: 'udp', port: 53, holder: 'core (DNS)' },
  { proto: 'tcp', port: 53, holder: 'core (DNS)' },
  { proto: 'tcp', port: 80, holder: 'core (HTTP)' },
  { proto: 'tcp', port: 443, holder: 'core (HTTPS)' },
  { proto: 'udp', port: 123, holder: 'core (NTP)' },
  { proto: 'udp', port: 51820, holder: 'core (WireGuard)' },
  { proto: 'tcp', port: 3000, holder: 'core (API)' },
  { proto: 'tcp', port: 8081, holder: 'core (web UI)' },
];

export function coreHeldPorts(desired: DesiredState): HeldPort[] {
  const published = desired.containers.flatMap((c) =>
    c.ports.map((p) => ({ proto: p.proto, port: p.hostPort, holder: `core (${c.name})` })),
  );
  const out = [...published];
  for (const p of ALWAYS_HELD) if (!out.some((o) => o.proto === p.proto && o.port === p.port)) out.push(p);
  return out;
}

/** The ports every cell's core holds whatever its configuration (for checks made off a cell: publish). */
export function alwaysHeldPorts(): HeldPort[] {
  return [...ALWAYS_HELD];
}
