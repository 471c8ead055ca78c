// The Service Store: every service of the catalog as a card (what it is, what it needs, its state),
// install and uninstall with the job's progress, restart, and the address of what is installed.
// While a job runs the catalog is polled every second; otherwise every ten.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import type { paths } from '../api/schema';
import { ErrorBanner } from '../components/field';
import { Link } from '../router';
import { ServiceAccountsPanel } from './service-accounts-panel';
import { servicePagePath } from './service-page';
import { StoreSourcesCard } from './store-sources-card';

type Catalog = paths['/api/services/catalog']['get']['responses']['200']['content']['application/json'];
export type StoreItem = Catalog['services'][number];

const CATALOG_KEY = ['service-catalog'];

/** The steps of an install, in order: the bar shows how far the job is. */
const INSTALL_STEPS = ['build', 'verify', 'pull', 'create', 'start', 'healthy', 'wire'] as const;
const STEP_LABEL: Record<string, string> = {
  build: 'Building the image',
  verify: 'Verifying the image',
  pull: 'Pulling the image (by digest)',
  create: 'Creating the containers',
  start: 'Starting',
  healthy: 'Waiting until it answers',
  wire: 'Adding its name, HTTPS and firewall rules',
  stop: 'Stopping',
  remove: 'Removing the containers',
};

const STATE_STYLE: Record<string, string> = {
  running: 'bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300',
  installing: 'bg-yellow-100 text-yellow-800 dark:bg-yellow-950 dark:text-yellow-300',
  uninstalling: 'bg-yellow-100 text-yellow-800 dark:bg-yellow-950 dark:text-yellow-300',
  failed: 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300',
  stopped: 'bg-slate-200 text-slate-800 dark:bg-slate-800 dark:text-slate-200',
};

const busy = (s: StoreItem) => s.state === 'installing' || s.state === 'uninstalling';

export function ServiceStorePage() {
  const qc = useQueryClient();
  const [actionError, setActionError] = useState<string | undefined>();
  const catalog = useQuery({
    queryKey: CATALOG_KEY,
    queryFn: () => call(api.GET('/api/services/catalog')),
    refetchInterval: (q) => (q.state.data?.services.some(busy) ? 1000 : 10_000),
    retry: false,
  });
  const active = useQuery({
    queryKey: ['services-active'],
    queryFn: () => call(api.GET('/api/services/active')),
    refetchInterval: 10_000,
    retry: false,
  });
  const act = useMutation({
    mutationFn: ({ id, verb }: { id: string; verb: 'install' | 'uninstall' | 'restart' }) => {
      const params = { params: { path: { id } } };
      if (verb === 'install') return call(api.POST('/api/services/catalog/{id}/install', params));
      if (verb === 'uninstall') return call(api.POST('/api/services/catalog/{id}/uninstall', params));
      return call(api.POST('/api/services/catalog/{id}/restart', params));
    },
    onMutate: () => setActionError(undefined),
    onError: (e) => setActionError(e.message),
    onSettled: () => {
      qc.invalidateQueries({ queryKey: CATALOG_KEY });
      qc.invalidateQueries({ queryKey: ['services-active'] });
    },
  });
  const services = catalog.data?.services ?? [];
  // When a job ends, the active list (the sidebar, the addresses) is read again at once.
  const running = services.filter(busy).length;
  useEffect(() => {
    if (running === 0) void qc.invalidateQueries({ queryKey: ['services-active'] });
  }, [running, qc]);
  const names = new Map(services.map((s) => [s.id, s.name]));
  const urls = new Map((active.data?.services ?? []).map((s) => [s.id, s.url]));

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Service Store</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Services run in containers of their own, built on this machine from PIC's catalog. Each gets its own
        name and HTTPS certificate; grant it to peers on the Peers page. Uninstalling keeps its data in{' '}
        <code>data/services/&lt;id&gt;/</code>.
      </p>
      <ErrorBanner message={catalog.error?.message ?? actionError} />
      <div className="grid gap-4 md:grid-cols-2" data-testid="store-cards">
        {services.map((s) => (
          <ServiceCard
            key={s.id}
            service={s}
            url={urls.get(s.id) ?? undefined}
            requiresNames={s.requires.map((r) => names.get(r) ?? r)}
            pending={act.isPending && act.variables?.id === s.id}
            onAction={(verb) => act.mutate({ id: s.id, verb })}
          />
        ))}
      </div>
      {catalog.isSuccess && services.length === 0 && (
        <p className="text-sm text-slate-500">The catalog is empty.</p>
      )}
      <StoreSourcesCard
        index={catalog.data?.index}
        onChanged={() => qc.invalidateQueries({ queryKey: CATALOG_KEY })}
      />
    </div>
  );
}

function ServiceCard(props: {
  service: StoreItem;
  url: string | undefined;
  requiresNames: string[];
  pending: boolean;
  onAction: (verb: 'install' | 'uninstall' | 'restart') => void;
}) {
  const { service: s, url } = props;
  const disabled = props.pending || busy(s);
  return (
    <section className="card space-y-3" data-testid={`store-card-${s.id}`} aria-label={s.name}>
      <div className="flex items-start justify-between gap-3">
        <div>
          <h2 className="font-semibold">{s.name}</h2>
          <p className="text-xs text-slate-500">
            version {s.version}
            {s.source === 'index' ? ' · from the remote index' : ''}
          </p>
        </div>
        <span
          className={`rounded px-2 py-0.5 text-xs ${STATE_STYLE[s.state] ?? 'bg-slate-100 dark:bg-slate-800'}`}
          data-testid={`store-state-${s.id}`}
        >
          {s.installed || busy(s) ? s.state.replace('_', ' ') : 'not installed'}
        </span>
      </div>
      <p className="text-sm">{s.description}</p>
      {props.requiresNames.length > 0 && (
        <p className="text-xs text-slate-600 dark:text-slate-400">
          Needs {props.requiresNames.join(', ')} (installed with it).
        </p>
      )}
      {s.subdomains.length > 0 && (
        <p className="text-xs text-slate-600 dark:text-slate-400">
          Address:{' '}
          {url && s.state === 'running' ? (
            <a className="underline" href={url} target="_blank" rel="noreferrer">
              {url}
            </a>
          ) : (
            <span className="font-mono">{s.subdomains.join(', ')}</span>
          )}
        </p>
      )}
      {s.job && <JobProgress job={s.job} />}
      {s.installed && s.state === 'running' && s.accounts && <ServiceAccountsPanel id={s.id} name={s.name} />}
      <div className="flex flex-wrap gap-2">
        {!s.installed ? (
          <button
            type="button"
            className="btn-primary px-3 py-1"
            disabled={disabled}
            onClick={() => props.onAction('install')}
          >
            Install
          </button>
        ) : (
          <>
            <Link
              href={servicePagePath(s.id)}
              className="btn-secondary px-3 py-1"
              aria-label={`Manage ${s.name}`}
            >
              Manage
            </Link>
            <button
              type="button"
              className="btn-secondary px-3 py-1"
              disabled={disabled}
              onClick={() => props.onAction('restart')}
            >
              Restart
            </button>
            <button
              type="button"
              className="btn-secondary px-3 py-1"
              disabled={disabled}
              onClick={() => {
                if (
                  window.confirm(
                    `Uninstall ${s.name}? Its containers are stopped and removed, and peers lose access to it. ` +
                      `Its data stays in data/services/${s.id}/ and is found again if you reinstall it.`,
                  )
                )
                  props.onAction('uninstall');
              }}
            >
              Uninstall
            </button>
          </>
        )}
      </div>
    </section>
  );
}

function JobProgress({ job }: { job: NonNullable<StoreItem['job']> }) {
  const step = INSTALL_STEPS.indexOf(job.phase as (typeof INSTALL_STEPS)[number]);
  const failed = job.error !== undefined && job.error !== null;
  return (
    <div className="space-y-1" data-testid="store-job">
      {!failed && step >= 0 && (
        <progress className="w-full" max={INSTALL_STEPS.length} value={step + 1} aria-label="Progress" />
      )}
      <p className={`text-xs ${failed ? 'text-red-700 dark:text-red-400' : ''}`}>
        {failed
          ? `Failed: ${job.error}`
          : job.phase === 'done'
            ? job.message
            : `${STEP_LABEL[job.phase] ?? job.phase}: ${job.message}`}
      </p>
    </div>
  );
}
