import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MikroORM } from '@mikro-orm/postgresql';
import { migrationsList } from '../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { pendingSchemaDiff } from './db.command.js';
import { ormConfig } from './orm.config.js';
import { migrateUp, openOrm } from './orm.js';

describe('migrations', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  test('the migrations describe every entity exactly (an entity change without a migration fails here)', async () => {
    const orm = await openOrm(db.url);
    const applied = await migrateUp(orm);
    await orm.close(true);
    assert.equal(applied.length, migrationsList.length);
    assert.equal(
      await pendingSchemaDiff(db.url),
      '',
      'entities changed without a migration: run `medgrid db migration-create`',
    );
  });

  test('running the migrations again is a no-op', async () => {
    const orm = await openOrm(db.url);
    assert.deepEqual(await migrateUp(orm), []);
    await orm.close(true);
  });

  test('leaving out the newest migration is detected as a schema difference', async () => {
    const scratch = await createTestDatabase('medgrid_test_missing');
    try {
      const base = ormConfig(scratch.url);
      const orm = await MikroORM.init({
        ...base,
        migrations: { ...base.migrations, migrationsList: migrationsList.slice(0, -1) },
      });
      await orm.migrator.up();
      const diff = (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim();
      await orm.close(true);
      assert.notEqual(diff, '');
    } finally {
      await scratch.drop();
    }
  });
});
