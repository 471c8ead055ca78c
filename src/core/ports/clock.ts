// Time for background schedulers: the real one in production, a fake the tests advance by hand.

export interface Clock {
  now(): number;
  /** Calls fn once after ms; the handle cancels it. The real clock unrefs it (never keeps the process up). */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}
