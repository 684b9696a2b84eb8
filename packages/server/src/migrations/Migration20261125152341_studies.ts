import { Migration } from '@mikro-orm/migrations';

export class Migration20261125152341_studies extends Migration {
  override name = 'Migration20261125152341_studies';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "study_grant" ("id" uuid not null, "study_id" uuid not null, "user_id" uuid not null, "share_id" uuid not null, "with_identity" boolean not null, "created_at" timestamptz not null default now(), "revoked_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "study_grant_study_id_index" on "study_grant" ("study_id");`);
    this.addSql(`create index "study_grant_user_id_index" on "study_grant" ("user_id");`);
    this.addSql(`create index "study_grant_share_id_index" on "study_grant" ("share_id");`);
    this.addSql(
      `alter table "study_grant" add constraint "study_grant_share_id_user_id_unique" unique ("share_id", "user_id");`,
    );

    this.addSql(
      `create table "study_instance" ("id" uuid not null, "study_id" uuid not null, "series_id" uuid not null, "sop_instance_uid" varchar(64) not null, "sop_class_uid" varchar(64) not null, "instance_number" int null, "transfer_syntax_uid" varchar(64) not null, "rows" int null, "columns" int null, "number_of_frames" int null, "size" bigint not null, "object_sha256" varchar(64) not null, "original_sha256" varchar(64) null, "original_size" bigint null, "identity_sealed" bytea null, "storage_state" varchar(16) not null default 'spooled', "created_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "study_instance_study_id_index" on "study_instance" ("study_id");`);
    this.addSql(`create index "study_instance_series_id_index" on "study_instance" ("series_id");`);
    this.addSql(
      `create index "study_instance_sop_instance_uid_index" on "study_instance" ("sop_instance_uid");`,
    );
    this.addSql(`create index "study_instance_object_sha256_index" on "study_instance" ("object_sha256");`);
    this.addSql(
      `alter table "study_instance" add constraint "study_instance_study_id_sop_instance_uid_unique" unique ("study_id", "sop_instance_uid");`,
    );

    this.addSql(
      `create table "study_series" ("id" uuid not null, "study_id" uuid not null, "series_uid" varchar(64) not null, "modality" varchar(16) null, "series_number" int null, "description" varchar(128) null, "instance_count" int not null default 0, "total_bytes" bigint not null default '0', "created_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "study_series_study_id_index" on "study_series" ("study_id");`);
    this.addSql(`create index "study_series_series_uid_index" on "study_series" ("series_uid");`);
    this.addSql(
      `alter table "study_series" add constraint "study_series_study_id_series_uid_unique" unique ("study_id", "series_uid");`,
    );

    this.addSql(
      `create table "study_share" ("id" uuid not null, "study_id" uuid not null, "kind" text not null, "with_identity" boolean not null, "created_by" uuid not null, "created_at" timestamptz not null default now(), "grantee_user_id" uuid null, "token_hash" varchar(64) null, "expires_at" timestamptz null, "max_uses" int null, "uses" int not null default 0, "revoked_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "study_share_study_id_index" on "study_share" ("study_id");`);
    this.addSql(`create index "study_share_grantee_user_id_index" on "study_share" ("grantee_user_id");`);
    this.addSql(
      `alter table "study_share" add constraint "study_share_token_hash_unique" unique ("token_hash");`,
    );

    this.addSql(
      `create table "study" ("id" uuid not null, "study_uid" varchar(64) not null, "owner_id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, "modalities" varchar(64) not null default '', "study_date" varchar(8) null, "description" varchar(128) null, "series_count" int not null default 0, "instance_count" int not null default 0, "total_bytes" bigint not null default '0', "has_identity" boolean not null default false, "kek_id" varchar(16) null, "wrapped_key" bytea null, "phi_sealed" bytea null, primary key ("id"));`,
    );
    this.addSql(`create index "study_study_uid_index" on "study" ("study_uid");`);
    this.addSql(`create index "study_owner_id_index" on "study" ("owner_id");`);
    this.addSql(`create index "study_created_at_index" on "study" ("created_at");`);
    this.addSql(`create index "study_deleted_at_index" on "study" ("deleted_at");`);
    this.addSql(`create index "study_modalities_index" on "study" ("modalities");`);
    this.addSql(`create index "study_study_date_index" on "study" ("study_date");`);
    this.addSql(`create index "study_owner_id_created_at_index" on "study" ("owner_id", "created_at");`);
    this.addSql(
      `alter table "study" add constraint "study_owner_id_study_uid_unique" unique ("owner_id", "study_uid");`,
    );

    this.addSql(
      `create table "study_blind_index" ("id" bigserial primary key, "study_id" uuid not null, "kind" varchar(8) not null, "digest" varchar(32) not null);`,
    );
    this.addSql(`create index "study_blind_index_study_id_index" on "study_blind_index" ("study_id");`);
    this.addSql(
      `create index "study_blind_index_kind_digest_index" on "study_blind_index" ("kind", "digest");`,
    );
    this.addSql(
      `alter table "study_blind_index" add constraint "study_blind_index_study_id_kind_digest_unique" unique ("study_id", "kind", "digest");`,
    );

    this.addSql(
      `alter table "study_share" add constraint "study_share_kind_check" check ("kind" in ('user', 'link', 'patient'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "study_grant" cascade;`);
    this.addSql(`drop table if exists "study_instance" cascade;`);
    this.addSql(`drop table if exists "study_series" cascade;`);
    this.addSql(`drop table if exists "study_share" cascade;`);
    this.addSql(`drop table if exists "study" cascade;`);
    this.addSql(`drop table if exists "study_blind_index" cascade;`);
  }
}
