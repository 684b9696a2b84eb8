import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125143410_initial } from './Migration20261125143410_initial.js';
import { Migration20261125145026_identity } from './Migration20261125145026_identity.js';
import { Migration20261125152341_studies } from './Migration20261125152341_studies.js';
import { Migration20261125153158_storage } from './Migration20261125153158_storage.js';
import { Migration20261203114443_instance_geometry } from './Migration20261203114443_instance_geometry.js';

/**
 * Every migration, oldest first. Listed explicitly (not globbed) so the compiled server carries
 * exactly these; `medgrid db migration-create` appends new ones here.
 */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261125143410_initial', class: Migration20261125143410_initial },
  { name: 'Migration20261125145026_identity', class: Migration20261125145026_identity },
  { name: 'Migration20261125152341_studies', class: Migration20261125152341_studies },
  { name: 'Migration20261125153158_storage', class: Migration20261125153158_storage },
  { name: 'Migration20261203114443_instance_geometry', class: Migration20261203114443_instance_geometry },
];
