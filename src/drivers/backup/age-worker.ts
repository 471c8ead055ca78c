// The age side of a backup, on its own thread: scrypt (about a second at work factor 18) and
// ChaCha20-Poly1305 in JavaScript would otherwise stall every request the API serves meanwhile.
// The plaintext arrives and leaves as transferred web streams, so it never touches the disk here.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { Decrypter, Encrypter } from 'age-encryption';

export type AgeRequest =
  | {
      op: 'encrypt';
      input: ReadableStream<Uint8Array>;
      /** Opened by the caller (0600, O_EXCL): the worker writes the ciphertext into it. */
      outFd: number;
      passphrase?: string;
      recipients?: string[];
      workFactor?: number;
    }
  | { op: 'decrypt'; file: string; passphrase: string };

export type AgeReply =
  | { ok: true; op: 'encrypt'; bytes: number }
  | { ok: true; op: 'decrypt'; plaintext: ReadableStream<Uint8Array> }
  | { ok: false; error: string; wrongKey: boolean };

async function encrypt(req: Extract<AgeRequest, { op: 'encrypt' }>): Promise<AgeReply> {
  const e = new Encrypter();
  if (req.passphrase !== undefined) {
    e.setPassphrase(req.passphrase);
    if (req.workFactor !== undefined) e.setScryptWorkFactor(req.workFactor);
  }
  for (const r of req.recipients ?? []) e.addRecipient(r);
  const ciphertext = await e.encrypt(req.input);
  let bytes = 0;
  const counted = ciphertext.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        bytes += chunk.byteLength;
        c.enqueue(chunk);
      },
    }),
  );
  // autoClose false: the caller fsyncs and closes the descriptor it opened.
  await counted.pipeTo(Writable.toWeb(createWriteStream('', { fd: req.outFd, autoClose: false })));
  return { ok: true, op: 'encrypt', bytes };
}

async function decrypt(req: Extract<AgeRequest, { op: 'decrypt' }>): Promise<AgeReply> {
  const d = new Decrypter();
  d.addPassphrase(req.passphrase);
  const source = Readable.toWeb(createReadStream(req.file)) as ReadableStream<Uint8Array>;
  // Resolves once the header is read and the passphrase opened it; chunks are checked as they flow.
  const plaintext = await d.decrypt(source);
  return { ok: true, op: 'decrypt', plaintext };
}

/** age's own messages name the failure (bad header, wrong passphrase, work factor) and hold no secret. */
function failure(err: unknown): AgeReply {
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, error: message, wrongKey: /no identity matched/i.test(message) };
}

parentPort?.on('message', (req: AgeRequest) => {
  const run = req.op === 'encrypt' ? encrypt(req) : decrypt(req);
  run.then(
    (reply) => {
      if (reply.ok && reply.op === 'decrypt') parentPort?.postMessage(reply, [reply.plaintext as never]);
      else parentPort?.postMessage(reply);
    },
    (err: unknown) => parentPort?.postMessage(failure(err)),
  );
});
