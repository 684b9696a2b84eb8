export interface ChallengeRecord {
  id: string;
  /** 32 random bytes. */
  nonce: Buffer;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * Persistence for outstanding challenges. `take` must be atomic (single use even with concurrent requests):
 * in SQL, `DELETE FROM challenge WHERE id = $1 RETURNING *`.
 */
export interface ChallengeStore {
  save(record: ChallengeRecord): Promise<void>;
  /** Removes and returns the record, or undefined if unknown or already taken. */
  take(id: string): Promise<ChallengeRecord | undefined>;
  /** Deletes records with expiresAt <= now; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}
