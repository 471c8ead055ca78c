// A chronyc on this machine talking to a chronyd through its command socket (`-h /path.sock`), for
// `pic serve` beside a host chronyd and for the tests' own chronyd. argv only, no shell.
import { execFile } from 'node:child_process';
import type { ChronycPort } from '../../core/ports/chronyc.ts';

export function localChronyc(socket: string, bin = 'chronyc'): ChronycPort {
  return {
    run: (args) =>
      new Promise((resolve, reject) => {
        execFile(
          bin,
          ['-h', socket, ...args],
          { timeout: 5_000, maxBuffer: 1 << 20, encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (err && typeof err.code !== 'number') return reject(err);
            resolve({ exitCode: err ? (err.code as number) : 0, stdout, stderr });
          },
        );
      }),
  };
}
