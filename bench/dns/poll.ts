// A resolver polling one name until it answers (NOERROR with an answer), about once a millisecond:
// hand-made A queries on one UDP socket (no cache, no retry logic in between).
import { createSocket } from 'node:dgram';

function query(id: number, name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4); // one question
  return Buffer.concat([head, qname, Buffer.from([0, 1, 0, 1])]); // A, IN
}

export class Poller {
  readonly #sock = createSocket('udp4');
  #id = 1;
  readonly #waiting = new Map<number, (answered: boolean) => void>();

  readonly address: string;
  readonly port: number;

  constructor(address: string, port: number) {
    this.address = address;
    this.port = port;
    this.#sock.on('message', (msg: Buffer) => {
      const id = msg.readUInt16BE(0);
      const rcode = msg.readUInt16BE(2) & 0xf;
      const answers = msg.readUInt16BE(6);
      this.#waiting.get(id)?.(rcode === 0 && answers > 0);
      this.#waiting.delete(id);
    });
  }

  #ask(name: string): Promise<boolean> {
    const id = this.#id++ & 0xffff || 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(false);
      }, 500);
      this.#waiting.set(id, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
      this.#sock.send(query(id, name), this.port, this.address);
    });
  }

  /** Resolves with process.hrtime.bigint() of the first answer for `name`; rejects after timeoutMs. */
  async until(name: string, timeoutMs = 10_000): Promise<bigint> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.#ask(name)) return process.hrtime.bigint();
      if (Date.now() > deadline) throw new Error(`${name} never answered`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  close(): void {
    this.#sock.close();
  }
}
