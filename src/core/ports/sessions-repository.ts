// Server-side sessions as core needs them; the SQLite SessionsStore implements it.
import type { SessionRow, SessionWithUser } from '../../schema/users.ts';

export interface SessionsRepository {
  insert(row: SessionRow): void;
  get(idHash: string): SessionWithUser | undefined;
  touch(idHash: string, now: number): void;
  delete(idHash: string): void;
  /** Returns how many sessions ended. */
  deleteForUser(userId: number): number;
  /** Ends sessions past their lifetime or idle longer than idleMs; returns how many. */
  deleteExpired(now: number, idleMs: number): number;
}
