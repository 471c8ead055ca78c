// NTP status: asks chronyd (one chronyc run, tracking and sources at once) and answers
// {running: false} rather than failing when it cannot: the data plane down, cell-ntp stopped, or
// `pic serve` without Docker. The reason goes to the log, never to the caller.
import { NTP_NOT_RUNNING, type NtpStatus } from '../../schema/ntp.ts';
import type { ChronycPort } from '../ports/chronyc.ts';
import { parseChronycCsv } from './chronyc-csv.ts';

/** -m: several commands in one run; -n: no name lookups; -c: CSV. */
export const CHRONYC_STATUS_ARGS = ['-m', '-n', '-c', 'tracking', 'sources'] as const;

export class NtpService {
  readonly #chronyc: ChronycPort;
  readonly #timeoutMs: number;
  readonly #onError: (err: unknown) => void;

  #inFlight: ReturnType<ChronycPort['run']> | undefined;

  constructor(chronyc: ChronycPort, opts: { timeoutMs?: number; onError?: (err: unknown) => void } = {}) {
    this.#chronyc = chronyc;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#onError = opts.onError ?? (() => {});
  }

  async status(): Promise<NtpStatus> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('chronyc timed out')), this.#timeoutMs);
      });
      // One chronyc at a time: a call that outlives its timeout is shared by the next callers, not
      // joined by another process each time (a stuck exec cannot pile up).
      this.#inFlight ??= this.#chronyc.run(CHRONYC_STATUS_ARGS).finally(() => {
        this.#inFlight = undefined;
      });
      const r = await Promise.race([this.#inFlight, timeout]);
      // chronyc exits 1 when it cannot reach chronyd, yet prints what it could read before that.
      const status = parseChronycCsv(r.stdout);
      if (!status.running && r.exitCode !== 0) this.#onError(new Error(r.stderr.trim().slice(0, 200)));
      return status;
    } catch (err) {
      this.#onError(err);
      return NTP_NOT_RUNNING;
    } finally {
      clearTimeout(timer);
    }
  }
}
