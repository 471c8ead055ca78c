import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { useMe } from '../session';
import { ChangePasswordForm } from './change-password';
import { PeerConfigCard } from './peer-config-card';
import { SecurityCard } from './security';

/** What a peer sees: their own account, VPN config and QR code. */
export function MyAccountPage() {
  const me = useMe();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">My account</h1>
      <p className="text-sm text-slate-500">Logged in as {me.data?.username}.</p>
      <MyPeerConfig />
      <ChangePasswordForm />
      <SecurityCard />
    </div>
  );
}

/** The peer's own VPN config and QR code (GET /api/peer/me answers with this peer only). */
function MyPeerConfig() {
  const me = useQuery({ queryKey: ['peer-me'], queryFn: () => call(api.GET('/api/peer/me')), retry: false });
  if (me.isError) return <p className="text-sm text-slate-500">No VPN config is linked to this account.</p>;
  if (!me.data) return null;
  const d = me.data;
  return (
    <>
      <p className="text-sm">
        VPN address <span className="font-mono">{d.peer.address}</span> ·{' '}
        {d.peer.enabled ? 'enabled' : 'disabled by the cell’s owner'}
        {d.peer.expires_at ? ` · expires ${new Date(d.peer.expires_at).toLocaleString()}` : ''}
      </p>
      <PeerConfigCard name={d.peer.name} config={d.config} qr={d.qr} hasPrivateKey={d.has_private_key} />
    </>
  );
}
