// A warning from a renderer or a use-case: where it applies (a dotted path into the input, e.g.
// `peers.laptop`) and what happened. The API answers carry these objects as they are.
import { z } from 'zod';

export const warningSchema = z.object({ path: z.string(), message: z.string() });
export type Warning = z.infer<typeof warningSchema>;
