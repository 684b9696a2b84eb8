import { type ClassType, Field, ObjectType } from 'type-graphql';

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** Relay connection type `<name>Connection` with `<name>Edge` (first/after, at most 100 per page). */
export function Connection<T extends object>(Node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => Node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Conn implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return Conn;
}

/** Builds a connection from a page of items whose cursor is their (time-ordered) id. */
export function toConnection<E extends { id: string }, T>(
  page: { items: E[]; hasNextPage: boolean },
  map: (e: E) => T,
): ConnectionShape<T> {
  const edges = page.items.map((e) => ({ cursor: e.id, node: map(e) }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
