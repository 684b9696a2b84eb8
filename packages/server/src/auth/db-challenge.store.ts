import type { MikroORM } from '@mikro-orm/postgresql';
import type { ChallengeRecord, ChallengeStore } from '../identity/challenge/index.js';

/** Challenges in PostgreSQL (shared by all server processes); `take` is one atomic DELETE … RETURNING. */
export class DbChallengeStore implements ChallengeStore {
  constructor(private readonly orm: MikroORM) {}

  async save(r: ChallengeRecord): Promise<void> {
    await this.orm.em
      .fork()
      .getConnection()
      .execute('insert into auth_challenge (id, nonce, created_at, expires_at) values (?, ?, ?, ?)', [
        r.id,
        r.nonce,
        r.createdAt,
        r.expiresAt,
      ]);
  }

  async take(id: string): Promise<ChallengeRecord | undefined> {
    const rows = (await this.orm.em
      .fork()
      .getConnection()
      .execute(
        'delete from auth_challenge where id = ? returning id, nonce, created_at, expires_at',
        [id],
        'all',
      )) as {
      id: string;
      nonce: Buffer;
      created_at: Date | string;
      expires_at: Date | string;
    }[];
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      nonce: Buffer.from(row.nonce),
      createdAt: new Date(row.created_at),
      expiresAt: new Date(row.expires_at),
    };
  }

  async purgeExpired(now: Date): Promise<number> {
    const res = (await this.orm.em
      .fork()
      .getConnection()
      .execute('delete from auth_challenge where expires_at <= ?', [now], 'run')) as {
      affectedRows?: number;
    };
    return res.affectedRows ?? 0;
  }
}
