// Runs one age operation on a worker thread (age-worker.ts) and hands back its answer.
import { Worker } from 'node:worker_threads';
import type { AgeReply, AgeRequest } from './age-worker.ts';

const WORKER_URL = new URL('./age-worker.ts', import.meta.url);

export class AgeError extends Error {
  readonly wrongKey: boolean;
  constructor(message: string, wrongKey: boolean) {
    super(message);
    this.name = 'AgeError';
    this.wrongKey = wrongKey;
  }
}

export interface AgeThread {
  /** Resolves when the worker has answered; for decrypt, the plaintext then streams from it. */
  reply: Promise<Extract<AgeReply, { ok: true }>>;
  /** Ends the thread (after the answer has been consumed, or to abandon the work). */
  stop(): Promise<void>;
}

export function runAge(req: AgeRequest): AgeThread {
  const worker = new Worker(WORKER_URL);
  const reply = new Promise<Extract<AgeReply, { ok: true }>>((resolve, reject) => {
    worker.once('message', (m: AgeReply) => (m.ok ? resolve(m) : reject(new AgeError(m.error, m.wrongKey))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new AgeError(`the age thread exited (${code})`, false)));
  });
  const transfer = req.op === 'encrypt' ? [req.input as never] : [];
  worker.postMessage(req, transfer);
  return {
    reply,
    stop: async () => {
      await worker.terminate();
    },
  };
}
