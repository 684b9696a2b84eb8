import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { migrationsList } from '../migrations/index.js';

/** Every entity the server's database holds; the migrations must describe exactly these. */
export const serverEntities = [AuditEvent];

export function ormConfig(databaseUrl: string, opts: { debug?: boolean; poolMax?: number } = {}) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: serverEntities,
    extensions: [Migrator],
    // Schema changes go through migrations only; never let the ORM sync the schema.
    ensureDatabase: false,
    allowGlobalContext: false,
    debug: opts.debug ?? false,
    pool: { min: 0, max: opts.poolMax ?? 10 },
    migrations: {
      migrationsList,
      tableName: 'mikro_orm_migrations',
      silent: true,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      path: 'src/migrations',
    },
  });
}
