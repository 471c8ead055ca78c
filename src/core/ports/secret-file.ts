// One secret kept in a file of its own under the secrets directory (0600, written atomically); the
// value is read when needed and never logged, put in argv, an error or an audit row.

export interface SecretFile {
  read(): string | undefined;
  write(value: string): void;
  remove(): void;
}
