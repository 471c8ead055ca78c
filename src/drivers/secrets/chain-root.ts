// The root a served certificate chain ends in (the ca.pem a store service trusts in a public domain
// mode): the self-signed top of the chain when it carries one, else the trusted root (node's bundled
// Mozilla store) that issued its last certificate, else that last certificate itself.
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function chainRoot(chainPem: string, roots: readonly string[] = rootCertificates): string | undefined {
  const blocks = chainPem.match(PEM) ?? [];
  const last = blocks.at(-1);
  if (!last) return undefined;
  const top = new X509Certificate(last);
  if (top.issuer === top.subject) return `${last}\n`;
  for (const pem of roots) {
    try {
      const root = new X509Certificate(pem);
      if (root.subject === top.issuer && top.checkIssued(root)) return pem.endsWith('\n') ? pem : `${pem}\n`;
    } catch {
      // A bundled root node cannot parse is not the one.
    }
  }
  return `${last}\n`;
}
