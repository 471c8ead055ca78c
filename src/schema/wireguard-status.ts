// GET /api/wireguard/status: the interface and each stored peer's live state. One zod schema, the
// type inferred from it (the route answers with this schema).
import { z } from 'zod';

export const wireguardPeerStatus = z.object({
  name: z.string(),
  address: z.string(),
  public_key: z.string(),
  enabled: z.boolean(),
  connected: z.boolean(),
  endpoint: z.string().nullable(),
  latest_handshake: z.string().nullable(),
  handshake_age_s: z.number().nullable(),
  rx: z.number(),
  tx: z.number(),
});

export const wireguardStatus = z.object({
  interface: z.string(),
  running: z.boolean(),
  pending: z.boolean(),
  public_key: z.string(),
  address: z.string(),
  listen_port: z.number(),
  /** host:port written into exported peer configs. */
  endpoint: z.string(),
  /**
   * Where the endpoint's host came from: the owner's setting, the host's default-route address or name
   * as `pic up` handed them over, or a guess from cell-api's own interfaces.
   */
  endpoint_source: z.enum(['config', 'host_route', 'host_name', 'guess']),
  /** Why devices may fail to reach the endpoint (a private address, not this host, a name that does not resolve). */
  endpoint_warnings: z.array(
    z.object({ code: z.enum(['private_address', 'not_this_host', 'unresolved']), message: z.string() }),
  ),
  peers: z.array(wireguardPeerStatus),
});
export type WireguardStatus = z.infer<typeof wireguardStatus>;
