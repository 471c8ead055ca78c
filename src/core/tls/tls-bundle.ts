// A stored certificate bundle (leaf, intermediates, private key: one PEM text) read back into what
// Caddy serves and what the status shows. Undefined when the text is not a usable bundle.
import { parseCert, pemBlocks, sansOf } from '../vault/x509.ts';

export interface TlsBundle {
  served: { names: string[]; certPem: string; chainPem: string; keyPem: string; notAfter: string };
  notBefore: number;
  /** The leaf's issuer: the subject of the certificate that signed it. */
  issuer: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[A-Za-z0-9+/=\s]+-----END \1-----\n?/g;

export function parseBundle(text: string): TlsBundle | undefined {
  const blocks = [...text.matchAll(BLOCK)].map((m) => ({ label: m[1]!, pem: ensureNl(m[0]) }));
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  const key = blocks.find((b) => /PRIVATE KEY$/.test(b.label));
  const der = pemBlocks(certs[0]?.pem ?? '', 'CERTIFICATE')[0];
  if (!der || !key) return undefined;
  try {
    const leaf = parseCert(der);
    return {
      served: {
        names: sansOf(leaf),
        certPem: certs[0]!.pem,
        chainPem: certs
          .slice(1)
          .map((c) => c.pem)
          .join(''),
        keyPem: key.pem,
        notAfter: leaf.notAfter.toISOString(),
      },
      notBefore: leaf.notBefore.getTime(),
      issuer: leaf.issuer,
    };
  } catch {
    return undefined;
  }
}

const ensureNl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
