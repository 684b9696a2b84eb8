import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The server's release version, as published by the GraphQL `version` query and /healthz. */
export const VERSION: string = pkg.version;
