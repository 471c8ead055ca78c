// Readiness: whether a started container's daemon does its job now, by the daemon's own check
// (Unbound answers a query, Caddy's admin API answers, chrony tracks, wg0 is up, the API's /health).
// `pic up` polls it at a short interval instead of waiting for the engine's health status, which
// Docker refreshes only every HEALTHCHECK interval (15 s).

export interface ReadinessResult {
  ready: boolean;
  /** What the check printed (first line), for progress and error messages. */
  detail: string;
}

export interface Readiness {
  /** Runs the check of one container once; never throws (a failure is `ready: false`). */
  check(container: string): Promise<ReadinessResult>;
}
