// Peers: the people and devices on the cell's WireGuard network. What the API accepts (create and
// update bodies) and what it answers. Every value that reaches a rendered WireGuard or iptables file is
// one of these allow-listed types, so a value that parses can be written verbatim.
import { z } from 'zod';
import { dnsLabel, newPassword } from './fields.ts';
import { grantableServiceId, PEER_SERVICE_IDS } from './peers-services.ts';

/** A WireGuard key: 32 bytes in standard base64 (44 characters, the last bits of a 32-byte value). */
export const wgKey = z
  .string()
  .regex(
    /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/,
    'must be a WireGuard key: 32 bytes in base64 (44 characters)',
  );

export const peerName = dnsLabel;
/**
 * A new peer's name: also its name in the cell's zone (`<peer>.<domain>`), so never a service's
 * (`web.<domain>` is Caddy). Existing peers keep being addressed by `peerName`.
 */
export const newPeerName = peerName.refine(
  (n) => !(PEER_SERVICE_IDS as readonly string[]).includes(n),
  `is the name of a cell service (${PEER_SERVICE_IDS.join(', ')})`,
);
export const routingMode = z.enum(['full', 'split']);
export type RoutingMode = z.infer<typeof routingMode>;

/** ISO 8601 date-time with a zone (2026-12-31T23:59:00Z); null clears it. */
export const expiresAt = z.iso.datetime({ offset: true }).nullable();

const accessFields = {
  routing: routingMode,
  /**
   * Cell services this peer may reach (core services and installed store services, by id);
   * everything else on the cell network is refused.
   */
  services: z.array(grantableServiceId).max(64),
  /** May the peer reach addresses outside the cell (through the cell)? */
  internet: z.boolean(),
  /** May the peer reach other peers that also allow it? */
  peer_to_peer: z.boolean(),
  /** The cell's DNS blocklists apply to the peer's queries (default true; ADR 0020). */
  blocklists: z.boolean(),
  enabled: z.boolean(),
  expires_at: expiresAt,
};

export const createPeerSchema = z
  .object({
    name: newPeerName,
    /** The device's own public key: the cell then never holds its private key. */
    public_key: wgKey.optional(),
    ...z.object(accessFields).partial().shape,
    /** Create a login (role peer, username = name) for the peer dashboard. Default true. */
    create_account: z.boolean().optional(),
    /** The login's password; generated (and returned once) when absent. */
    password: newPassword.optional(),
  })
  .strict();
export type CreatePeerInput = z.infer<typeof createPeerSchema>;

export const updatePeerSchema = z
  .object({
    public_key: wgKey.optional(),
    ...z.object(accessFields).partial().shape,
  })
  .strict();
export type UpdatePeerInput = z.infer<typeof updatePeerSchema>;

export const peerNameParams = z.object({ name: peerName }).strict();

/** A peer as the API shows it. Never a private or preshared key. */
export const peerView = z.object({
  name: z.string(),
  address: z.string(),
  public_key: z.string(),
  /** false when the device brought its own key: the exported config then has no PrivateKey. */
  has_private_key: z.boolean(),
  routing: routingMode,
  services: z.array(z.string()),
  internet: z.boolean(),
  peer_to_peer: z.boolean(),
  blocklists: z.boolean(),
  enabled: z.boolean(),
  expires_at: z.string().nullable(),
  account: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PeerView = z.infer<typeof peerView>;

export const peerConfigView = z.object({
  config: z.string(),
  /** QR code of `config` as an SVG data URL (scan with the WireGuard app). */
  qr: z.string(),
  has_private_key: z.boolean(),
});

export const trafficQuery = z.object({ since: z.iso.datetime({ offset: true }).optional() }).strict();

export const configLinkBody = z
  .object({
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional(),
  })
  .strict();

export const configLinkParams = z
  .object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'must be a config link token') })
  .strict();
