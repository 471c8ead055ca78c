// The typed API client: paths and bodies come from schema.d.ts, generated from the API's own
// OpenAPI document (npm run gen:api). Adds the session's CSRF token to state-changing requests and
// turns error bodies into ApiError, whose field messages the forms show next to each field.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  readonly retryAfter: number | undefined;
  constructor(
    status: number,
    body: { error?: string; message?: string; fields?: FieldError[] },
    retryAfter?: number,
  ) {
    super(body.message ?? body.error ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.error ?? 'error';
    this.fields = body.fields ?? [];
    this.retryAfter = retryAfter;
  }
  fieldMessage(field: string): string | undefined {
    return this.fields.find((f) => f.field === field)?.message;
  }
}

let csrfToken: string | undefined;
export const setCsrfToken = (token: string | undefined) => {
  csrfToken = token;
};

type Listener = (kind: 'setup_required' | 'unauthorized') => void;
let listener: Listener = () => {};
export const onAuthEvent = (l: Listener) => {
  listener = l;
};

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const middleware: Middleware = {
  onRequest({ request }) {
    if (STATE_CHANGING.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  async onResponse({ response, request }) {
    if (response.status === 428) listener('setup_required');
    else if (response.status === 401 && !request.url.includes('/api/auth/login')) listener('unauthorized');
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(middleware);

/** Unwraps an openapi-fetch result: the data, or a thrown ApiError. */
export async function call<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await promise;
  if (!response.ok) {
    const retry = response.headers.get('retry-after');
    throw new ApiError(response.status, (error ?? {}) as never, retry ? Number(retry) : undefined);
  }
  return data as NonNullable<T>;
}
