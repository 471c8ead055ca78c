// First-run state as core needs it; the SQLite SetupStore implements it.

export interface SetupState {
  token_hash: string | null;
  token_created_at: string | null;
  completed_at: string | null;
}

export interface SetupRepository {
  get(): SetupState;
  setTokenHash(hash: string): void;
  /** Marks setup complete and forgets the token. */
  markCompleted(): void;
  /** The store services the owner asked for in the wizard, installed once the store exists. */
  setRequestedServices(services: readonly string[]): void;
  /** What setRequestedServices stored (none before setup). */
  requestedServices(): string[];
}
