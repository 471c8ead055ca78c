// "Trust this cell": the root CA to download, its fingerprint to compare, and short install steps for
// each platform. Shown to peers on their own page and to the owner on the Vault page. The root is
// public (GET /api/vault/ca.crt needs no session).
import { useQuery } from '@tanstack/react-query';

/** SHA-256 of the root's DER, as colon-separated hex (what the platforms' certificate views show). */
async function rootFingerprint(): Promise<string> {
  const res = await fetch('/api/vault/ca.crt', { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const pem = await res.text();
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  return [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

const STEPS: Array<{ platform: string; steps: string[] }> = [
  {
    platform: 'Android',
    steps: [
      'Download the certificate.',
      'Settings → Security & privacy → More security settings → Encryption & credentials → Install a certificate → CA certificate.',
      'Pick the downloaded file and confirm.',
    ],
  },
  {
    platform: 'iPhone and iPad',
    steps: [
      'Open this page in Safari and download the certificate; allow the profile download.',
      'Settings → General → VPN & Device Management → the PIC profile → Install.',
      'Settings → General → About → Certificate Trust Settings → turn on full trust for the PIC root.',
    ],
  },
  {
    platform: 'Windows',
    steps: [
      'Open the downloaded file → Install Certificate → Current User.',
      'Choose “Place all certificates in the following store” → Trusted Root Certification Authorities → Finish.',
      'Or in PowerShell: Import-Certificate -FilePath <file> -CertStoreLocation Cert:\\CurrentUser\\Root',
    ],
  },
  {
    platform: 'macOS',
    steps: [
      'Open the downloaded file: Keychain Access adds it to the login keychain.',
      'Double-click the PIC root → Trust → When using this certificate: Always Trust.',
      'Or in Terminal: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain <file>',
    ],
  },
  {
    platform: 'Linux',
    steps: [
      'Debian and Ubuntu: sudo cp <file> /usr/local/share/ca-certificates/pic-root-ca.crt && sudo update-ca-certificates',
      'Fedora: sudo trust anchor <file>',
      'Firefox keeps its own list: Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import.',
    ],
  },
];

export function TrustCellCard() {
  const fp = useQuery({ queryKey: ['vault-root-fingerprint'], queryFn: rootFingerprint, staleTime: 60_000 });
  return (
    <section className="card" aria-labelledby="trust-heading" data-testid="trust-cell">
      <h2 id="trust-heading" className="mb-2 font-semibold">
        Trust this cell
      </h2>
      <p className="mb-3 text-sm text-slate-500">
        The cell signs its HTTPS certificates with its own certificate authority. Install its root certificate
        once on each device, and the cell’s pages open without warnings.
      </p>
      <a className="btn-primary inline-block" href="/api/vault/ca.crt" download>
        Download the root certificate
      </a>
      <p className="mt-3 text-xs text-slate-500">
        SHA-256 fingerprint (compare it with what your device shows before trusting it):{' '}
        <span className="break-all font-mono" data-testid="root-fingerprint">
          {fp.data ?? (fp.isError ? 'unavailable' : '…')}
        </span>
      </p>
      <div className="mt-3 space-y-1">
        {STEPS.map((s) => (
          <details key={s.platform} className="text-sm">
            <summary className="cursor-pointer font-medium">{s.platform}</summary>
            <ol className="ml-5 mt-1 list-decimal space-y-1 text-slate-600 dark:text-slate-300">
              {s.steps.map((step) => (
                <li key={step} className="break-words">
                  {step}
                </li>
              ))}
            </ol>
          </details>
        ))}
      </div>
    </section>
  );
}
