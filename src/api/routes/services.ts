// Core services' health, and the service store (issue 12, "Lifecycle"): the catalog with each
// service's state and job, install and uninstall in the background (202; GET the catalog item for
// the progress), restart, and the active list (the spec's GET /api/services/active).
import { z } from 'zod';
import { serviceHealthSchema } from '../../schema/containers.ts';
import {
  activeServicesSchema,
  catalogItemSchema,
  catalogSchema,
  serviceActionSchema,
  serviceIdParams,
} from '../../schema/service-store.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const serviceRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/services/status',
    access: ADMIN,
    tag: 'services',
    summary: 'State of each core service: running, since when, last error',
    response: z.object({
      data_plane: z.enum(['running', 'not_running']),
      services: z.array(serviceHealthSchema),
    }),
    handler: async ({ deps }) => {
      const running = await deps.dataPlane.running();
      return {
        data_plane: running ? ('running' as const) : ('not_running' as const),
        services: await deps.health.services(),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/services/catalog',
    access: ADMIN,
    tag: 'services',
    summary: 'Every store service: what it is, whether it is installed, its state and running job',
    response: catalogSchema,
    handler: ({ deps }) => deps.store.catalog(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/services/catalog/:id',
    access: ADMIN,
    tag: 'services',
    summary: "One store service, with its job's phase and message while it installs or uninstalls",
    params: serviceIdParams,
    response: catalogItemSchema,
    handler: ({ deps, params }) => deps.store.detail(params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/services/catalog/:id/install',
    access: ADMIN,
    tag: 'services',
    summary:
      'Install a store service and what it requires, in the background (202): build, verify, create, start, healthy, wire',
    params: serviceIdParams,
    status: 202,
    response: serviceActionSchema,
    handler: ({ deps, params, req }) => {
      req.auditTarget = params.id;
      return deps.store.install(params.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/services/catalog/:id/uninstall',
    access: ADMIN,
    tag: 'services',
    summary:
      'Uninstall a store service in the background (202): its containers and network go, data/services/<id>/ stays; refused (409) while another installed service requires it',
    params: serviceIdParams,
    status: 202,
    response: serviceActionSchema,
    handler: ({ deps, params, req }) => {
      req.auditTarget = params.id;
      return deps.store.uninstall(params.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/services/catalog/:id/restart',
    access: ADMIN,
    tag: 'services',
    summary: "Restart an installed store service's containers",
    params: serviceIdParams,
    response: serviceActionSchema,
    handler: ({ deps, params, req }) => {
      req.auditTarget = params.id;
      return deps.store.restart(params.id);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/services/active',
    access: ADMIN,
    tag: 'services',
    summary: 'The installed store services, their state and address (https://<subdomain>.<domain>)',
    response: activeServicesSchema,
    handler: ({ deps }) => deps.store.active(),
  }),
];
