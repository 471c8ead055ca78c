// The root a served certificate chain ends in: what a store service trusts as `ca.pem` in a public
// domain mode (docs/store/service-hooks.md). Its clients (Roundcube's PHP, Dovecot, Postfix) trust
// ca.pem alone, and OpenSSL accepts a chain only when it ends in a self-signed trust anchor (PHP
// never sets X509_V_FLAG_PARTIAL_CHAIN): an intermediate in ca.pem is refused ("certificate verify
// failed"). An ACME CA sends the leaf and its intermediates, never its root, so the root is looked
// up among the roots the caller knows: the owner's `directory_ca` roots (a private ACME CA such as
// step-ca, a company's CA, or Pebble), then the public ones (node's bundled Mozilla store).
import { X509Certificate } from 'node:crypto';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates in a text, each ending in a newline. */
export function certificateBlocks(text: string): string[] {
  return (text.match(PEM) ?? []).map((b) => `${b}\n`);
}

const parse = (pem: string): X509Certificate | undefined => {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined; // a block node cannot parse is not the one
  }
};

/** Self-signed: its own issuer, its signature verified with its own key, a CA. */
function selfSigned(c: X509Certificate): boolean {
  return c.ca && c.issuer === c.subject && c.verify(c.publicKey);
}

/**
 * The root that `chainPem` (the leaf and its intermediates, PEM, leaf first) ends in: the top of the
 * chain when it is a self-signed CA, else the first of `roots` that issued the top (its subject is
 * the top's issuer, its key identifiers match, `checkIssued`, and the top's signature verifies with
 * its key), else undefined (the caller says so: no client trusting ca.pem alone can verify then).
 */
export function chainRoot(chainPem: string, roots: readonly string[]): string | undefined {
  const last = certificateBlocks(chainPem).at(-1);
  const top = last ? parse(last) : undefined;
  if (!last || !top) return undefined;
  if (selfSigned(top)) return last;
  for (const pem of roots) {
    for (const block of certificateBlocks(pem)) {
      const root = parse(block);
      if (!root || !selfSigned(root) || root.subject !== top.issuer) continue;
      if (top.checkIssued(root) && top.verify(root.publicKey)) return block;
    }
  }
  return undefined;
}
