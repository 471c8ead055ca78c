// Per-peer accounts on installed store services (AccountsService): the owner manages them; a peer
// reads its own credentials. The peer's route is audited as a read of a secret.
import { z } from 'zod';
import {
  accountUsername,
  addAccountBodySchema,
  createdAccountSchema,
  myServiceAccountsSchema,
  serviceAccountsSchema,
} from '../../schema/service-accounts.ts';
import { serviceIdParams } from '../../schema/service-store.ts';
import { ADMIN, defineRoute } from '../route.ts';

const accountParams = serviceIdParams.extend({ username: accountUsername });

export const serviceAccountRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/services/:id/accounts',
    access: ADMIN,
    tag: 'services',
    summary: "The peers' accounts on an installed service (no passwords), and whether the service lists each",
    params: serviceIdParams,
    response: serviceAccountsSchema,
    handler: ({ deps, params }) => deps.serviceAccounts.list(params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/services/:id/accounts',
    access: ADMIN,
    tag: 'services',
    summary:
      "Adds a peer's account (`username` is the peer's name); without `password` one is generated and " +
      'returned once',
    params: serviceIdParams,
    body: addAccountBodySchema,
    response: createdAccountSchema,
    status: 201,
    handler: ({ deps, params, body }) => deps.serviceAccounts.add(params.id, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/services/:id/accounts/:username',
    access: ADMIN,
    tag: 'services',
    summary: "Removes a peer's account from the service (its data stays in the service's volume)",
    params: accountParams,
    response: z.object({ ok: z.literal(true) }),
    handler: async ({ deps, params }) => {
      await deps.serviceAccounts.remove(params.id, params.username);
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/peer/services',
    access: ['peer'],
    auditRead: true,
    tag: 'services',
    summary:
      "The logged-in peer's own service accounts: where, username and password, and for the services " +
      'PIC knows how to set up (`client`) the servers to type into a device and the profile to download',
    response: myServiceAccountsSchema,
    handler: ({ deps, session }) => deps.serviceAccounts.mine(session!.username),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/peer/services/:id/mobileconfig',
    access: ['peer'],
    auditRead: true,
    tag: 'services',
    summary:
      "An Apple configuration profile adding the peer's accounts on the service (calendar: CalDAV and " +
      "CardDAV; email: IMAP and SMTP) and the cell's CA to trust to an iPhone, iPad or Mac; 404 for a " +
      'service without one',
    params: serviceIdParams,
    handler: async ({ deps, session, params, reply }) => {
      const cell = deps.config.get().identity.cell_name;
      const profile = deps.serviceAccounts.appleProfile(
        session!.username,
        params.id,
        cell,
        await deps.vault.rootPem(),
      );
      return reply
        .type('application/x-apple-aspen-config')
        .header('content-disposition', `attachment; filename="${cell}-${params.id}.mobileconfig"`)
        .send(profile);
    },
  }),
];
