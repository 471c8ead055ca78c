// What the rest of the cell tells the metrics exporter, and how the exporter reads the cell. Core and
// the API see only this port; the Prometheus implementation lives in src/drivers/metrics/.
export interface MetricsPort {
  /** One answered HTTP request; `route` is the route pattern (never the raw path: bounded labels). */
  observeHttp(route: string, method: string, status: number, seconds: number): void;
  /** A login refused for a wrong password or code. */
  loginFailed(): void;
  /** One apply of a rendered configuration to a daemon (`wireguard`, `config`...). */
  observeApply(target: string, seconds: number): void;
  /** The exposition in Prometheus' text format. */
  exposition(): Promise<{ contentType: string; body: string }>;
}

/** What the exporter samples at scrape time. */
export interface MetricsSources {
  peers(): Promise<{
    total: number;
    enabled: number;
    /** Live counters from the interface (empty when no data plane runs). */
    live: Array<{ name: string; rx: number; tx: number; latestHandshake: number | null }>;
  }>;
  /** Each core service with its state as the health monitor reports it (`running` = healthy). */
  services(): Promise<Array<{ name: string; state: string }>>;
}
