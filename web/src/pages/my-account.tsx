import { useMe } from '../session';
import { ChangePasswordForm } from './change-password';

/** What a peer sees: their own account. The peers capability adds their VPN config and QR code. */
export function MyAccountPage() {
  const me = useMe();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">My account</h1>
      <p className="text-sm text-slate-500">Logged in as {me.data?.username}.</p>
      <ChangePasswordForm />
    </div>
  );
}
