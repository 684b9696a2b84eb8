import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125143410_initial } from './Migration20261125143410_initial.js';

/**
 * Every migration, oldest first. Listed explicitly (not globbed) so the compiled server carries
 * exactly these; `medgrid db migration-create` appends new ones here.
 */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261125143410_initial', class: Migration20261125143410_initial },
];
