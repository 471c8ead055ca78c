// Maps anything thrown to the one error shape: {error: code, message, fields?}. Fastify's own errors
// (body too large, bad content type, bad JSON) are translated to catalogue codes here.
import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { AppError, type FieldError } from '../core/errors.ts';

const FASTIFY_CODES: Record<string, AppError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

export function zodFields(err: ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of err.issues) {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ field: base ? `${base}.${key}` : key, message: 'is not a known field' });
    } else {
      out.push({ field: base || '(body)', message: issue.message });
    }
  }
  return out;
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    const fields = zodFields(err);
    return new AppError('validation_failed', `Invalid ${fields.map((f) => f.field).join(', ')}`, { fields });
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  const code = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (code === 'payload_too_large') return new AppError(code, 'Request body is too large');
  if (code === 'unsupported_media_type')
    return new AppError(code, 'Send the request body as application/json');
  if (code) return new AppError(code, e.message ?? 'Bad request');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return new AppError('bad_request', 'Bad request');
  return new AppError('internal', 'Internal error');
}

export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  const body: Record<string, unknown> = { error: err.code, message: err.message };
  if (err.fields) body.fields = err.fields;
  return reply.code(err.status).send(body);
}
