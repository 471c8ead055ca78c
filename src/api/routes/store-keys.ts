// The store's trusted signing keys (StoreKeysService): the bundled ones and the owner's. Adding and
// deleting are audited like every state change (the row names the key's id, never the PEM).
import { z } from 'zod';
import {
  addStoreKeyBodySchema,
  storeKeyParams,
  storeKeySchema,
  storeKeysSchema,
} from '../../schema/store-keys.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const storeKeyRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/store/keys',
    access: ADMIN,
    tag: 'services',
    summary:
      'The public keys signed store images are verified against: bundled with PIC, and added by the owner',
    response: storeKeysSchema,
    handler: ({ deps }) => deps.storeKeys.list(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/store/keys',
    access: ADMIN,
    tag: 'services',
    summary: 'Trust a public key (ECDSA P-256, PEM) for signed store images; 409 when it is trusted already',
    body: addStoreKeyBodySchema,
    response: storeKeySchema,
    status: 201,
    handler: ({ deps, body, req }) => {
      const key = deps.storeKeys.add(body.pem);
      req.auditTarget = key.id;
      return key;
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/store/keys/:id',
    access: ADMIN,
    tag: 'services',
    summary: 'Stop trusting a key the owner added (a bundled key cannot be deleted: 409)',
    params: storeKeyParams,
    response: z.object({ ok: z.literal(true) }),
    handler: ({ deps, params }) => {
      deps.storeKeys.remove(params.id);
      return { ok: true as const };
    },
  }),
];
