// Caddy's admin API as core sees it: load a whole rendered config into the running Caddy. Caddy
// swaps configs atomically, so a refused config leaves the old one serving.

export interface CaddyAdminPort {
  /**
   * Loads `config` (Caddy JSON text). 'unchanged' when it equals the last config loaded, in which
   * case nothing is sent. Throws AppError('unavailable', <Caddy's reason>) when Caddy refuses it or
   * cannot be reached; the config Caddy was running stays.
   */
  load(config: string): Promise<'loaded' | 'unchanged'>;
  /**
   * Loads `config` even when Caddy already runs it, so it reads the files the config names again (a
   * renewed certificate). Same errors as load.
   */
  reload(config: string): Promise<void>;
}
