// Asks the cell's own configured forwarders (core passes them; never any other server) what the world
// sees for a record the cell asks its owner to publish (core's PublicDnsPort). node:dns's Resolver,
// with a short timeout and one try per server; answers are written the way the zone writes values
// (lowercase names without the trailing dot, TXT strings joined).
import { Resolver } from 'node:dns/promises';
import type { PublicDnsPort } from '../../core/ports/service-hooks.ts';

/** No such name or no record of the type: an empty answer, not an error. */
const NONE = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'NODATA']);

export function publicDnsLookup(opts: { timeoutMs?: number; port?: number } = {}): PublicDnsPort {
  return {
    async lookup(servers, fqdn, type) {
      const r = new Resolver({ timeout: opts.timeoutMs ?? 2_000, tries: 1 });
      r.setServers(servers.map((s) => (opts.port ? `${s}:${opts.port}` : s)));
      const host = (n: string) => n.toLowerCase().replace(/\.$/, '');
      try {
        switch (type) {
          case 'MX':
            return (await r.resolveMx(fqdn)).map((m) => `${m.priority} ${host(m.exchange)}`);
          case 'TXT':
            return (await r.resolveTxt(fqdn)).map((chunks) => chunks.join(''));
          case 'SRV':
            return (await r.resolveSrv(fqdn)).map(
              (s) => `${s.priority} ${s.weight} ${s.port} ${s.name === '' ? '.' : host(s.name)}`,
            );
        }
      } catch (err) {
        if (NONE.has((err as { code?: string }).code ?? '')) return [];
        throw err;
      } finally {
        r.cancel();
      }
    },
  };
}
