// What the file browser (core/files) needs of the files service's volume: safe operations inside one
// account's folder. The driver walks every path itself (no symlink followed, none created), writes
// through a temp file and a rename, and gives what it creates to the owner the service writes as.
import type { Readable } from 'node:stream';
import type { FileEntry } from '../../schema/files.ts';

/** A path inside the account's folder, and the request field it came from (named in errors). */
export interface FilesTarget {
  segments: readonly string[];
  field: string;
}

/** Bytes an upload may still write; take(n) false refuses the next n (over quota). */
export interface UploadBudget {
  take(n: number): boolean;
}

export interface FilesVolumePort {
  /** Whether the account's folder exists (made by the service's account hook). */
  hasFolder(account: string): Promise<boolean>;
  list(account: string, folder: FilesTarget): Promise<FileEntry[]>;
  stat(account: string, target: FilesTarget): Promise<FileEntry>;
  openRead(account: string, file: FilesTarget): Promise<{ stream: Readable; size: number; name: string }>;
  /** Streams body into the file (temp file, then rename); refuses past the budget. */
  write(
    account: string,
    file: FilesTarget,
    body: Readable,
    opts: { overwrite: boolean; budget: UploadBudget },
  ): Promise<FileEntry>;
  mkdir(account: string, folder: FilesTarget): Promise<FileEntry>;
  move(account: string, from: FilesTarget, to: FilesTarget): Promise<FileEntry>;
  remove(account: string, target: FilesTarget, recursive: boolean): Promise<void>;
  /** Sum of the sizes of the regular files in the account's folder (the service's quota scan counts the same). */
  usage(account: string): Promise<number>;
  /** The quota the service's settings hook last wrote (settings.json), or undefined. */
  quotaMb(): Promise<number | undefined>;
}
