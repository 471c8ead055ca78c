// A peer's wg-quick config, what the WireGuard apps import (file or QR). DNS is the cell's resolver as
// reached over the tunnel (the server's VPN address, DNAT'ed to cell-dns) plus the cell's domain as a
// search domain. Full tunnel sends everything through the cell; split only the VPN and the cell network.
import { z } from 'zod';
import { cidr4, dnsLabel, domainName, ipv4, port } from '../../schema/fields.ts';
import { routingMode, wgKey } from '../../schema/peers.ts';
import { must } from '../common/guards.ts';
import type { Rendered, Warning } from '../common/rendered.ts';

export interface PeerConfInput {
  cellName: string;
  domain: string;
  peerName: string;
  /** Absent when the device brought its own key pair. */
  privateKey?: string | undefined;
  address: string;
  /** The server's VPN address (the peer's DNS server). */
  dns: string;
  routing: 'full' | 'split';
  vpnNetwork: string;
  cellNetwork: string;
  serverPublicKey: string;
  presharedKey: string;
  endpointHost: string;
  endpointPort: number;
}

const endpointHost = z.union([ipv4, domainName, dnsLabel]);

const schema = z.object({
  cellName: dnsLabel,
  domain: domainName,
  peerName: dnsLabel,
  privateKey: wgKey.optional(),
  address: ipv4,
  dns: ipv4,
  routing: routingMode,
  vpnNetwork: cidr4,
  cellNetwork: cidr4,
  serverPublicKey: wgKey,
  presharedKey: wgKey,
  endpointHost,
  endpointPort: port,
});

export const OWN_KEY_PLACEHOLDER =
  '# PrivateKey = <this device’s own private key: PIC never had it; add it here before importing>';

export function renderPeerConf(raw: PeerConfInput): Rendered {
  const i = must(schema, raw, `config of peer ${JSON.stringify(raw.peerName)}`);
  const allowed = i.routing === 'full' ? '0.0.0.0/0' : `${i.vpnNetwork}, ${i.cellNetwork}`;
  const warnings: Warning[] = [];
  if (!i.privateKey)
    warnings.push({ path: 'privateKey', message: 'no PrivateKey: the device must add its own' });
  const lines = [
    `# PIC cell ${i.cellName} (${i.domain}), peer ${i.peerName}, ${i.routing} tunnel`,
    '[Interface]',
    i.privateKey ? `PrivateKey = ${i.privateKey}` : OWN_KEY_PLACEHOLDER,
    `Address = ${i.address}/32`,
    `DNS = ${i.dns}, ${i.domain}`,
    '',
    '[Peer]',
    `PublicKey = ${i.serverPublicKey}`,
    `PresharedKey = ${i.presharedKey}`,
    `AllowedIPs = ${allowed}`,
    `Endpoint = ${i.endpointHost}:${i.endpointPort}`,
    'PersistentKeepalive = 25',
  ];
  return { output: `${lines.join('\n')}\n`, warnings };
}
