// The tar headers of a backup's entries, as tar-stream's pack writes them (ustar; a pax header with
// `path=` for a name ustar cannot hold; sizes past 8 GiB in base-256), so that the archive writer can
// copy header, content and padding straight into the gzip blocks without a stream per entry.
// Every entry is a regular file, mode 0600, owner 0:0, time 0: what a file was is in the manifest.

export const BLOCK = 512;

/** Zeros that end an entry's content on a 512-byte boundary (a subarray of this), and the archive. */
export const ZEROS = Buffer.alloc(2 * BLOCK);

/** The header blocks of a file entry: one, or three and more with a pax `path` record. */
export function fileHeader(path: string, size: number): Buffer {
  const plain = ustar(path, size, '0');
  if (plain) return plain;
  const record = paxRecord('path', path);
  const pax = ustar('PaxHeader', record.length, 'x');
  const main = ustar('PaxHeader', size, '0');
  if (!pax || !main) throw new Error('unreachable: a short name fits ustar');
  return Buffer.concat([pax, record, ZEROS.subarray(0, padding(record.length)), main]);
}

/** Bytes of zeros after `size` bytes of content. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** `"<len> <key>=<value>\n"`, where len counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let digits = String(bytes).length;
  if (bytes + digits >= 10 ** digits) digits++;
  return Buffer.from(`${bytes + digits}${body}`);
}

/** One ustar block, or null when the name does not fit (100 bytes, or a 155-byte prefix at a `/`). */
function ustar(path: string, size: number, type: '0' | 'x'): Buffer | null {
  if (Buffer.byteLength(path) !== path.length) return null;
  let name = path;
  let prefix = '';
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return null;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (prefix.length > 155) return null;
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0, 'latin1');
  buf.write(octal(0o600, 6), 100, 'latin1');
  buf.write(octal(0, 6), 108, 'latin1');
  buf.write(octal(0, 6), 116, 'latin1');
  writeSize(buf, size, 124);
  buf.write(octal(0, 11), 136, 'latin1');
  buf.write(type, 156, 'latin1');
  buf.write('ustar\u000000', 257, 'latin1');
  buf.write(octal(0, 6), 329, 'latin1');
  buf.write(octal(0, 6), 337, 'latin1');
  if (prefix) buf.write(prefix, 345, 'latin1');
  buf.write(octal(checksum(buf), 6), 148, 'latin1');
  return buf;
}

function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')} `;
}

/** Octal in 11 digits up to 8 GiB − 1; beyond, GNU's base-256 (0x80, then big-endian bytes). */
function writeSize(buf: Buffer, size: number, at: number): void {
  if (size.toString(8).length <= 11) {
    buf.write(octal(size, 11), at, 'latin1');
    return;
  }
  buf[at] = 0x80;
  let n = size;
  for (let i = 11; i > 0; i--) {
    buf[at + i] = n % 256;
    n = Math.floor(n / 256);
  }
}

/** The header's byte sum with its checksum field counted as eight spaces. */
function checksum(buf: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += buf[i]!;
  for (let i = 156; i < BLOCK; i++) sum += buf[i]!;
  return sum;
}
