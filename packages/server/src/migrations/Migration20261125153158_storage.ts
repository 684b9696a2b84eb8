import { Migration } from '@mikro-orm/migrations';

export class Migration20261125153158_storage extends Migration {
  override name = 'Migration20261125153158_storage';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "storage_element" ("id" serial primary key, "name" varchar(255) not null, "url" text not null, "status" text not null default 'up', "weight" int not null default 1, "quota_bytes" bigint null, "used_bytes" bigint not null default '0', "credentials" jsonb null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(
      `alter table "storage_element" add constraint "storage_element_name_unique" unique ("name");`,
    );

    this.addSql(
      `create table "storage_object" ("id" varchar(64) not null, "size" bigint not null, "adler32" varchar(8) not null, "copies" int not null default 2, "spool_path" text null, "delete_requested" boolean not null default false, "created_at" timestamptz not null, primary key ("id"));`,
    );

    this.addSql(
      `create table "storage_replica" ("id" serial primary key, "object_id" varchar(64) not null, "se_id" int not null, "path" text not null, "size" bigint not null, "adler32" varchar(8) not null, "sha256" varchar(64) not null, "state" text not null default 'ok', "verified_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null);`,
    );
    this.addSql(`create index "storage_replica_se_id_state_index" on "storage_replica" ("se_id", "state");`);
    this.addSql(
      `alter table "storage_replica" add constraint "storage_replica_object_id_se_id_unique" unique ("object_id", "se_id");`,
    );

    this.addSql(
      `alter table "storage_element" add constraint "storage_element_status_check" check ("status" in ('up', 'down', 'read-only', 'draining', 'lost'));`,
    );

    this.addSql(
      `alter table "storage_replica" add constraint "storage_replica_object_id_foreign" foreign key ("object_id") references "storage_object" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "storage_replica" add constraint "storage_replica_se_id_foreign" foreign key ("se_id") references "storage_element" ("id");`,
    );
    this.addSql(
      `alter table "storage_replica" add constraint "storage_replica_state_check" check ("state" in ('ok', 'bad', 'missing', 'lost'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "storage_replica" drop constraint "storage_replica_se_id_foreign";`);
    this.addSql(`alter table "storage_replica" drop constraint "storage_replica_object_id_foreign";`);

    this.addSql(`drop table if exists "storage_element" cascade;`);
    this.addSql(`drop table if exists "storage_object" cascade;`);
    this.addSql(`drop table if exists "storage_replica" cascade;`);
  }
}
