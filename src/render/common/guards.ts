// Second line of defence for the renderers: every value is re-checked against its schema before it is
// written, so a caller that skipped validation gets an exception, never an injected config line.
import type { z } from 'zod';

export function must<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`refusing to render ${what}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}
