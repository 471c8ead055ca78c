// A Prometheus histogram for the one series observed on every API request (duration by route, method
// and status), exposed through a prom-client Registry exactly as prom-client's Histogram exposes it.
// prom-client's observe() validates and hashes the labels on every call (also through a labels()
// child): ~3 % of the API's CPU under load. Here a series is found by one string key and an
// observation is a bucket search and three additions; the text is built only at scrape time.
import type { Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative), one per upper bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** One line of the exposition; `exemplar` as prom-client sets it (null on buckets), for getMetricsAsJSON. */
interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

export class FastHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #labelNames: readonly L[];
  #series = new Map<string, Series>();

  constructor(opts: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers: readonly Registry[];
  }) {
    this.name = opts.name;
    this.help = opts.help;
    this.#labelNames = opts.labelNames;
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
    for (const r of opts.registers) r.registerMetric(this as never);
  }

  /** `key` names the label values one to one (the caller's choice, e.g. the values joined by spaces). */
  observe(key: string, labels: () => Record<L, string>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let s = this.#series.get(key);
    if (!s) {
      const given = labels();
      s = { labels: {}, counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
      for (const n of this.#labelNames) s.labels[n] = given[n];
      this.#series.set(key, s);
    }
    const b = this.#bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        s.counts[i]!++;
        break;
      }
    }
    s.sum += value;
    s.count += 1;
  }

  reset(): void {
    this.#series = new Map();
  }

  /** What prom-client's Registry reads (the same values, names and label order as its Histogram's). */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Value[];
  }> {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series.values()) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: bucket, exemplar: null });
      });
      values.push({
        labels: { le: '+Inf', ...s.labels },
        value: s.count,
        metricName: bucket,
        exemplar: null,
      });
      values.push({
        labels: { ...s.labels },
        value: s.sum,
        metricName: `${this.name}_sum`,
        exemplar: undefined,
      });
      values.push({
        labels: { ...s.labels },
        value: s.count,
        metricName: `${this.name}_count`,
        exemplar: undefined,
      });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
