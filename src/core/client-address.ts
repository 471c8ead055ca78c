// Who a request comes from, for login budgets, request logs and audit rows. Inside the cell a VPN peer
// reaches Caddy from its own address in the cell network's source block (cell-wireguard maps the VPN
// range there 1:1; ADR 0015); it is named by its VPN address, the one the owner knows it by.
import { type CellConfig, vpnNetwork } from '../schema/config.ts';
import { vpnAddressOfSource } from '../schema/vpn-sources.ts';
import type { ConfigService } from './config-service.ts';

const plain = (ip: string) => ip.replace(/^::ffff:/i, '');

/** Outside the cell (`pic serve`): the address as the socket (or the trusted proxy) gave it. */
export const socketAddress = (ip: string): string => plain(ip);

/** Inside the cell: a source in the VPN block becomes the peer's VPN address. Cached per config. */
export function cellClientAddress(
  config: ConfigService,
  cellNetworkOf: (c: CellConfig) => string,
): (ip: string) => string {
  let nets = { cell: '', vpn: '' };
  const load = (c: CellConfig) => {
    nets = { cell: cellNetworkOf(c), vpn: vpnNetwork(c.identity.vpn_address) };
  };
  load(config.get());
  config.onChange(load);
  return (ip) => {
    const p = plain(ip);
    return vpnAddressOfSource(p, nets.cell, nets.vpn) ?? p;
  };
}
