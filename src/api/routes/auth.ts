import { z } from 'zod';
import { anyPassword, newPassword } from '../../schema/fields.ts';
import { ANY_USER, defineRoute } from '../route.ts';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.ts';

const me = z.object({ username: z.string(), role: z.enum(['admin', 'peer']), csrf_token: z.string() });

export const authRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/auth/login',
    access: 'public',
    tag: 'auth',
    summary: 'Log in; sets the session cookie (a new session id every time)',
    body: z.object({ username: z.string().min(1).max(64), password: anyPassword }).strict(),
    response: me,
    handler: async ({ deps, body, source, req, reply }) => {
      req.auditTarget = `user=${body.username.slice(0, 64)}`;
      const r = await deps.auth.login(body.username, body.password, source);
      if (req.picSession) deps.sessions.destroy(req.picSession.idHash);
      setSessionCookie(req, reply, r.sessionId);
      // The audit row of this request names the user who just logged in.
      req.picSession = deps.sessions.resolve(r.sessionId);
      return { username: r.username, role: r.role, csrf_token: r.csrfToken };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/logout',
    access: 'public',
    tag: 'auth',
    summary: 'End the current session',
    response: z.object({ logged_out: z.literal(true) }),
    handler: ({ deps, req, reply }) => {
      if (req.picSession) deps.sessions.destroy(req.picSession.idHash);
      clearSessionCookie(reply);
      return { logged_out: true as const };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/auth/me',
    access: ANY_USER,
    tag: 'auth',
    summary: 'The logged-in user and the CSRF token for this session',
    response: me,
    handler: ({ session }) => ({
      username: session!.username,
      role: session!.role,
      csrf_token: session!.csrfToken,
    }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/password',
    access: ANY_USER,
    tag: 'auth',
    summary: 'Change your password; ends all your sessions and starts a new one here',
    body: z.object({ current_password: anyPassword, new_password: newPassword }).strict(),
    response: me,
    handler: async ({ deps, body, session, source, req, reply }) => {
      const r = await deps.auth.changePassword(
        session!.userId,
        body.current_password,
        body.new_password,
        source,
      );
      setSessionCookie(req, reply, r.sessionId);
      return { username: r.username, role: r.role, csrf_token: r.csrfToken };
    },
  }),
];
