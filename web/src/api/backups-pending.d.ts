// Temporary: the backup routes' types by hand, in the generated shape, until they are on main and
// `npm run gen:api` writes them into schema.d.ts. Deleted then.
import type { components } from './schema';

type Json<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type Err = Json<components['schemas']['Error']>;
type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type IdParams = { query?: never; header?: never; path: { id: string }; cookie?: never };
type Phase =
  | 'queued'
  | 'database'
  | 'files'
  | 'volumes'
  | 'writing'
  | 'unpacking'
  | 'verifying'
  | 'vault'
  | 'identity'
  | 'database_swap'
  | 'volumes_restore'
  | 'reapplying'
  | 'done'
  | 'failed';
type Item = { backup_id: string; file: string; size: number; created_at: string; encrypted: boolean };
type Job = {
  backup_id: string;
  kind: 'backup' | 'restore';
  phase: Phase;
  bytes_done: number;
  bytes_total: number | null;
  started_at: string;
  finished_at: string | null;
  error: string | null;
};
type Op<P, B, R> = {
  parameters: P;
  requestBody?: B extends never ? never : { content: { 'application/json': B } };
  responses: R & { default: Err };
};
type Item_ = {
  parameters: NoParams;
  get?: never;
  put?: never;
  post?: never;
  delete?: never;
  options?: never;
  head?: never;
  patch?: never;
  trace?: never;
};

declare module './schema' {
  interface paths {
    '/api/config/backup': Omit<Item_, 'post'> & {
      post: Op<NoParams, { passphrase?: string }, { 202: Json<{ backup_id: string }> }>;
    };
    '/api/config/backups': Omit<Item_, 'get'> & {
      get: Op<NoParams, never, { 200: Json<{ backups: Item[]; job: Job | null }> }>;
    };
    '/api/config/backups/{id}': Omit<Item_, 'get' | 'delete' | 'parameters'> & {
      parameters: NoParams;
      get: Op<IdParams, never, { 200: Json<{ backup: Item | null; job: Job | null }> }>;
      delete: Op<IdParams, never, { 204: { headers: { [name: string]: unknown }; content?: never } }>;
    };
    '/api/config/restore/{id}': Omit<Item_, 'post' | 'parameters'> & {
      parameters: NoParams;
      post: Op<IdParams, { passphrase?: string }, { 202: Json<{ backup_id: string }> }>;
    };
  }
}
