import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from './orm.config.js';

/** A database problem told in one line, without the password from the URL. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
}

export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

/** Opens the ORM and proves the connection works, so a bad URL fails at start-up, not on first use. */
export async function openOrm(url: string, opts: { poolMax?: number } = {}): Promise<MikroORM> {
  let orm: MikroORM;
  try {
    orm = await MikroORM.init(ormConfig(url, opts));
    await orm.em.fork().getConnection().execute('select 1');
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0]?.replace(url, '[DATABASE_URL]') ?? 'unknown error';
    throw new DatabaseUnavailableError(`cannot use the database at ${describeDatabase(url)}: ${reason}`);
  }
  return orm;
}

export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const done = await orm.migrator.up();
  return done.map((m) => m.name);
}
