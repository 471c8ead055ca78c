// A route is data: method, url, who may call it, zod schemas and one handler. Registration, the role
// check, the OpenAPI document and the route-rule test all read the same definitions.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Session } from '../core/auth/sessions.ts';
import type { Role } from '../schema/users.ts';
import type { AppDeps } from './deps.ts';

/** 'public': no session needed. A role list: a session whose role is in the list. */
export type Access = 'public' | readonly Role[];

export const ADMIN: readonly Role[] = ['admin'];
export const ANY_USER: readonly Role[] = ['admin', 'peer'];

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  session: Session | undefined;
  deps: AppDeps;
  req: FastifyRequest;
  reply: FastifyReply;
  /** The client's address, from the socket (or a trusted proxy's forwarded header). */
  source: string;
}

export interface RouteDef<
  BS extends z.ZodType | undefined = z.ZodType | undefined,
  QS extends z.ZodType | undefined = z.ZodType | undefined,
  PS extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  url: string;
  access: Access;
  summary: string;
  tag: string;
  body?: BS;
  query?: QS;
  params?: PS;
  response?: z.ZodType;
  /** The answer carries a secret (a private key, a config): the read is audited like a change. */
  auditRead?: boolean;
  /**
   * A disabled peer's session may still call it (who am I, am I disabled); every other route answers
   * it 403 peer_disabled. Only for routes that hand out nothing a disabled peer must not have.
   */
  whileDisabled?: boolean;
  /**
   * The body is a raw file (application/octet-stream or text/plain), handed to the handler as a
   * Buffer of at most maxBytes; the role is checked before the body is read. With `stream`, the
   * handler gets the request stream instead (it enforces maxBytes as it reads; a declared
   * Content-Length over it is refused before).
   */
  rawBody?: { maxBytes: number; stream?: boolean };
  /** Status of a successful answer (default 200). */
  status?: number;
  handler: (ctx: RouteContext<Infer<BS>, Infer<QS>, Infer<PS>>) => unknown | Promise<unknown>;
}

export function defineRoute<
  BS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  PS extends z.ZodType | undefined = undefined,
>(def: RouteDef<BS, QS, PS>): RouteDef {
  return def as unknown as RouteDef;
}
