// Dynamic DNS settings and "publish now". Admin only: the settings name the owner's DNS account, and
// a publish sends a request off the machine. The token is write-only: GET says whether one is set.
import { ddnsOutcome, ddnsSettingsBody, ddnsView } from '../../schema/ddns.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const ddnsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/ddns',
    access: ADMIN,
    tag: 'ddns',
    summary:
      'DDNS provider, host name, URLs, whether a token is set (never the token), last address, last update, last error, next attempt and whether it stopped',
    response: ddnsView,
    handler: ({ deps }) => deps.ddns.view(),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/ddns',
    access: ADMIN,
    tag: 'ddns',
    summary:
      'Set the DDNS provider, host name, token (left out: keep the stored one), zone_id (cloudflare), api_url and IP echo URLs; publishing starts over',
    body: ddnsSettingsBody,
    response: ddnsView,
    handler: ({ deps, body }) => deps.ddns.configure(body),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/ddns/update',
    access: ADMIN,
    tag: 'ddns',
    summary:
      'Read the public address and publish it now (even when unchanged or stopped); returns the outcome',
    response: ddnsOutcome,
    handler: ({ deps }) => deps.ddns.publish({ manual: true }),
  }),
];
