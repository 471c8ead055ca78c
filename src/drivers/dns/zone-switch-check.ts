// Test helper (not shipped behaviour): a resolver loop that asks a DNS server for a few names every
// `everyMs` while a test switches the cell's zone, and the check of what it saw. Used on a real
// Unbound (zone-switch.int.test.ts) and from a device over WireGuard on a whole cell
// (test/e2e/peer/dns-querier.ts, test/e2e/public-domain.test.ts).
//
// One round asks the names one after the other, in the order given (a name may come twice), each
// waiting for its answer (at most `timeoutMs`, one try): asked `old, new, old` around a switch that is
// atomic, one of them is always served, whichever way the switch goes. An outcome is
// `A <addresses>`, or the error's code: NXDOMAIN (node's ENOTFOUND), SERVFAIL, NODATA, TIMEOUT...
import { Resolver } from 'node:dns/promises';

export interface Round {
  /** ms since the loop started. */
  t: number;
  /** [name, outcome], in the order asked. */
  answers: Array<[string, string]>;
}

export function queryLoop(o: {
  server: string;
  from?: string;
  names: string[];
  everyMs: number;
  timeoutMs: number;
}): { stop(): void; done: Promise<Round[]> } {
  let stopped = false;
  const rounds: Round[] = [];
  const t0 = performance.now();
  const r = new Resolver({ timeout: o.timeoutMs, tries: 1 });
  r.setServers([o.server]);
  if (o.from) r.setLocalAddress(o.from);
  const ask = async (name: string): Promise<string> => {
    try {
      return `A ${(await r.resolve4(name)).sort().join(',')}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
      return code === 'ENOTFOUND' ? 'NXDOMAIN' : code.replace(/^E/, '');
    }
  };
  const done = (async () => {
    while (!stopped) {
      const start = performance.now();
      const answers: Array<[string, string]> = [];
      for (const name of o.names) answers.push([name, await ask(name)]);
      rounds.push({ t: Math.round(start - t0), answers });
      const wait = o.everyMs - (performance.now() - start);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return rounds;
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}

export interface SwitchExpectation {
  /**
   * Names of which one must answer (with its address in `expect`) in every round: the cell's name in
   * each zone the switch goes through, a peer's name in each (asked `old, new, old`). `transitions`:
   * how many times each name changes between answering and not, by its first answer in each round
   * (once per switch into or out of its zone).
   */
  groups: Array<{ names: string[]; transitions: Record<string, number> }>;
  /** The address each name must answer with whenever it answers. */
  expect: Record<string, string>;
  /** Names that must never answer with an address (a service the asking peer is denied). */
  denied: string[];
}

/** Every way the rounds break the expectation, one line each (empty: none). */
export function checkSwitch(rounds: readonly Round[], x: SwitchExpectation): string[] {
  const problems: string[] = [];
  const serves = (name: string, got: string | undefined) => got === `A ${x.expect[name]}`;
  const first = (r: Round, name: string) => r.answers.find(([n]) => n === name)?.[1];
  for (const r of rounds) {
    for (const [name, got] of r.answers) {
      if (got.startsWith('A ') && name in x.expect && !serves(name, got))
        problems.push(`${r.t} ms: ${name} answered ${got}, not ${x.expect[name]}`);
      if (got.startsWith('A ') && x.denied.includes(name))
        problems.push(`${r.t} ms: denied ${name} answered ${got}`);
    }
    for (const g of x.groups) {
      const asked = r.answers.filter(([n]) => g.names.includes(n));
      if (!asked.some(([n, got]) => serves(n, got)))
        problems.push(
          `${r.t} ms: none of ${g.names.join(', ')} answered (${asked.map(([n, got]) => `${n} ${got}`).join(', ')})`,
        );
    }
  }
  for (const g of x.groups)
    for (const name of g.names) {
      let changes = 0;
      for (let i = 1; i < rounds.length; i++)
        if (serves(name, first(rounds[i]!, name)) !== serves(name, first(rounds[i - 1]!, name))) changes++;
      const want = g.transitions[name] ?? 0;
      if (changes !== want)
        problems.push(`${name} changed between answering and not ${changes} times, not ${want}`);
    }
  return problems;
}
