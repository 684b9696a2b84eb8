import { buildSchema, type DocumentNode, type GraphQLSchema, validate } from 'graphql';

function isDocument(x: unknown): x is DocumentNode {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Document';
}

/**
 * Every GraphQL document exported by `modules` (as from `import.meta.glob(..., { eager: true })`) checked against
 * the server's schema SDL (`@medgrid/server/schema.graphql`). Each app asserts this gives `[]`, so a hand-typed
 * document that asks for a field or argument the server does not have fails in the app's tests, not in a browser.
 */
export function documentProblems(sdl: string, modules: Record<string, unknown>): string[] {
  const schema: GraphQLSchema = buildSchema(sdl);
  const problems: string[] = [];
  for (const [file, exports] of Object.entries(modules)) {
    for (const [name, value] of Object.entries(exports as Record<string, unknown>)) {
      if (!isDocument(value)) continue;
      for (const error of validate(schema, value)) problems.push(`${file} ${name}: ${error.message}`);
    }
  }
  return problems;
}

/** How many documents `modules` export: a guard against a glob that silently matches nothing. */
export function documentCount(modules: Record<string, unknown>): number {
  return Object.values(modules)
    .flatMap((m) => Object.values(m as Record<string, unknown>))
    .filter(isDocument).length;
}
