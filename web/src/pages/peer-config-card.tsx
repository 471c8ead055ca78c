// A peer's WireGuard config as the WireGuard apps take it: the QR code to scan and the text to copy or
// download. Shared by the Peers page (right after adding) and the peer's own account page.
export function PeerConfigCard({
  name,
  config,
  qr,
  hasPrivateKey,
  password,
  applyError,
}: {
  name: string;
  config: string;
  qr?: string | undefined;
  hasPrivateKey: boolean;
  password?: string | undefined;
  applyError?: string | undefined;
}) {
  const download = `data:text/plain;charset=utf-8,${encodeURIComponent(config)}`;
  return (
    <section className="card space-y-3" aria-label={`WireGuard config of ${name}`}>
      <h2 className="font-semibold">WireGuard config of {name}</h2>
      {!hasPrivateKey && (
        <p className="rounded-md bg-amber-50 p-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          This device brought its own key: the config has no PrivateKey. Add the device’s own private key
          where the placeholder line says, or import it in an app that already holds the key.
        </p>
      )}
      {applyError && (
        <p
          className="rounded-md bg-amber-50 p-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
          role="alert"
        >
          Saved, but not live yet: {applyError}
        </p>
      )}
      {password && (
        <p className="rounded-md bg-indigo-50 p-2 text-sm dark:bg-indigo-950" role="status">
          Login for the peer dashboard: <strong>{name}</strong> /{' '}
          <code data-testid="peer-password">{password}</code> — shown only now.
        </p>
      )}
      <div className="flex flex-col gap-4 md:flex-row">
        {qr && (
          <img
            src={qr}
            alt={`QR code of the WireGuard config of ${name}`}
            className="h-56 w-56 bg-white p-1"
          />
        )}
        <pre className="flex-1 overflow-x-auto rounded-md bg-slate-100 p-3 text-xs dark:bg-slate-800">
          {config}
        </pre>
      </div>
      <a className="btn-secondary" href={download} download={`${name}.conf`}>
        Download {name}.conf
      </a>
    </section>
  );
}
