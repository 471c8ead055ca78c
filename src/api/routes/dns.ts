// The cell's DNS records (spec: GET/POST /api/dns/records; DELETE by id is ours). Records live in
// the cell's zone, applied live to cell-dns through unbound-control; each handler is one call into
// DnsService. The audit row of a change names the record (name and type), never more.
import { z } from 'zod';
import { createDnsRecordSchema, dnsRecordIdParams, dnsRecordView } from '../../schema/dns.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const dnsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/dns/records',
    access: ADMIN,
    tag: 'dns',
    summary: "The owner's records in the cell's zone (names relative to it: @, www)",
    response: z.array(dnsRecordView),
    handler: ({ deps }) => deps.dns.list(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dns/records',
    access: ADMIN,
    tag: 'dns',
    summary:
      'Add an A, AAAA, CNAME, TXT, MX ("10 mail.example.org") or SRV ("prio weight port target") ' +
      'record; applied live when cell-dns runs',
    body: createDnsRecordSchema,
    response: dnsRecordView,
    status: 201,
    handler: ({ deps, body, req }) => {
      req.auditTarget = `name=${body.name} type=${body.type}`;
      return deps.dns.create(body);
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/dns/records/:id',
    access: ADMIN,
    tag: 'dns',
    summary: 'Remove a record (204); applied live when cell-dns runs',
    params: dnsRecordIdParams,
    status: 204,
    handler: async ({ deps, params }) => {
      await deps.dns.remove(params.id);
    },
  }),
];
