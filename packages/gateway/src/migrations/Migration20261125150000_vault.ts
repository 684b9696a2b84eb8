import { Migration } from '@mikro-orm/migrations';

export class Migration20261125150000_vault extends Migration {
  override name = 'Migration20261125150000_vault';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "vault_instance" ("sop_instance_uid" varchar(64) not null, "sop_class_uid" varchar(64) not null, "study_instance_uid" varchar(64) not null, "series_instance_uid" varchar(64) not null, "patient_id" text null, "patient_name" text null, "patient_birth_date" text null, "patient_sex" text null, "study_date" text null, "study_time" text null, "study_description" text null, "accession_number" text null, "study_id" text null, "referring_physician_name" text null, "modality" text null, "series_number" text null, "series_description" text null, "instance_number" text null, "transfer_syntax_uid" varchar(64) not null, "deid_sop_instance_uid" varchar(64) not null, "deid_study_instance_uid" varchar(64) null, "deid_series_instance_uid" varchar(64) null, "sha256" varchar(64) not null, "size" bigint not null, "identity" bytea not null, "calling_ae" varchar(16) null, "received_at" timestamptz not null default now(), "upload_state" varchar(16) not null default 'pending', "upload_attempts" int not null default 0, "next_upload_at" timestamptz not null default now(), "uploaded_at" timestamptz null, "last_upload_error" varchar(512) null, primary key ("sop_instance_uid"));`,
    );
    this.addSql(
      `create index "vault_instance_study_instance_uid_index" on "vault_instance" ("study_instance_uid");`,
    );
    this.addSql(
      `create index "vault_instance_series_instance_uid_index" on "vault_instance" ("series_instance_uid");`,
    );
    this.addSql(`create index "vault_instance_patient_id_index" on "vault_instance" ("patient_id");`);
    this.addSql(
      `alter table "vault_instance" add constraint "vault_instance_deid_sop_instance_uid_unique" unique ("deid_sop_instance_uid");`,
    );
    this.addSql(`create index "vault_instance_upload_state_index" on "vault_instance" ("upload_state");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "vault_instance" cascade;`);
  }
}
