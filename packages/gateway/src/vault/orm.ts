import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM } from '@mikro-orm/postgresql';
import { migrationsList } from '../migrations/index.js';
import { VaultInstance } from './vault-instance.entity.js';

/** Every entity of the vault; the migrations must describe exactly these. */
export const vaultEntities = [VaultInstance];

export function vaultOrmConfig(databaseUrl: string, list = migrationsList) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: vaultEntities,
    extensions: [Migrator],
    ensureDatabase: false,
    allowGlobalContext: false,
    pool: { min: 0, max: 8 },
    migrations: {
      migrationsList: list,
      tableName: 'gateway_migrations',
      silent: true,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      path: 'src/migrations',
    },
  });
}

export class VaultUnavailableError extends Error {
  readonly code = 'VAULT_UNAVAILABLE';
}

/** Opens the vault and applies the gateway's own migrations. The URL (with its password) is never echoed. */
export async function openVault(url: string): Promise<MikroORM> {
  let orm: MikroORM;
  try {
    orm = await MikroORM.init(vaultOrmConfig(url));
    await orm.em.fork().getConnection().execute('select 1');
  } catch (err) {
    const reason =
      (err as Error).message.split('\n')[0]?.replaceAll(url, '[DATABASE_URL]') ?? 'unknown error';
    throw new VaultUnavailableError(`cannot open the vault database: ${reason}`);
  }
  await orm.migrator.up();
  return orm;
}
