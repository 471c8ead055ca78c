// The certificate authority (the spec's vault): the root and the CRL for anyone who can reach the cell
// (peers install the root to trust the cell's HTTPS), issuing and revoking for the owner. An issued
// certificate's private key is in the 201 answer only; the cell does not keep it.
import { z } from 'zod';
import {
  certIdParams,
  certView,
  issueCertSchema,
  issuedCertView,
  revokeCertSchema,
} from '../../schema/vault.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const vaultRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/vault/ca.crt',
    // Public: a device installs it before it can trust anything of the cell; it is a certificate, no secret.
    access: 'public',
    tag: 'vault',
    summary: "The cell's root CA certificate (PEM), to install on devices so they trust the cell's HTTPS",
    handler: async ({ deps, reply }) => {
      const pem = await deps.vault.rootPem();
      const cell = deps.config.get().identity.cell_name;
      return reply
        .type('application/x-pem-file')
        .header('content-disposition', `attachment; filename="pic-${cell}-root-ca.crt"`)
        .send(pem);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/vault/crl',
    // Public: whoever checks a certificate of the cell's CA must be able to read what was revoked.
    access: 'public',
    tag: 'vault',
    summary: 'The certificate revocation list (DER), signed by the intermediate CA',
    handler: async ({ deps, reply }) => {
      const der = await deps.vault.crlDer();
      return reply
        .type('application/pkix-crl')
        .header('content-disposition', 'attachment; filename="pic.crl"')
        .send(Buffer.from(der));
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/vault/certs',
    access: ADMIN,
    tag: 'vault',
    summary: 'Every certificate the CA issued, newest first (never a private key)',
    response: z.array(certView),
    handler: ({ deps }) => deps.vault.list(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/vault/certs',
    access: ADMIN,
    tag: 'vault',
    summary:
      'Issue a TLS certificate (ECDSA P-256, SAN, EKU serverAuth) signed by the intermediate, for names under .cell and private addresses only (the CA’s name constraints); the private key is in this answer only',
    body: issueCertSchema,
    response: issuedCertView,
    status: 201,
    handler: ({ deps, body, req }) => {
      req.auditTarget = `cn=${body.common_name}`;
      return deps.vault.issue(body);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/vault/certs/:id/revoke',
    access: ADMIN,
    tag: 'vault',
    summary: 'Revoke a certificate; the CRL is signed again at once',
    params: certIdParams,
    body: revokeCertSchema,
    response: certView,
    handler: async ({ deps, params, body, req }) => {
      req.auditTarget = `id=${params.id} reason=${body.reason}`;
      return deps.vault.revoke(params.id, body.reason);
    },
  }),
];
