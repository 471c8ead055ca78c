// Thunderbird's mail autoconfig (beyond the spec, issue 13): a mail app given `alice@<domain>` asks
// https://autoconfig.<domain>/mail/config-v1.1.xml, then https://<domain>/.well-known/autoconfig/
// mail/config-v1.1.xml, and fills in the servers itself. Public (the app has no session), answered
// only while the email service is installed, and limited per source address. The document names
// the servers and ports only: no account, no secret, nothing of the request.
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';

const autoconfigRoute = (url: string, summary: string): RouteDef =>
  defineRoute({
    method: 'GET',
    url,
    access: 'public',
    tag: 'services',
    summary,
    handler: ({ deps, source, reply }) => {
      const xml = deps.serviceAccounts.mailAutoconfig(deps.config.get().identity.cell_name, source);
      return reply.type('application/xml; charset=utf-8').header('cache-control', 'no-cache').send(xml);
    },
  });

export const mailAutoconfigRoutes = [
  autoconfigRoute(
    '/.well-known/autoconfig/mail/config-v1.1.xml',
    "Mail autoconfig (Thunderbird's clientConfig 1.1): IMAPS 993 and submission 587 at mail.<domain>; 404 unless email is installed",
  ),
  autoconfigRoute(
    '/mail/config-v1.1.xml',
    'The same document where mail apps ask autoconfig.<domain> (Caddy passes this path to the API for that name only)',
  ),
];
