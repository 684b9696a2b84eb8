import { Migration } from '@mikro-orm/migrations';

export class Migration20261125143410_initial extends Migration {
  override name = 'Migration20261125143410_initial';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "audit_event" ("id" bigserial primary key, "at" timestamptz not null default now(), "actor" varchar(512) null, "action" varchar(128) not null, "target" varchar(512) null, "ip" varchar(64) null, "details" jsonb null);`,
    );
    this.addSql(`create index "audit_event_at_index" on "audit_event" ("at");`);
    this.addSql(`create index "audit_event_actor_index" on "audit_event" ("actor");`);
    this.addSql(`create index "audit_event_action_index" on "audit_event" ("action");`);
    this.addSql(`create index "audit_event_target_index" on "audit_event" ("target");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_event" cascade;`);
  }
}
