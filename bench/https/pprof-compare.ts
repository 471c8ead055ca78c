// Compares two Go CPU profiles per request, so a profile of Caddy is read without Go's toolchain
// (this machine has none): `BENCH_PPROF=DIR npm run bench:https` writes DIR/<server>.cpu.pb.gz (10 s of
// Caddy's own /debug/pprof/profile under load) and DIR/<server>.requests (how many requests the load
// made meanwhile); then `node bench/https/pprof-compare.ts DIR/bare DIR/cell [rows]` prints, per
// function, the CPU µs per request each spent in it and below it (cumulative), largest difference
// first. A profile is gzip'd protobuf (github.com/google/pprof, proto/profile.proto): only the
// fields read here are decoded.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

type Value = bigint | Buffer;
type Message = Map<number, Value[]>;

/** One protobuf message: field number → its values (varints as bigint, length-delimited as Buffer). */
function decode(buf: Buffer): Message {
  const out: Message = new Map();
  let i = 0;
  const varint = () => {
    let r = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[i++]!;
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    let v: Value;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const n = Number(varint());
      v = buf.subarray(i, i + n);
      i += n;
    } else if (wire === 1) {
      v = buf.readBigUInt64LE(i);
      i += 8;
    } else if (wire === 5) {
      v = BigInt(buf.readUInt32LE(i));
      i += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    const list = out.get(key >> 3) ?? [];
    list.push(v);
    out.set(key >> 3, list);
  }
  return out;
}

/** A repeated integer field, packed (one Buffer of varints) or not. */
function ints(values: Value[] | undefined): bigint[] {
  return (values ?? []).flatMap((v) => (typeof v === 'bigint' ? [v] : packed(v)));
}

function packed(buf: Buffer): bigint[] {
  const out: bigint[] = [];
  let i = 0;
  while (i < buf.length) {
    let r = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[i++]!;
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    out.push(r);
  }
  return out;
}

/** CPU µs per request, cumulative, per function (each function counted once per sample). */
function perRequest(prefix: string): Map<string, number> {
  const p = decode(gunzipSync(readFileSync(`${prefix}.cpu.pb.gz`)));
  const requests = Number(readFileSync(`${prefix}.requests`, 'utf8'));
  const strings = (p.get(6) ?? []).map((b) => (b as Buffer).toString('utf8'));
  const functions = new Map<bigint, string>();
  for (const f of p.get(5) ?? []) {
    const m = decode(f as Buffer);
    functions.set(m.get(1)![0] as bigint, strings[Number(m.get(2)?.[0] ?? 0n)] ?? '?');
  }
  const locations = new Map<bigint, string[]>();
  for (const l of p.get(4) ?? []) {
    const m = decode(l as Buffer);
    const names = (m.get(4) ?? []).map((line) => functions.get(decode(line as Buffer).get(1)![0] as bigint)!);
    locations.set(m.get(1)![0] as bigint, names);
  }
  const cum = new Map<string, number>();
  for (const s of p.get(2) ?? []) {
    const m = decode(s as Buffer);
    const values = ints(m.get(2));
    const ns = Number(values[values.length - 1]); // the last sample type is CPU nanoseconds
    const stack = new Set(ints(m.get(1)).flatMap((id) => locations.get(id) ?? []));
    for (const fn of ['(total)', ...stack]) cum.set(fn, (cum.get(fn) ?? 0) + ns / 1000 / requests);
  }
  return cum;
}

const [a, b, rowsArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: pprof-compare.ts DIR/bare DIR/cell [rows]');
const [ref, cell] = [perRequest(a), perRequest(b)];
const short = (fn: string) => fn.replace('github.com/caddyserver/caddy/v2/', '');
console.log(
  `CPU µs per request: ${a} ${ref.get('(total)')!.toFixed(1)}, ${b} ${cell.get('(total)')!.toFixed(1)}`,
);
console.log('| difference | second | first | function (cumulative) |\n|---:|---:|---:|---|');
const names = [...new Set([...ref.keys(), ...cell.keys()])].filter((n) => n !== '(total)');
const rows = names
  .map((n) => ({ n, d: (cell.get(n) ?? 0) - (ref.get(n) ?? 0) }))
  .sort((x, y) => Math.abs(y.d) - Math.abs(x.d))
  .slice(0, Number(rowsArg ?? 40));
for (const { n, d } of rows)
  console.log(
    `| ${d >= 0 ? '+' : ''}${d.toFixed(2)} | ${(cell.get(n) ?? 0).toFixed(2)} | ${(ref.get(n) ?? 0).toFixed(2)} | ${short(n)} |`,
  );
