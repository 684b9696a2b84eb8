import { Migration } from '@mikro-orm/migrations';

export class Migration20261125160000_cache_ref extends Migration {
  override name = 'Migration20261125160000_cache_ref';

  override up(): void | Promise<void> {
    this.addSql(`alter table "vault_instance" add column "cache_ref" varchar(128) null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "vault_instance" drop column "cache_ref";`);
  }
}
