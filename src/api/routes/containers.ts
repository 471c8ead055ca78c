import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { containerInfoSchema as info, containerMountSchema as mount } from '../../schema/containers.ts';
import { ADMIN, defineRoute } from '../route.ts';

const name = z
  .object({ name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be a container name') })
  .strict();

const action = (verb: 'start' | 'stop' | 'restart') =>
  defineRoute({
    method: 'POST',
    url: `/api/containers/:name/${verb}`,
    access: ADMIN,
    tag: 'containers',
    summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} one of the cell's containers`,
    params: name,
    response: info,
    handler: ({ deps, params }) => deps.containers.act(params.name, verb),
  });

export const containerRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/containers',
    access: ADMIN,
    tag: 'containers',
    summary: "The cell's containers with state and health (PIC's own only)",
    query: z.object({}).strict(),
    response: z.object({ containers: z.array(info) }),
    handler: async ({ deps }) => ({ containers: await deps.containers.list() }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/containers/volumes',
    access: ADMIN,
    tag: 'containers',
    summary: "Every directory mounted into the cell's containers",
    query: z.object({}).strict(),
    response: z.object({ volumes: z.array(mount) }),
    handler: async ({ deps }) => ({ volumes: await deps.containers.volumes() }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/containers/images/pull',
    access: ADMIN,
    tag: 'containers',
    summary: 'Refused: PIC builds its images locally and pulls from no registry',
    body: z.object({ image: z.string().max(200) }).strict(),
    response: z.never(),
    handler: () => {
      throw new AppError(
        'bad_request',
        'PIC builds every image from its own Dockerfiles and pulls from no registry; run ./pic update to rebuild',
      );
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/containers/:name',
    access: ADMIN,
    tag: 'containers',
    summary: 'One container: state, health, address, mounts (no environment: it may hold secrets)',
    params: name,
    response: info.extend({ mounts: z.array(mount) }),
    handler: ({ deps, params }) => deps.containers.inspect(params.name),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/containers/:name/logs',
    access: ADMIN,
    tag: 'containers',
    summary: "The tail of a container's log",
    params: name,
    query: z.object({ tail: z.coerce.number().int().min(1).max(5000).default(200) }).strict(),
    response: z.object({ name: z.string(), logs: z.string() }),
    handler: async ({ deps, params, query }) => ({
      name: params.name,
      logs: await deps.containers.logs(params.name, query.tail),
    }),
  }),
  action('start'),
  action('stop'),
  action('restart'),
];
