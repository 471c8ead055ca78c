// One store service's own page (/services/<id>), built from what its manifest declares: its address,
// its peers' accounts, its settings form, its status (the mail queue) and the DNS records it needs.
// Each card shows only when the service has it (the API answers 409 for a hook it lacks).
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { ErrorBanner } from '../components/field';
import { Link, usePath } from '../router';
import { ServiceAccountsPanel } from './service-accounts-panel';
import { ServiceDnsCard } from './service-dns-card';
import { ServiceSettingsCard } from './service-settings-card';
import { ServiceStatusCard } from './service-status-card';

export const SERVICE_PAGE_PREFIX = '/services/';

/** The service's page in the UI. */
export const servicePagePath = (id: string) => `${SERVICE_PAGE_PREFIX}${encodeURIComponent(id)}`;

export function ServicePage() {
  const path = usePath();
  const id = decodeURIComponent(path.slice(SERVICE_PAGE_PREFIX.length).split('/')[0] ?? '');
  const item = useQuery({
    queryKey: ['service-catalog', id],
    queryFn: () => call(api.GET('/api/services/catalog/{id}', { params: { path: { id } } })),
    refetchInterval: 10_000,
    retry: false,
  });
  const active = useQuery({
    queryKey: ['services-active'],
    queryFn: () => call(api.GET('/api/services/active')),
    retry: false,
  });
  const s = item.data;
  const url = active.data?.services.find((a) => a.id === id)?.url ?? null;
  const running = s?.installed === true && s.state === 'running';
  return (
    <div className="space-y-6" data-testid={`service-page-${id}`}>
      <Link href="/services" className="text-sm underline">
        ← Service Store
      </Link>
      <ErrorBanner message={item.error?.message} />
      {s && (
        <>
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="text-2xl font-bold">{s.name}</h1>
            <span
              className="rounded bg-slate-100 px-2 py-0.5 text-xs dark:bg-slate-800"
              data-testid="service-state"
            >
              {s.installed ? s.state.replace('_', ' ') : 'not installed'}
            </span>
          </div>
          <p className="text-sm text-slate-600 dark:text-slate-400">{s.description}</p>
          {url && (
            <p className="text-sm">
              Address:{' '}
              <a className="underline" href={url} target="_blank" rel="noreferrer">
                {url}
              </a>
            </p>
          )}
          {!running && (
            <p className="text-sm text-slate-500">
              {s.installed
                ? 'Its settings, status and records show while it runs.'
                : 'Not installed: install it from the Service Store first.'}
            </p>
          )}
          {running && (
            <>
              {s.accounts && (
                <section className="card" aria-label="Accounts">
                  <ServiceAccountsPanel id={s.id} name={s.name} />
                </section>
              )}
              <ServiceSettingsCard id={s.id} hasAccounts={s.accounts} />
              <ServiceStatusCard id={s.id} />
              <ServiceDnsCard id={s.id} />
            </>
          )}
        </>
      )}
    </div>
  );
}
