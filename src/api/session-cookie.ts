import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_TTL_MS } from '../core/auth/sessions.ts';
import { clearSessionCookies, sessionCookie } from './http-policy.ts';

/** `Secure` and the `__Host-` prefix when the browser talks HTTPS (to us, or to the trusted Caddy). */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, sessionId: string): void {
  const secure = req.protocol === 'https';
  reply.header('set-cookie', [
    ...clearSessionCookies().filter((c) => c.startsWith(secure ? 'pic_' : '__Host-')),
    sessionCookie(sessionId, secure, SESSION_TTL_MS / 1000),
  ]);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.header('set-cookie', clearSessionCookies());
}
