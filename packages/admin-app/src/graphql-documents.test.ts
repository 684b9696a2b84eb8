import sdl from '@medgrid/server/schema.graphql?raw';
import { documentCount, documentProblems } from '@medgrid/web-common/test-support';
import { expect, it } from 'vitest';

// The server's committed schema; its own test keeps it equal to what the server serves.
const modules = import.meta.glob(['./**/*.documents.ts', './**/*.query.ts'], { eager: true });

it('every GraphQL document of the app is valid against the server schema', () => {
  expect(documentCount(modules)).toBeGreaterThan(0);
  expect(documentProblems(sdl, modules)).toEqual([]);
});
