// The NTP status never fails the caller: chronyc missing, failing or hanging all read as not running,
// and the reason goes to onError only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NtpService } from './ntp-service.ts';

test('chronyc cannot run, exits 1, or hangs: running=false and the reason to onError', async () => {
  const errors: string[] = [];
  const onError = (e: unknown) => errors.push((e as Error).message);
  const rejecting = new NtpService(
    { run: () => Promise.reject(new Error('no such container')) },
    { onError },
  );
  assert.equal((await rejecting.status()).running, false);
  const failing = new NtpService(
    { run: async () => ({ exitCode: 1, stdout: '', stderr: 'Could not open connection to daemon\n' }) },
    { onError },
  );
  assert.equal((await failing.status()).running, false);
  const hanging = new NtpService({ run: () => new Promise(() => {}) }, { onError, timeoutMs: 20 });
  assert.equal((await hanging.status()).running, false);
  assert.deepEqual(errors, ['no such container', 'Could not open connection to daemon', 'chronyc timed out']);
});

test('the argv is fixed: one chronyc run for tracking and sources, no name lookups', async () => {
  let seen: readonly string[] = [];
  const svc = new NtpService({
    run: async (args) => {
      seen = args;
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  });
  await svc.status();
  assert.deepEqual(seen, ['-m', '-n', '-c', 'tracking', 'sources']);
});

test('a chronyc that hangs is not joined by another per request: one run at a time', async () => {
  let runs = 0;
  let release: (r: { exitCode: number; stdout: string; stderr: string }) => void = () => {};
  const svc = new NtpService(
    {
      run: () => {
        runs++;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    },
    { timeoutMs: 10 },
  );
  for (let i = 0; i < 5; i++) assert.equal((await svc.status()).running, false);
  assert.equal(runs, 1, 'the stuck run is shared, not repeated');
  release({ exitCode: 1, stdout: '', stderr: '' });
  await new Promise((r) => setImmediate(r));
  await svc.status();
  assert.equal(runs, 2, 'once it ended, the next call runs chronyc again');
});
