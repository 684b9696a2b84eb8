import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { graphqlSchemaSdl } from './schema-sdl.js';

test('schema.graphql is the API the server serves (clients validate their documents against it)', async () => {
  const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
  const actual = await graphqlSchemaSdl();
  assert.ok(
    committed === actual,
    'packages/server/schema.graphql is stale: run `pnpm --filter @medgrid/server run schema` after building and commit it',
  );
});
