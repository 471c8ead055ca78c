import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timed } from './timed.ts';

class Port {
  #state = 'up';
  async running() {
    return this.#state === 'up';
  }
  async apply(fail: boolean) {
    if (fail) throw new Error('refused');
    return this.#state;
  }
}

test('the wrapped method is timed, failures included; other methods reach private state', async () => {
  const seen: number[] = [];
  const p = timed(new Port(), 'apply', (s) => seen.push(s));
  assert.equal(await p.running(), true);
  assert.equal(await p.apply(false), 'up');
  await assert.rejects(p.apply(true), /refused/);
  assert.equal(seen.length, 2);
  assert.ok(seen.every((s) => s >= 0 && s < 5));
});
