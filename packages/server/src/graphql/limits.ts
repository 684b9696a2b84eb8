import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export const MAX_DEPTH = 16;
export const MAX_COMPLEXITY = 20_000;
/** What a `first` given as a variable (unknown at validation) counts as: the largest page. */
const VARIABLE_PAGE = 100;
const DEFAULT_PAGE = 50;

/**
 * Query depth and complexity limits (a validation rule). Depth counts nested selection sets. Complexity is
 * the number of fields, each multiplied by the page sizes (`first`) of the connections above it, so
 * `studies(first: 100) { edges { node { series { … } } } }` costs 100 per field inside.
 */
export function queryLimits(maxDepth = MAX_DEPTH, maxComplexity = MAX_COMPLEXITY) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    }
    const walk = (
      set: SelectionSetNode,
      depth: number,
      weight: number,
      seen: Set<string>,
    ): { depth: number; cost: number } => {
      let deepest = depth;
      let cost = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          cost += weight;
          if (sel.selectionSet) {
            const first = sel.arguments?.find((a) => a.name.value === 'first');
            const page = !first
              ? sel.name.value === 'studies'
                ? DEFAULT_PAGE
                : 1
              : first.value.kind === Kind.INT
                ? Number(first.value.value)
                : first.value.kind === Kind.VARIABLE
                  ? VARIABLE_PAGE
                  : DEFAULT_PAGE;
            const r = walk(sel.selectionSet, depth + 1, weight * Math.max(1, page), seen);
            deepest = Math.max(deepest, r.depth);
            cost += r.cost;
          }
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const r = walk(sel.selectionSet, depth, weight, seen);
          deepest = Math.max(deepest, r.depth);
          cost += r.cost;
        } else {
          const f = fragments.get(sel.name.value);
          if (!f || seen.has(f.name.value)) continue; // cycles are reported by NoFragmentCycles
          const r = walk(f.selectionSet, depth, weight, new Set([...seen, f.name.value]));
          deepest = Math.max(deepest, r.depth);
          cost += r.cost;
        }
      }
      return { depth: deepest, cost };
    };
    return {
      OperationDefinition(op) {
        const { depth, cost } = walk(op.selectionSet, 1, 1, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`query is too deep: ${depth} levels, at most ${maxDepth}`, {
              nodes: [op],
              extensions: { code: 'QUERY_TOO_COMPLEX' },
            }),
          );
        } else if (cost > maxComplexity) {
          context.reportError(
            new GraphQLError(`query is too complex: cost ${cost}, at most ${maxComplexity}`, {
              nodes: [op],
              extensions: { code: 'QUERY_TOO_COMPLEX' },
            }),
          );
        }
      },
    };
  };
}
