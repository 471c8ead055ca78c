// Wakes the DDNS publisher when an attempt is due (at most every REPUBLISH_MS, to notice a changed
// address), on an injectable clock. stop() cancels the timer; app close calls it, so nothing keeps
// running after a test or a shutdown.
import type { Clock } from '../ports/clock.ts';
import { type DdnsService, REPUBLISH_MS } from './ddns-service.ts';

export class DdnsScheduler {
  readonly #service: DdnsService;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  #timer: unknown;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(service: DdnsService, clock: Clock, onError: (err: unknown) => void = () => {}) {
    this.#service = service;
    this.#clock = clock;
    this.#onError = onError;
    service.onConfigured(() => this.#plan());
  }

  start(): void {
    this.#stopped = false;
    this.#plan();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** The run in progress, if any (tests wait for it after advancing their clock). */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  #plan(): void {
    if (this.#stopped || this.#running) return; // a run in progress plans again when it ends
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    const next = this.#service.nextAttemptAt();
    const delay =
      next === null ? REPUBLISH_MS : Math.min(Math.max(next - this.#clock.now(), 0), REPUBLISH_MS);
    this.#timer = this.#clock.setTimer(() => this.#run(), delay);
  }

  #run(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    this.#running = this.#service
      .tick()
      .catch(this.#onError)
      .finally(() => {
        this.#running = undefined;
        this.#plan();
      });
  }
}
