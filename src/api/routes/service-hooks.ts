// A store service's manifest hooks (issue 13): its typed settings (secrets never returned), its status
// (the mail queue) and the DNS records it asks the owner to publish. Admin only; the PUT is a change
// (CSRF, audited by the service's id, never by a value).
import {
  serviceDnsRecordsSchema,
  serviceStatusSchema,
  settingsBodySchema,
  settingsViewSchema,
} from '../../schema/service-hooks.ts';
import { serviceIdParams } from '../../schema/service-store.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const serviceHookRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/services/:id/settings',
    access: ADMIN,
    tag: 'services',
    summary:
      "An installed service's settings: its fields, each non-secret value, whether each secret is set, and whether the last apply worked",
    params: serviceIdParams,
    response: settingsViewSchema,
    handler: ({ deps, params }) => deps.serviceSettings.get(params.id),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/services/:id/settings',
    access: ADMIN,
    tag: 'services',
    summary:
      "Changes some settings (a secret: a string sets it, null clears it, absent keeps it), then runs the service's apply hook; a failed apply keeps the values and answers applied: false with apply_error",
    params: serviceIdParams,
    body: settingsBodySchema,
    response: settingsViewSchema,
    handler: ({ deps, params, body, req }) => {
      req.auditTarget = params.id;
      return deps.serviceSettings.put(params.id, body);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/services/:id/status',
    access: ADMIN,
    tag: 'services',
    summary: "What an installed service's status hook reports (the mail queue), or why it reports nothing",
    params: serviceIdParams,
    response: serviceStatusSchema,
    handler: ({ deps, params }) => deps.serviceSettings.status(params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/services/:id/dns-records',
    access: ADMIN,
    tag: 'services',
    summary:
      "The DNS records an installed service needs (MX, SPF, DKIM, DMARC): whether the cell's zone serves each and, in a public domain mode, what the cell's forwarders see",
    params: serviceIdParams,
    response: serviceDnsRecordsSchema,
    handler: ({ deps, params }) => deps.serviceDnsRecords.list(params.id),
  }),
];
