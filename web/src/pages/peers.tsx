// Peers: the list, adding one (its QR code shown at once), access (services, internet, peer to peer,
// DNS blocklists), each peer's queries blocked by the blocklists in the last 24 hours,
// enable/disable, and delete with confirmation.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call } from '../api/client';
import { ErrorBanner, Field } from '../components/field';
import { TrafficGraph } from '../components/traffic';
import { PeerConfigCard } from './peer-config-card';

// The core services' short labels (`web` is the front door: the UI and API; a store service is
// granted by its own id); installed store services come from /api/grantable-services.
const SERVICES: ReadonlyArray<{ id: string; label: string }> = [
  { id: 'dns', label: 'DNS' },
  { id: 'ntp', label: 'Time (NTP)' },
  { id: 'web', label: 'Web and HTTPS services' },
];
type ServiceId = string;

/** The core services, then each installed store service (a peer can be granted each by id). */
function useGrantable(): ReadonlyArray<{ id: string; label: string }> {
  const q = useQuery({
    queryKey: ['grantable-services'],
    queryFn: () => call(api.GET('/api/grantable-services')),
  });
  const store = (q.data ?? []).filter((s) => s.store).map((s) => ({ id: s.id, label: s.label }));
  return [...SERVICES, ...store];
}

interface Access {
  services: ServiceId[];
  internet: boolean;
  peer_to_peer: boolean;
  /** The cell's DNS blocklists apply to this peer's queries (Network Services → Blocklists). */
  blocklists: boolean;
}

const asError = (e: unknown) => (e instanceof ApiError ? e : new ApiError(0, { message: String(e) }));

function AccessFields({ value, onChange }: { value: Access; onChange: (a: Access) => void }) {
  const services = useGrantable();
  return (
    <fieldset className="mb-4">
      <legend className="label">Access</legend>
      <div className="flex flex-wrap gap-4 text-sm">
        {services.map((s) => (
          <label key={s.id} className="flex items-center gap-1">
            <input
              type="checkbox"
              checked={value.services.includes(s.id)}
              onChange={(e) =>
                onChange({
                  ...value,
                  services: e.target.checked
                    ? [...value.services, s.id]
                    : value.services.filter((x) => x !== s.id),
                })
              }
            />
            {s.label}
          </label>
        ))}
        <label className="flex items-center gap-1">
          <input
            type="checkbox"
            checked={value.internet}
            onChange={(e) => onChange({ ...value, internet: e.target.checked })}
          />
          Internet through the cell
        </label>
        <label className="flex items-center gap-1">
          <input
            type="checkbox"
            checked={value.peer_to_peer}
            onChange={(e) => onChange({ ...value, peer_to_peer: e.target.checked })}
          />
          Other peers (that allow it too)
        </label>
        <label className="flex items-center gap-1">
          <input
            type="checkbox"
            checked={value.blocklists}
            onChange={(e) => onChange({ ...value, blocklists: e.target.checked })}
          />
          DNS blocklists
        </label>
      </div>
    </fieldset>
  );
}

type Created = {
  name: string;
  config: string;
  /** Absent only when the add was asked with ?qr=false (this page never does). */
  qr?: string | undefined;
  has_private_key: boolean;
  password?: string | undefined;
  /** Why WireGuard did not take the new peer yet (stored; retried within seconds). */
  applyError?: string | undefined;
};

function AddPeer({ onCreated }: { onCreated: (c: Created) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [routing, setRouting] = useState<'split' | 'full'>('split');
  const [publicKey, setPublicKey] = useState('');
  const [account, setAccount] = useState(true);
  const [access, setAccess] = useState<Access>({
    services: ['dns', 'ntp', 'web'],
    internet: false,
    peer_to_peer: false,
    blocklists: true,
  });
  const [error, setError] = useState<ApiError | undefined>();
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/peers', {
          body: {
            name,
            routing,
            ...access,
            create_account: account,
            ...(publicKey.trim() ? { public_key: publicKey.trim() } : {}),
          },
        }),
      ),
    onSuccess: (r) => {
      setError(undefined);
      setName('');
      setPublicKey('');
      onCreated({
        name: r.peer.name,
        config: r.config,
        qr: r.qr,
        has_private_key: r.peer.has_private_key,
        password: r.password,
        applyError: r.apply.error,
      });
      void qc.invalidateQueries({ queryKey: ['peers'] });
    },
    onError: (e) => setError(asError(e)),
  });
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <h2 className="mb-3 font-semibold">Add a peer</h2>
      <ErrorBanner message={error && !error.fields.length ? error.message : undefined} />
      <div className="grid gap-x-4 md:grid-cols-2">
        <Field
          label="Name"
          help="Lowercase letters, digits and hyphens (also the login name)."
          error={error?.fieldMessage('name')}
        >
          {(p) => (
            <input
              {...p}
              name="name"
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
            />
          )}
        </Field>
        <Field label="Routing" error={error?.fieldMessage('routing')}>
          {(p) => (
            <select
              {...p}
              name="routing"
              className="input"
              value={routing}
              onChange={(e) => {
                const r = e.target.value as 'split' | 'full';
                setRouting(r);
                setAccess({ ...access, internet: r === 'full' });
              }}
            >
              <option value="split">Split: only the VPN and the cell’s services</option>
              <option value="full">Full: all traffic through the cell</option>
            </select>
          )}
        </Field>
        <Field
          label="Device’s own public key (optional)"
          help="Then the cell never holds this device’s private key and the config has none."
          error={error?.fieldMessage('public_key')}
        >
          {(p) => (
            <input
              {...p}
              name="public_key"
              className="input font-mono"
              value={publicKey}
              onChange={(e) => setPublicKey(e.target.value)}
            />
          )}
        </Field>
        <label className="mb-4 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={account} onChange={(e) => setAccount(e.target.checked)} />
          Create a login for the peer dashboard
        </label>
      </div>
      <AccessFields value={access} onChange={setAccess} />
      <button type="submit" className="btn-primary" disabled={add.isPending}>
        Add peer
      </button>
    </form>
  );
}

type Peer = {
  name: string;
  address: string;
  enabled: boolean;
  routing: 'full' | 'split';
  services: string[];
  internet: boolean;
  peer_to_peer: boolean;
  blocklists: boolean;
  has_private_key: boolean;
  expires_at: string | null;
};

/** An ISO time as the value of a datetime-local input, in the browser's zone ('' for none). */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function PeerRow({
  peer,
  onShow,
  blocked,
}: {
  peer: Peer;
  onShow: (c: Created) => void;
  /** Its queries the blocklists answered NXDOMAIN in the last 24 h (undefined: not known). */
  blocked?: number | undefined;
}) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [graph, setGraph] = useState(false);
  const [expires, setExpires] = useState(toLocalInput(peer.expires_at));
  const [link, setLink] = useState<{ url: string; expires_at: string } | undefined>();
  const [access, setAccess] = useState<Access>({
    services: peer.services as ServiceId[],
    internet: peer.internet,
    peer_to_peer: peer.peer_to_peer,
    blocklists: peer.blocklists,
  });
  const [error, setError] = useState<string | undefined>();
  const done = {
    onSuccess: () => {
      setError(undefined);
      setEditing(false);
      void qc.invalidateQueries({ queryKey: ['peers'] });
    },
    onError: (e: unknown) => setError(asError(e).message),
  };
  const params = { path: { name: peer.name } };
  const update = useMutation({
    mutationFn: (body: Partial<Access & { enabled: boolean; expires_at: string | null }>) =>
      call(api.PUT('/api/peers/{name}', { params, body })),
    ...done,
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/peers/{name}', { params })),
    ...done,
  });
  const show = useMutation({
    mutationFn: () => call(api.GET('/api/peers/{name}/config', { params })),
    onSuccess: (r) =>
      onShow({ name: peer.name, config: r.config, qr: r.qr, has_private_key: r.has_private_key }),
    onError: (e: unknown) => setError(asError(e).message),
  });
  const makeLink = useMutation({
    mutationFn: () => call(api.POST('/api/peers/{name}/config-link', { params, body: { minutes: 60 } })),
    onSuccess: (r) => setLink({ url: `${window.location.origin}${r.url}`, expires_at: r.expires_at }),
    onError: (e: unknown) => setError(asError(e).message),
  });
  return (
    <li className="border-b border-slate-200 py-3 dark:border-slate-800">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <span className="font-medium">{peer.name}</span>
        <span className="font-mono text-sm">{peer.address}</span>
        <span className={`text-xs ${peer.enabled ? 'text-green-700 dark:text-green-400' : 'text-slate-500'}`}>
          {peer.enabled ? 'enabled' : 'disabled'}
        </span>
        <span className="text-xs text-slate-500">
          {peer.routing} · {peer.services.join(', ') || 'no services'}
          {peer.internet ? ' · internet' : ''}
          {peer.peer_to_peer ? ' · peer to peer' : ''}
          {peer.blocklists ? '' : ' · no DNS blocklists'}
          {blocked !== undefined ? ` · ${blocked.toLocaleString()} blocked (24 h)` : ''}
          {peer.expires_at ? ` · expires ${new Date(peer.expires_at).toLocaleString()}` : ''}
        </span>
        <span className="ml-auto flex flex-wrap gap-2">
          <button type="button" className="btn-secondary" onClick={() => show.mutate()}>
            Config
          </button>
          <button type="button" className="btn-secondary" onClick={() => setEditing(!editing)}>
            Access
          </button>
          <button type="button" className="btn-secondary" onClick={() => setGraph(!graph)}>
            Traffic
          </button>
          <button type="button" className="btn-secondary" onClick={() => makeLink.mutate()}>
            One-time link
          </button>
          <button
            type="button"
            className="btn-secondary"
            onClick={() => update.mutate({ enabled: !peer.enabled })}
          >
            {peer.enabled ? 'Disable' : 'Enable'}
          </button>
          <button
            type="button"
            className="btn-secondary text-red-700 dark:text-red-400"
            onClick={() => {
              if (window.confirm(`Delete peer ${peer.name}? Its tunnel and login stop at once.`))
                remove.mutate();
            }}
          >
            Delete
          </button>
        </span>
      </div>
      <ErrorBanner message={error} />
      {link && (
        <p className="mt-3 break-all text-sm" role="status">
          Serves the config once, until {new Date(link.expires_at).toLocaleString()}:{' '}
          <code className="font-mono">{link.url}</code>
        </p>
      )}
      {graph && (
        <div className="mt-3">
          <TrafficGraph name={peer.name} />
        </div>
      )}
      {editing && (
        <form
          className="mt-3"
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate({ ...access, expires_at: expires ? new Date(expires).toISOString() : null });
          }}
        >
          <AccessFields value={access} onChange={setAccess} />
          <Field label="Disable after" help="Empty: never. The peer is disabled then, not deleted.">
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                name="expires_at"
                className="input md:w-64"
                value={expires}
                onChange={(e) => setExpires(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="btn-primary">
            Save access
          </button>
        </form>
      )}
    </li>
  );
}

export function PeersPage() {
  const peers = useQuery({ queryKey: ['peers'], queryFn: () => call(api.GET('/api/peers')) });
  // The blocklists' counts of the last 24 hours, per peer address (Network Services has the details).
  const blocked = useQuery({
    queryKey: ['dns-blocklist-stats', '24h'],
    queryFn: () => call(api.GET('/api/dns/blocklists/stats', { params: { query: { window: '24h' } } })),
    refetchInterval: 60_000,
  });
  const blockedOf = new Map(blocked.data?.peers.map((p) => [p.address, p.blocked]) ?? []);
  const [shown, setShown] = useState<Created | undefined>();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Peers</h1>
      <AddPeer onCreated={setShown} />
      {shown && (
        <PeerConfigCard
          name={shown.name}
          config={shown.config}
          qr={shown.qr}
          hasPrivateKey={shown.has_private_key}
          password={shown.password}
          applyError={shown.applyError}
        />
      )}
      <section className="card">
        <h2 className="mb-2 font-semibold">All peers</h2>
        {peers.data?.length === 0 && <p className="text-sm text-slate-500">No peers yet.</p>}
        <ul>
          {peers.data?.map((p) => (
            <PeerRow
              key={`${p.name}-${p.enabled}-${p.services.join()}-${p.internet}-${p.peer_to_peer}-${p.blocklists}-${p.expires_at}`}
              peer={p}
              onShow={setShown}
              blocked={blockedOf.get(p.address)}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}
