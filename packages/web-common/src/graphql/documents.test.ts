import sdl from '@medgrid/server/schema.graphql?raw';
import { gql } from '@urql/core';
import { describe, expect, it } from 'vitest';
import { documentCount, documentProblems } from '../test-support/documents.js';

const modules = import.meta.glob(['../**/*.documents.ts', '../**/*.query.ts'], { eager: true });

describe('GraphQL documents', () => {
  it('every document web-common sends is valid against the server schema', () => {
    expect(documentCount(modules)).toBeGreaterThan(3);
    expect(documentProblems(sdl, modules)).toEqual([]);
  });

  it('a document asking for a field the server lacks is reported with its file and name', () => {
    const Broken = gql`
      query Broken {
        me {
          userId
          shoeSize
        }
      }
    `;
    const problems = documentProblems(sdl, { 'broken.documents.ts': { Broken } });
    expect(problems).toEqual([
      expect.stringContaining('broken.documents.ts Broken: Cannot query field "shoeSize"'),
    ]);
  });
});
