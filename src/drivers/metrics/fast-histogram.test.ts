import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.ts';

test("the exposition is prom-client's Histogram's, byte for byte (buckets, +Inf, sum, count, label order)", async () => {
  const opts = {
    name: 'pic_http_request_duration_seconds',
    help: 'API and UI requests by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  };
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastHistogram({ ...opts, registers: [ours] });
  const reference = new Histogram({ ...opts, registers: [theirs] });
  const calls: [string, string, number, number][] = [
    ['/api/auth/me', 'GET', 200, 0.0004],
    ['/api/auth/me', 'GET', 200, 0.001], // on a bound: that bucket
    ['/api/auth/me', 'GET', 401, 0.03],
    ['/api/peers/:name', 'DELETE', 204, 7.5], // past the last bound: +Inf only
    ['unmatched', 'GET', 404, 0.2],
    ['/api/"quoted"\\route', 'POST', 400, 0.0123],
  ];
  for (const [route, method, status, s] of calls) {
    fast.observe(`${method} ${status} ${route}`, () => ({ route, method, status: String(status) }), s);
    reference.observe({ route, method, status: String(status) }, s);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  ours.resetMetrics();
  theirs.resetMetrics();
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.throws(() => fast.observe('x', () => ({ route: 'x', method: 'GET', status: '200' }), Number.NaN));
});
