// cell-dns's upstreams (config/dns/forward.conf, included by the image's unbound.conf): every name
// outside Unbound's local zones goes to network.dns_forwarders, or to network.dns_tls_forwarders over
// DNS-over-TLS (port 853, the certificate checked against the name given and the system CA bundle).
// With none, the base config's unusable root hints keep Unbound from recursing anywhere.
//
// DNSSEC validation of forwarded answers is on unless dnssec is false: the validator module with
// Debian's root trust anchor (dns-root-data, /usr/share/dns/root.key, read-only; the package keeps it
// current). Linked cells' zones are forwarded to their resolvers and marked domain-insecure: a
// private `.cell` name has no signed delegation, and validation would turn every answer bogus.
import { z } from 'zod';
import { type DnsTlsForwarder, dnsTlsForwarder } from '../../schema/dns.ts';
import { domainName, ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';

export const ROOT_TRUST_ANCHOR = '/usr/share/dns/root.key';
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface LinkedZone {
  /** Another cell's domain (its zone). */
  zone: string;
  /** Its resolvers, reached through the link. */
  servers: readonly string[];
}

export interface ForwardZoneInput {
  forwarders: readonly string[];
  tlsForwarders?: readonly DnsTlsForwarder[] | undefined;
  /** Default true. */
  dnssec?: boolean | undefined;
  linkedZones?: readonly LinkedZone[] | undefined;
}

const input = z
  .object({
    forwarders: z.array(ipv4).max(8),
    tlsForwarders: z.array(dnsTlsForwarder).max(8).optional(),
    dnssec: z.boolean().optional(),
    linkedZones: z
      .array(z.object({ zone: domainName, servers: z.array(ipv4).min(1).max(8) }).strict())
      .max(64)
      .optional(),
  })
  .strict()
  .refine(
    (i) => !(i.forwarders.length && i.tlsForwarders?.length),
    'plain and DNS-over-TLS forwarders cannot both serve the root zone',
  )
  .refine(
    (i) => new Set((i.linkedZones ?? []).map((l) => l.zone)).size === (i.linkedZones ?? []).length,
    'each linked zone once',
  );

export function renderForwardZone(raw: ForwardZoneInput): Rendered {
  const i = must(input, raw, 'the Unbound forward zone');
  const tls = i.tlsForwarders ?? [];
  const linked = [...(i.linkedZones ?? [])].sort((a, b) => a.zone.localeCompare(b.zone));
  const lines = ['# Rendered by PIC from network.dns_forwarders; edits are overwritten.'];
  const server: string[] = [];
  if (i.dnssec !== false)
    server.push(
      '    module-config: "respip validator iterator"',
      `    trust-anchor-file: "${ROOT_TRUST_ANCHOR}"`,
    );
  if (tls.length) server.push(`    tls-cert-bundle: "${CA_BUNDLE}"`);
  for (const l of linked) server.push(`    domain-insecure: "${l.zone}."`);
  if (server.length) lines.push('server:', ...server);
  if (i.forwarders.length) {
    lines.push('forward-zone:', '    name: "."', ...i.forwarders.map((f) => `    forward-addr: ${f}`));
  } else if (tls.length) {
    lines.push(
      'forward-zone:',
      '    name: "."',
      '    forward-tls-upstream: yes',
      ...tls.map((f) => `    forward-addr: ${f.address}@${f.port ?? 853}#${f.tls_name}`),
    );
  } else {
    lines.push('# No forwarders: names outside local zones get SERVFAIL.');
  }
  for (const l of linked)
    lines.push('forward-zone:', `    name: "${l.zone}."`, ...l.servers.map((s) => `    forward-addr: ${s}`));
  return { output: `${lines.join('\n')}\n`, warnings: [] };
}
