// chrony's configuration for cell-ntp, rendered by PIC from the cell's configuration (it used to be
// written by the image's entrypoint from the environment). No public pool ever: upstreams come from
// network.ntp_servers only; with none, chronyd serves its own clock at a local stratum.
import { z } from 'zod';
import { cidr4, domainName, ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';

export interface ChronyConfInput {
  /** Upstream NTP servers (addresses or host names); empty = serve the local clock. */
  servers: readonly string[];
  /** Client networks allowed to ask (the VPN and the cell network). */
  allow: readonly string[];
}

/** Poll interval bounds (log2 seconds) and the stratum of the local clock: fixed, as the image had them. */
const MINPOLL = 4;
const MAXPOLL = 10;
const LOCAL_STRATUM = 10;

const input = z
  .object({
    servers: z.array(z.union([ipv4, domainName])).max(8),
    allow: z.array(cidr4).max(16),
  })
  .strict();

export function renderChronyConf(raw: ChronyConfInput): Rendered {
  const { servers, allow } = must(input, raw, 'chrony.conf');
  const out = [
    '# Rendered by PIC from the cell configuration; edits are overwritten. No public pool.',
    'driftfile /var/lib/chrony/chrony.drift',
    // chronyc works inside the container only: loopback and the Unix socket.
    'bindcmdaddress 127.0.0.1',
    'bindcmdaddress /run/chrony/chronyd.sock',
    'cmdallow 127.0.0.1',
    ...servers.map((s) => `server ${s} iburst minpoll ${MINPOLL} maxpoll ${MAXPOLL}`),
    ...(servers.length === 0
      ? ['# No upstream: serve this host clock.', `local stratum ${LOCAL_STRATUM}`]
      : []),
    ...allow.map((a) => `allow ${a}`),
    'makestep 1 3',
    'maxupdateskew 100.0',
  ];
  return { output: `${out.join('\n')}\n`, warnings: [] };
}
