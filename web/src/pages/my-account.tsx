import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { useMe } from '../session';
import { ChangePasswordForm } from './change-password';
import { MyServicesCard } from './my-services-card';
import { PeerConfigCard } from './peer-config-card';
import { SecurityCard } from './security';
import { TrustCellCard } from './trust-cell-card';

/** The peer's own record (GET /api/peer/me answers with this peer only; a disabled one gets no config). */
function usePeerMe() {
  return useQuery({ queryKey: ['peer-me'], queryFn: () => call(api.GET('/api/peer/me')), retry: false });
}

/**
 * What a peer sees: their own account, VPN config and QR code. While the owner has the peer disabled
 * (or it expired) the API hands out no config and refuses every change: the page says so instead.
 */
export function MyAccountPage() {
  const me = useMe();
  const peer = usePeerMe();
  const disabled = peer.data?.disabled === true;
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">My account</h1>
      <p className="text-sm text-slate-500">Logged in as {me.data?.username}.</p>
      <MyPeerConfig />
      <TrustCellCard />
      <MyServicesCard />
      {!disabled && (
        <>
          <ChangePasswordForm />
          <SecurityCard />
        </>
      )}
    </div>
  );
}

function MyPeerConfig() {
  const me = usePeerMe();
  if (me.isError) return <p className="text-sm text-slate-500">No VPN config is linked to this account.</p>;
  if (!me.data) return null;
  const d = me.data;
  const expired = d.peer.enabled && d.disabled;
  return (
    <>
      <p className="text-sm">
        VPN address <span className="font-mono">{d.peer.address}</span> ·{' '}
        {d.disabled ? (expired ? 'expired' : 'disabled by the cell’s owner') : 'enabled'}
        {d.peer.expires_at ? ` · expires ${new Date(d.peer.expires_at).toLocaleString()}` : ''}
      </p>
      {d.disabled || d.config === undefined ? (
        <p
          role="alert"
          data-testid="peer-disabled"
          className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200"
        >
          {expired ? 'This peer has expired' : 'This peer is disabled'}: its VPN tunnel is off, and its
          config, QR code and config links are withheld. Ask the cell’s owner to{' '}
          {expired ? 'extend' : 'enable'} it; everything comes back as it was.
        </p>
      ) : (
        <PeerConfigCard name={d.peer.name} config={d.config} qr={d.qr} hasPrivateKey={d.has_private_key} />
      )}
    </>
  );
}
