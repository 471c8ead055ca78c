// How core reaches the cell's WireGuard interface and its firewall. The docker-exec implementation
// (src/drivers/wireguard/) runs `wg` and `iptables-restore` inside cell-wireguard; `pic serve` without
// Docker uses NO_WIREGUARD: peers are stored and applied once a data plane runs.
import type { FirewallInput } from '../../render/firewall/peer-rules.ts';
import type { ServerConfInput } from '../../render/wireguard/server-conf.ts';

/** The firewall as core wants it; the driver adds what is already loaded (FirewallInput.present). */
export type FirewallModel = Omit<FirewallInput, 'present'>;

export interface WgPeerState {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  /** Unix seconds of the latest handshake; 0 = never. */
  latestHandshake: number;
  rx: number;
  tx: number;
}

/** `wg show wg0 dump` without the keys that are secrets (the driver drops them while parsing). */
export interface WgDump {
  publicKey: string;
  listenPort: number;
  peers: WgPeerState[];
}

export interface WireguardPort {
  running(): Promise<boolean>;
  /** Is PIC's firewall loaded? False after a container restart: the tick then re-applies. */
  loaded(): Promise<boolean>;
  /**
   * Makes the data plane hold these peers and this firewall: renders and writes the server config
   * (adding the interface's listen port) as what a restart loads, changes the live interface by the
   * difference from the last apply (`wg set … remove`, `wg addconf`; ADR 0013: no `wg syncconf`, which
   * rebinds wireguard-go's socket, except when the live state is unknown), then loads the firewall
   * (a delta when the last load is known) in one iptables-restore transaction.
   */
  apply(server: ServerConfInput, firewall: FirewallModel): Promise<void>;
  /**
   * Forgets what the last apply loaded, so the next one is whole (`wg syncconf` of the file, the
   * whole firewall): after a restore the server's own key changed, which a delta would not carry.
   */
  forget?(): void;
  dump(): Promise<WgDump | undefined>;
}

export const NO_WIREGUARD: WireguardPort = {
  running: async () => false,
  loaded: async () => false,
  apply: async () => {
    throw new Error('no data plane');
  },
  dump: async () => undefined,
};
