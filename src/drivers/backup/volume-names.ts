// Where a volume's file sits in an archive. Archive paths carry only [A-Za-z0-9._@+=,~-] (the restore
// refuses anything else before writing it, schema/backup.ts), and a volume's names are whatever its
// service wrote: spaces, accents, quotes. Rather than widen the pattern the hostile-archive checks
// rely on, each byte of a name's UTF-8 outside [A-Za-z0-9._@+=,-] is written as ~XX (upper-case hex),
// '~' itself included: one name, one encoding, reversible, and plain names stay as they are. The
// encoding never yields '~' followed by anything but two hex digits, so VOLUME_INDEX cannot clash.
import { type ServiceVolume, VOLUME_INDEX } from '../../schema/backup.ts';

const PLAIN = /^[A-Za-z0-9._@+=,-]$/;
/** Linux's NAME_MAX: a longer encoded segment could not be staged by the restore. */
const SEGMENT_MAX = 255;
/** archivePath's own limit. */
const PATH_MAX = 1024;

function encodeSegment(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && PLAIN.test(ch) ? ch : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // '.' and '..' are not archive segments; a name of dots alone is written with its first dot encoded.
  return out === '.' || out === '..' ? `~2E${out.slice(1)}` : out;
}

/** `a b/c` → `a~20b/c`; a path in the volume, relative, never empty. */
export function encodeVolumePath(rel: string): string {
  return rel.split('/').map(encodeSegment).join('/');
}

/** `volumes/<service>/<volume>/`: the volume's directory in an archive. */
export function volumeArchiveDir(v: Pick<ServiceVolume, 'service' | 'volume'>): string {
  return `volumes/${v.service}/${v.volume}`;
}

export function volumeIndexPath(v: Pick<ServiceVolume, 'service' | 'volume'>): string {
  return `${volumeArchiveDir(v)}/${VOLUME_INDEX}`;
}

/**
 * The archive path of a volume's file, or why it cannot have one: a segment too long to stage once
 * encoded, or a path over the archive's limit.
 */
export function volumeFilePath(
  v: Pick<ServiceVolume, 'service' | 'volume'>,
  rel: string,
): { path: string } | { refused: string } {
  const encoded = encodeVolumePath(rel);
  if (encoded.split('/').some((s) => s.length > SEGMENT_MAX))
    return { refused: 'a name too long once encoded for the archive' };
  const path = `${volumeArchiveDir(v)}/${encoded}`;
  if (path.length > PATH_MAX) return { refused: 'a path too long for the archive' };
  return { path };
}
