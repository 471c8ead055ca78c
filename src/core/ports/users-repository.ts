// Accounts as core needs them; the SQLite UsersStore implements it.
import type { Role, UserRow } from '../../schema/users.ts';

export interface UsersRepository {
  byUsername(username: string): UserRow | undefined;
  byId(id: number): UserRow | undefined;
  /** Returns the new user's id. */
  insert(username: string, role: Role, passwordHash: string): number;
  setPassword(id: number, passwordHash: string): void;
  /** Deleting a user deletes their sessions too. */
  delete(username: string): void;
  count(role?: Role): number;
}
