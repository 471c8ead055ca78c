// The MetricsPort on prom-client: a registry of its own (no global state), Node's default process
// metrics, and gauges that sample the cell at scrape time, so nothing runs between scrapes.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsPort, MetricsSources } from '../../core/ports/metrics.ts';
import { FastHistogram } from './fast-histogram.ts';

/** States in which a service's container runs (whatever its health check says). */
const UP_STATES = new Set(['running', 'unhealthy', 'starting']);

export function prometheusMetrics(sources: MetricsSources): MetricsPort {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // One sample of each source per scrape, shared by every series of that scrape.
  const peers = oncePerScrape(() => sources.peers());
  const services = oncePerScrape(() => sources.services());

  new Gauge({
    name: 'pic_peers',
    help: 'Peers defined on the cell',
    registers: [registry],
    async collect() {
      this.set((await peers()).total);
    },
  });
  new Gauge({
    name: 'pic_peers_enabled',
    help: 'Peers that are enabled (may connect)',
    registers: [registry],
    async collect() {
      this.set((await peers()).enabled);
    },
  });
  const liveCounter = (name: string, help: string, pick: (p: { rx: number; tx: number }) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['peer'] as const,
      registers: [registry],
      async collect() {
        // WireGuard's own counters, read at scrape time (they restart at 0 with the interface,
        // which Prometheus' rate() handles as a counter reset).
        this.reset();
        for (const p of (await peers()).live) this.inc({ peer: p.name }, pick(p));
      },
    });
  liveCounter('pic_peer_receive_bytes_total', 'Bytes the cell received from the peer', (p) => p.rx);
  liveCounter('pic_peer_transmit_bytes_total', 'Bytes the cell sent to the peer', (p) => p.tx);
  new Gauge({
    name: 'pic_peer_last_handshake_seconds',
    help: 'Unix time of the latest WireGuard handshake with the peer (0: never)',
    labelNames: ['peer'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of (await peers()).live) this.set({ peer: p.name }, p.latestHandshake ?? 0);
    },
  });

  new Gauge({
    name: 'pic_service_up',
    help: "1 when the service's container runs",
    labelNames: ['service'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await services()) this.set({ service: s.name }, UP_STATES.has(s.state) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pic_service_healthy',
    help: "1 when the service's own health check passes",
    labelNames: ['service'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await services()) this.set({ service: s.name }, s.state === 'running' ? 1 : 0);
    },
  });

  const http = new FastHistogram({
    name: 'pic_http_request_duration_seconds',
    help: 'API and UI requests by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const loginFailures = new Counter({
    name: 'pic_login_failures_total',
    help: 'Logins refused for a wrong user name, password or code',
    registers: [registry],
  });
  const apply = new Histogram({
    name: 'pic_apply_duration_seconds',
    help: 'Time to apply a rendered configuration to its daemon',
    labelNames: ['target'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  return {
    // Bounded: routes are patterns. The key names the three values one to one (a method has no space).
    observeHttp: (route, method, status, seconds) =>
      http.observe(
        `${method} ${status} ${route}`,
        () => ({ route, method, status: String(status) }),
        seconds,
      ),
    loginFailed: () => loginFailures.inc(),
    observeApply: (target, seconds) => apply.observe({ target }, seconds),
    async exposition() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * Memoises `read` while one scrape collects (the series' collect() calls run together): the first
 * call starts the read, the others share it, and the next scrape reads afresh.
 */
function oncePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
}
