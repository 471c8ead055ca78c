// The peer's own accounts on the cell's services (GET /api/peer/services): where each is, the
// username and the password (hidden until asked), and what to type into a phone or a desktop app.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';

/** What each kind of service asks a client for, beyond the address and the login. */
const HOW_TO: Record<string, string> = {
  calendar:
    'Calendars and contacts: add a CalDAV account and a CardDAV account (iOS: Settings → Calendar → Accounts → Other; Android: DAVx⁵; Thunderbird: New Calendar → On the Network) with this address, username and password.',
  files:
    'Files: connect to this address as a WebDAV server (Windows: Map network drive; macOS Finder: Go → Connect to Server; Android and iOS: any WebDAV file app).',
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

function Account({
  account: a,
}: {
  account: { service: string; name: string; username: string; password: string; url: string | null };
}) {
  const [shown, setShown] = useState(false);
  return (
    <div className="space-y-1 text-sm" data-testid={`my-service-${a.service}`}>
      <h3 className="font-medium">{a.name}</h3>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1">
        <dt className="text-slate-500">Address</dt>
        <dd className="font-mono break-all">{a.url ?? '—'}</dd>
        <dt className="text-slate-500">Username</dt>
        <dd className="font-mono">{a.username}</dd>
        <dt className="text-slate-500">Password</dt>
        <dd className="font-mono">
          {shown ? a.password : '••••••••'}{' '}
          <button type="button" className="underline text-xs" onClick={() => setShown(!shown)}>
            {shown ? 'Hide' : 'Show'}
          </button>
        </dd>
      </dl>
      {HOW_TO[a.service] && <p className="text-xs text-slate-600 dark:text-slate-400">{HOW_TO[a.service]}</p>}
      {a.service === 'calendar' && (
        <a className="text-xs underline" href={`/api/peer/services/${a.service}/mobileconfig`} download>
          Set up an iPhone, iPad or Mac in one step (a configuration profile)
        </a>
      )}
    </div>
  );
}
