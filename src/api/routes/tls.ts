// TLS for the cell's names (ADR 0019): the ACME settings (the EAB HMAC key is write-only), the
// certificate status, renew now, and the HTTP-01 answer the CA fetches through Caddy.
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { acmeToken, tlsSettingsBody, tlsSettingsView, tlsStatus } from '../../schema/tls.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const tlsRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/tls/status',
    access: ADMIN,
    tag: 'tls',
    summary:
      'The served certificate: mode, domain, issuer, expiry, last renewal, last error, next attempt and the step of an order in progress',
    response: tlsStatus,
    handler: ({ deps }) => deps.tls.status(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/tls/settings',
    access: ADMIN,
    tag: 'tls',
    summary: 'ACME directory, contact email, EAB key id (never the HMAC key), challenge type',
    response: tlsSettingsView,
    handler: ({ deps }) => deps.tls.settings(),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/tls/settings',
    access: ADMIN,
    tag: 'tls',
    summary:
      'Set the ACME directory (https; http only on loopback), email, EAB key id and HMAC key, challenge type; used by the next order, nothing is contacted now',
    body: tlsSettingsBody,
    response: tlsSettingsView,
    handler: ({ deps, body }) => deps.tls.configure(body),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/tls/renew',
    access: ADMIN,
    tag: 'tls',
    summary: 'Order a new ACME certificate now (pic_ngo and custom modes); waits for it',
    response: tlsStatus,
    handler: ({ deps }) => deps.tls.renew(),
  }),
  defineRoute({
    method: 'GET',
    url: '/.well-known/acme-challenge/:token',
    // Public: the CA fetches it without a session (through Caddy on port 80). It answers only a token
    // of an order in progress, with its key authorization, which is not a secret (RFC 8555 §8.3).
    access: 'public',
    tag: 'tls',
    summary: 'ACME HTTP-01: the key authorization for a token of an order in progress',
    params: z.object({ token: acmeToken }).strict(),
    handler: ({ deps, params, reply }) => {
      const answer = deps.tls.challengeAnswer(params.token);
      if (answer === undefined) throw new AppError('not_found', 'No such challenge');
      return reply.header('content-type', 'text/plain; charset=utf-8').send(answer);
    },
  }),
];
