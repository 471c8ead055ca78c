// One catalogue of typed errors. Core code throws AppError with a code; the API maps the code to an
// HTTP status through STATUS_BY_CODE and nowhere else. Messages must never contain a secret.

export const STATUS_BY_CODE = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  invalid_host: 400,
  unauthorized: 401,
  /** The password was right; two-factor is on and the request carried no code. */
  totp_required: 401,
  forbidden: 403,
  csrf_failed: 403,
  /** The account belongs to a peer that is disabled (or past its expiry): no login, no config. */
  peer_disabled: 403,
  invalid_setup_token: 403,
  not_found: 404,
  conflict: 409,
  setup_completed: 409,
  range_full: 409,
  payload_too_large: 413,
  /** A store image failed verification in enforce mode (unsigned, bad signature, not pinned...). */
  image_unverified: 422,
  /**
   * A store service cannot be installed as asked: its manifest (or one it requires) is refused by
   * the policy, or the catalog's `requires` form a cycle. The same request will never succeed.
   */
  manifest_refused: 422,
  unsupported_media_type: 415,
  setup_required: 428,
  rate_limited: 429,
  internal: 500,
  /** An upload does not fit in the account's quota (the Files service), or the disk is full. */
  insufficient_storage: 507,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[] | undefined;
  /** Seconds, for rate_limited (becomes a Retry-After header). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { fields?: FieldError[]; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.fields = opts.fields;
    this.retryAfter = opts.retryAfter;
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
export const invalid = (fields: FieldError[]) =>
  new AppError('validation_failed', `Invalid ${fields.map((f) => f.field).join(', ')}`, { fields });
