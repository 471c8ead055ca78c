// The stored configuration: `current` is what the owner asked for, `applied` what the data plane runs.
// Values are stored as given; ConfigService validates them on the way in and out.

export interface ConfigRepository {
  load(): { current: unknown; applied: unknown } | undefined;
  save(current: unknown, applied: unknown): void;
}
