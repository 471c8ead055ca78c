// How a peer's device connects to each built-in service with accounts: the servers to type into a
// phone or a desktop app, whether the account has an address (mail), which device profile
// (.mobileconfig) describes it, and whether the service answers Thunderbird's autoconfig. Data, one
// entry per service: a service without an entry shows only its address, username and password.
import type { MyServiceClient } from '../../schema/service-accounts.ts';
import type { AccountTarget } from '../ports/service-accounts.ts';

interface ServerSpec {
  protocol: MyServiceClient['servers'][number]['protocol'];
  /** `route`: the service's first HTTP route's name; `name`: its first DNS name (dns_names). */
  host: 'route' | 'name';
  port: number;
  /** `tls`: TLS from the first byte (HTTPS, IMAPS); `starttls`: plain, then STARTTLS (submission). */
  security: 'tls' | 'starttls';
}

export interface ClientSetup {
  servers: readonly ServerSpec[];
  /** The account is a mailbox `<username>@<domain>`, and the login is that address. */
  mailbox?: true;
  /** The kind of Apple profile (render/apple/mobileconfig.ts) offered for the account. */
  profile?: 'dav' | 'mail';
  /** Answers autoconfig.<domain>/mail/config-v1.1.xml while installed. */
  autoconfig?: true;
}

export const CLIENT_SETUPS: Readonly<Record<string, ClientSetup>> = {
  calendar: {
    servers: [
      { protocol: 'caldav', host: 'route', port: 443, security: 'tls' },
      { protocol: 'carddav', host: 'route', port: 443, security: 'tls' },
    ],
    profile: 'dav',
  },
  files: { servers: [{ protocol: 'webdav', host: 'route', port: 443, security: 'tls' }] },
  email: {
    servers: [
      { protocol: 'imap', host: 'name', port: 993, security: 'tls' },
      { protocol: 'smtp', host: 'name', port: 587, security: 'starttls' },
    ],
    mailbox: true,
    profile: 'mail',
    autoconfig: true,
  },
};

/** The host a server spec names on this target, or undefined when the service has no such name. */
export function setupHost(target: AccountTarget, host: ServerSpec['host']): string | undefined {
  if (host === 'route') return target.url ? new URL(target.url).hostname : undefined;
  return target.dnsName ?? undefined;
}

/** What the peer types into a device for its account on `target`; undefined without an entry. */
export function clientFor(target: AccountTarget, username: string): MyServiceClient | undefined {
  const setup = CLIENT_SETUPS[target.serviceId];
  if (!setup) return undefined;
  const address = setup.mailbox ? `${username}@${target.domain}` : undefined;
  const servers = setup.servers.flatMap((s) => {
    const host = setupHost(target, s.host);
    return host
      ? [{ protocol: s.protocol, host, port: s.port, security: s.security, username: address ?? username }]
      : [];
  });
  return {
    ...(address ? { address } : {}),
    servers,
    profile: setup.profile ? `/api/peer/services/${target.serviceId}/mobileconfig` : null,
  };
}
