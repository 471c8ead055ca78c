// Accounts as core needs them; the SQLite UsersStore implements it.
import type { Role, TotpRow, UserRow } from '../../schema/users.ts';

export interface UsersRepository {
  byUsername(username: string): UserRow | undefined;
  byId(id: number): UserRow | undefined;
  /** Returns the new user's id. */
  insert(username: string, role: Role, passwordHash: string): number;
  setPassword(id: number, passwordHash: string): void;
  /** Deleting a user deletes their sessions too. */
  delete(username: string): void;
  count(role?: Role): number;

  /** The user's two-factor state; undefined when it was never set up. */
  totp(userId: number): TotpRow | undefined;
  /** Stores a secret from setup, not yet in use; replaces a pending one, leaves an active one alone. */
  setPendingTotp(userId: number, secret: string): void;
  /**
   * In one transaction: the pending secret becomes the active one, `step` (the step of the code that
   * confirmed it) the last accepted step, and `recoveryHashes` the user's only recovery codes.
   */
  enableTotp(userId: number, secret: string, step: number, recoveryHashes: readonly string[]): void;
  /** Deletes the secrets and recovery codes; returns whether two-factor was on. */
  disableTotp(userId: number): boolean;
  /**
   * Records `step` as the last accepted one only if it is later than the stored one, atomically:
   * false means this step (or a later one) was already used — a replay.
   */
  acceptTotpStep(userId: number, step: number): boolean;
  /** Marks an unused recovery code as used; false when the user has no such unused code. */
  spendRecoveryCode(userId: number, codeHash: string): boolean;
  /** Unused recovery codes the user has left. */
  recoveryCodesLeft(userId: number): number;
}
