import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125150000_vault } from './Migration20261125150000_vault.js';
import { Migration20261125160000_cache_ref } from './Migration20261125160000_cache_ref.js';

/** Every vault migration, oldest first, listed explicitly (not globbed). */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261125150000_vault', class: Migration20261125150000_vault },
  { name: 'Migration20261125160000_cache_ref', class: Migration20261125160000_cache_ref },
];
