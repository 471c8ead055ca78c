// The real clock for background schedulers; its timers never keep the process alive.
import type { Clock } from '../../core/ports/clock.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
