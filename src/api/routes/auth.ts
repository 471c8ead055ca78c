import { z } from 'zod';
import { anyPassword, newPassword } from '../../schema/fields.ts';
import { twoFactorCode } from '../../schema/users.ts';
import { ANY_USER, defineRoute } from '../route.ts';
import { clearSessionCookie, setSessionCookie } from '../session-cookie.ts';

const me = z.object({
  username: z.string(),
  role: z.enum(['admin', 'peer']),
  csrf_token: z.string(),
  totp_enabled: z.boolean(),
  /**
   * The cell's name, for the UI's header: a peer may not read the cell's config (GET /api/config is
   * the owner's), and already sees the name as the issuer of its two-factor secret.
   */
  cell_name: z.string(),
});

export const authRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/auth/login',
    access: 'public',
    tag: 'auth',
    summary:
      'Log in; sets the session cookie (a new session id every time). With two-factor on, send `code` ' +
      '(6 digits or a recovery code); without it a right password answers 401 totp_required',
    body: z
      .object({ username: z.string().min(1).max(64), password: anyPassword, code: twoFactorCode.optional() })
      .strict(),
    response: me,
    handler: async ({ deps, body, source, req, reply }) => {
      req.auditTarget = `user=${body.username.slice(0, 64)}`;
      const r = await deps.auth.login(body.username, body.password, source, body.code);
      if (req.picSession) deps.sessions.destroy(req.picSession.idHash);
      setSessionCookie(req, reply, r.sessionId);
      // The audit row of this request names the user who just logged in.
      req.picSession = deps.sessions.resolve(r.sessionId);
      return {
        username: r.username,
        role: r.role,
        csrf_token: r.csrfToken,
        totp_enabled: r.totpEnabled,
        cell_name: deps.config.cellName(),
      };
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
    // A disabled peer's UI still learns who is logged in (and shows the disabled state).
    whileDisabled: true,
    tag: 'auth',
    summary:
      'The logged-in user, the CSRF token for this session, whether two-factor login is on and the ' +
      "cell's name",
    response: me,
    handler: ({ deps, session }) => ({
      username: session!.username,
      role: session!.role,
      csrf_token: session!.csrfToken,
      totp_enabled: session!.totpEnabled,
      cell_name: deps.config.cellName(),
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
      return {
        username: r.username,
        role: r.role,
        csrf_token: r.csrfToken,
        totp_enabled: r.totpEnabled,
        cell_name: deps.config.cellName(),
      };
    },
  }),
  // Two-factor login for the caller's own account (admins and peers alike); see core/auth/two-factor.ts.
  defineRoute({
    method: 'POST',
    url: '/api/auth/totp/setup',
    access: ANY_USER,
    tag: 'auth',
    summary:
      'Start two-factor setup: a new secret, its otpauth:// URL and QR code (not active until enabled; ' +
      'replaces a pending one)',
    response: z.object({ secret: z.string(), otpauth_url: z.string(), qr: z.string() }),
    handler: async ({ deps, session }) => {
      const issuer = `PIC ${deps.config.get().identity.cell_name}`;
      return deps.auth.totp.setup(session!.userId, session!.username, issuer);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/totp/enable',
    access: ANY_USER,
    tag: 'auth',
    summary:
      'Turn two-factor login on with your password and a code from the pending secret; returns 10 ' +
      'recovery codes, once',
    body: z.object({ password: anyPassword, code: twoFactorCode }).strict(),
    response: z.object({ recovery_codes: z.array(z.string()) }),
    handler: async ({ deps, body, session }) => ({
      recovery_codes: await deps.auth.totp.enable(session!.userId, body.password, body.code),
    }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/totp/disable',
    access: ANY_USER,
    tag: 'auth',
    summary: 'Turn two-factor login off with your password and a code (or a recovery code)',
    body: z.object({ password: anyPassword, code: twoFactorCode }).strict(),
    response: z.object({ totp_enabled: z.literal(false) }),
    handler: async ({ deps, body, session }) => {
      await deps.auth.totp.disable(session!.userId, body.password, body.code);
      return { totp_enabled: false as const };
    },
  }),
];
