import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, REPO_ROOT } from '../config/config.js';
import { migrateUp, openOrm } from './orm.js';

const MIGRATIONS_SRC = path.join(REPO_ROOT, 'packages/server/src/migrations');

function requireUrl(): string {
  const { databaseUrl } = loadConfig();
  if (!databaseUrl) throw new Error('set DATABASE_URL for database commands');
  return databaseUrl;
}

/** SQL that would bring the database in line with the entities; empty when migrations cover them. */
export async function pendingSchemaDiff(url: string): Promise<string> {
  const orm = await openOrm(url);
  try {
    return (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim();
  } finally {
    await orm.close(true);
  }
}

export async function dbCommand(args: string[]): Promise<void> {
  const [sub, name] = args;
  switch (sub) {
    case 'migrate': {
      const orm = await openOrm(requireUrl());
      try {
        const done = await migrateUp(orm);
        process.stdout.write(done.length ? `applied: ${done.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await orm.close(true);
      }
      return;
    }
    case 'check': {
      // Fails when an entity changed without a migration: run after `migrate` on a fresh database.
      const diff = await pendingSchemaDiff(requireUrl());
      if (diff) {
        process.stderr.write(
          `medgrid: entities differ from the migrated schema; create a migration:\n${diff}\n`,
        );
        process.exit(1);
      }
      process.stdout.write('schema matches the entities\n');
      return;
    }
    case 'migration-create': {
      // Developer tool: diff entities against a database migrated to the latest version.
      const orm = await openOrm(requireUrl());
      try {
        await migrateUp(orm);
        const res = await orm.migrator.create(MIGRATIONS_SRC, false, false, name);
        if (!res.fileName) {
          process.stdout.write('no schema changes\n');
          return;
        }
        const cls = res.fileName.replace(/\.ts$/, '');
        const indexFile = path.join(MIGRATIONS_SRC, 'index.ts');
        let index = readFileSync(indexFile, 'utf8');
        index = index.replace(
          /(import type \{ MigrationObject \} from '@mikro-orm\/core';\n)/,
          `$1import { ${cls} } from './${cls}.js';\n`,
        );
        index = index.replace(/\[([^\]]*)\];\s*$/, (_m, list: string) => {
          const items = list.trim() ? `${list.trim().replace(/,$/, '')},\n  ` : '\n  ';
          return `[${items}{ name: '${cls}', class: ${cls} },\n];\n`;
        });
        writeFileSync(indexFile, index);
        process.stdout.write(`created ${path.join(MIGRATIONS_SRC, res.fileName)}\n`);
      } finally {
        await orm.close(true);
      }
      return;
    }
    default:
      throw new Error('usage: medgrid db migrate | check | migration-create [name]');
  }
}
