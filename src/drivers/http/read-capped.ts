// A response body read up to a byte limit, for the drivers that fetch what an owner-named URL serves.
// `over: 'cut'` keeps the first `max` bytes (a DDNS reply: only its start is read); `'throw'` refuses
// the whole body, before reading when Content-Length announces more (a blocklist must be complete).

export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

export async function readCapped(res: Response, max: number, over: 'cut' | 'throw'): Promise<string> {
  return (await readCappedBytes(res, max, over)).toString('utf8');
}

/** The same, as bytes: a registry's digests are over the exact bytes, not a decoded string. */
export async function readCappedBytes(res: Response, max: number, over: 'cut' | 'throw'): Promise<Buffer> {
  if (over === 'throw' && Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel();
    throw new BodyTooLarge();
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      if (over === 'throw') throw new BodyTooLarge();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
