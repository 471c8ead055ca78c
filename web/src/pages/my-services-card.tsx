// The peer's own accounts on the cell's services (GET /api/peer/services): where each is, the
// username and the password (hidden until asked), and what to type into a phone or a desktop app:
// for the services PIC knows how to set up (`client`), each server with its port and security (mail:
// IMAP 993 SSL/TLS, SMTP 587 STARTTLS, the address as the login) and the device profile's link.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';

type MyAccount =
  paths['/api/peer/services']['get']['responses']['200']['content']['application/json']['accounts'][number];
type Server = NonNullable<MyAccount['client']>['servers'][number];

const PROTOCOL: Record<Server['protocol'], string> = {
  imap: 'Incoming mail (IMAP)',
  smtp: 'Outgoing mail (SMTP)',
  caldav: 'Calendars (CalDAV)',
  carddav: 'Contacts (CardDAV)',
  webdav: 'Files (WebDAV)',
};
/** As mail apps name them: SSL/TLS for TLS from the first byte, STARTTLS for the upgrade. */
const SECURITY: Record<Server['security'], string> = { tls: 'SSL/TLS', starttls: 'STARTTLS' };

import { Link } from '../router';

/** What each kind of service asks a client for, beyond the address and the login. */
const HOW_TO: Record<string, string> = {
  calendar:
    'Calendars and contacts: add a CalDAV account and a CardDAV account (iOS: Settings → Calendar → Accounts → Other; Android: DAVx⁵; Thunderbird: New Calendar → On the Network) with this address, username and password.',
  files:
    'Files: connect to this address as a WebDAV server (Windows: Map network drive; macOS Finder: Go → Connect to Server; Android and iOS: any WebDAV file app).',
  email:
    'Email: add an account with your address and password. Thunderbird and most mail apps find the servers themselves; otherwise choose IMAP and type the servers below (password authentication, normal password). Your phone must be connected to the cell’s VPN.',
};

export function MyServicesCard() {
  const mine = useQuery({
    queryKey: ['peer-services'],
    queryFn: () => call(api.GET('/api/peer/services')),
    retry: false,
  });
  const accounts = mine.data?.accounts ?? [];
  if (accounts.length === 0) return null;
  return (
    <section className="card space-y-3" data-testid="my-services">
      <h2 className="font-semibold">Your services</h2>
      {accounts.map((a) => (
        <Account key={a.service} account={a} />
      ))}
    </section>
  );
}

function Account({ account: a }: { account: MyAccount }) {
  const [shown, setShown] = useState(false);
  const c = a.client;
  const profile = c
    ? c.profile
    : a.service === 'calendar'
      ? `/api/peer/services/${a.service}/mobileconfig`
      : null;
  const mailbox = c?.address !== undefined;
  return (
    <div className="space-y-1 text-sm" data-testid={`my-service-${a.service}`}>
      <h3 className="font-medium">{a.name}</h3>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1">
        {mailbox ? (
          <>
            <dt className="text-slate-500">Email address</dt>
            <dd className="font-mono break-all" data-testid="mail-address">
              {c.address}
            </dd>
          </>
        ) : (
          <>
            <dt className="text-slate-500">Address</dt>
            <dd className="font-mono break-all">{a.url ?? '—'}</dd>
          </>
        )}
        <dt className="text-slate-500">Username</dt>
        <dd className="font-mono">{mailbox ? c.address : a.username}</dd>
        <dt className="text-slate-500">Password</dt>
        <dd className="font-mono">
          {shown ? a.password : '••••••••'}{' '}
          <button type="button" className="underline text-xs" onClick={() => setShown(!shown)}>
            {shown ? 'Hide' : 'Show'}
          </button>
        </dd>
      </dl>
      {HOW_TO[a.service] && <p className="text-xs text-slate-600 dark:text-slate-400">{HOW_TO[a.service]}</p>}
      {mailbox && c.servers.length > 0 && <Servers servers={c.servers} />}
      {a.service === 'files' && (
        <Link className="block text-xs underline" href="/files">
          Browse your files here
        </Link>
      )}
      {profile && (
        <a className="text-xs underline" href={profile} download>
          Set up an iPhone, iPad or Mac in one step (a configuration profile)
        </a>
      )}
    </div>
  );
}

/** The servers to type into a mail app, one block each (the same username and password for both). */
function Servers({ servers }: { servers: Server[] }) {
  return (
    <div className="grid gap-2 sm:grid-cols-2" data-testid="mail-servers">
      {servers.map((s) => (
        <div
          key={`${s.protocol} ${s.port}`}
          className="rounded-md border border-slate-200 p-2 dark:border-slate-800"
          data-testid={`server-${s.protocol}`}
        >
          <p className="font-medium">{PROTOCOL[s.protocol]}</p>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-3">
            <dt className="text-slate-500">Server</dt>
            <dd className="font-mono break-all">{s.host}</dd>
            <dt className="text-slate-500">Port</dt>
            <dd className="font-mono">{s.port}</dd>
            <dt className="text-slate-500">Security</dt>
            <dd>{SECURITY[s.security]}</dd>
            <dt className="text-slate-500">Username</dt>
            <dd className="font-mono break-all">{s.username}</dd>
          </dl>
        </div>
      ))}
    </div>
  );
}
