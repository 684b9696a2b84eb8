import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN = process.env.MEDGRID_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway PostgreSQL database on the local server; drop() removes it. */
export class ThrowawayDb {
  readonly name = `medgrid_worker_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  readonly url: string;

  constructor() {
    const u = new URL(ADMIN);
    u.pathname = `/${this.name}`;
    this.url = u.href;
  }

  private async admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: ADMIN });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  async create(): Promise<this> {
    await this.admin((c) => c.query(`create database "${this.name}"`));
    return this;
  }

  async drop(): Promise<void> {
    await this.admin((c) => c.query(`drop database if exists "${this.name}" with (force)`));
  }
}
