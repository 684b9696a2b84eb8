import { Migration } from '@mikro-orm/migrations';

export class Migration20261125145026_identity extends Migration {
  override name = 'Migration20261125145026_identity';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "aup_acceptance" ("id" uuid not null, "user_id" uuid not null, "version" int not null, "accepted_at" timestamptz not null default now(), "ip" varchar(64) null, primary key ("id"));`,
    );
    this.addSql(`create index "aup_acceptance_user_id_index" on "aup_acceptance" ("user_id");`);
    this.addSql(
      `alter table "aup_acceptance" add constraint "aup_acceptance_user_id_version_unique" unique ("user_id", "version");`,
    );

    this.addSql(
      `create table "aup_version" ("id" uuid not null, "version" int not null, "text" text not null, "published_at" timestamptz not null default now(), "accept_by" timestamptz not null, "published_by" uuid null, primary key ("id"));`,
    );
    this.addSql(`alter table "aup_version" add constraint "aup_version_version_unique" unique ("version");`);

    this.addSql(
      `create table "ca_state" ("id" int not null, "crl_number" bigint not null, "crl_pem" text not null, "this_update" timestamptz not null, "next_update" timestamptz not null, "revoked_count" int not null, primary key ("id"));`,
    );

    this.addSql(
      `create table "issued_certificate" ("id" uuid not null, "serial_hex" varchar(64) not null, "user_id" uuid not null, "profile" text not null, "subject" varchar(512) not null, "not_before" timestamptz not null, "not_after" timestamptz not null, "fingerprint_sha256" varchar(64) not null, "pem" text not null, "issued_at" timestamptz not null default now(), "renews_serial_hex" varchar(64) null, "revoked_at" timestamptz null, "revocation_reason" varchar(32) null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "issued_certificate" add constraint "issued_certificate_serial_hex_unique" unique ("serial_hex");`,
    );
    this.addSql(`create index "issued_certificate_user_id_index" on "issued_certificate" ("user_id");`);
    this.addSql(`create index "issued_certificate_subject_index" on "issued_certificate" ("subject");`);
    this.addSql(`create index "issued_certificate_not_after_index" on "issued_certificate" ("not_after");`);
    this.addSql(
      `alter table "issued_certificate" add constraint "issued_certificate_fingerprint_sha256_unique" unique ("fingerprint_sha256");`,
    );
    this.addSql(`create index "issued_certificate_revoked_at_index" on "issued_certificate" ("revoked_at");`);

    this.addSql(
      `create table "auth_challenge" ("id" varchar(32) not null, "nonce" bytea not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "auth_challenge_expires_at_index" on "auth_challenge" ("expires_at");`);

    this.addSql(
      `create table "vo_membership" ("id" uuid not null, "user_id" uuid not null, "group_id" uuid not null, "status" text not null, "requested_at" timestamptz not null default now(), "requested_role" text not null default 'doctor', "decided_at" timestamptz null, "decided_by" uuid null, "reason" varchar(512) null, "activated_at" timestamptz null, "expires_at" timestamptz null, "suspended_at" timestamptz null, "suspension_kind" varchar(16) null, primary key ("id"));`,
    );
    this.addSql(`create index "vo_membership_user_id_index" on "vo_membership" ("user_id");`);
    this.addSql(`create index "vo_membership_group_id_index" on "vo_membership" ("group_id");`);
    this.addSql(`create index "vo_membership_status_index" on "vo_membership" ("status");`);
    this.addSql(`create index "vo_membership_expires_at_index" on "vo_membership" ("expires_at");`);
    this.addSql(
      `alter table "vo_membership" add constraint "vo_membership_user_id_group_id_unique" unique ("user_id", "group_id");`,
    );

    this.addSql(
      `create table "vo_role_assignment" ("id" uuid not null, "user_id" uuid not null, "group_id" uuid not null, "role" text not null, "granted_at" timestamptz not null default now(), "granted_by" uuid null, primary key ("id"));`,
    );
    this.addSql(`create index "vo_role_assignment_user_id_index" on "vo_role_assignment" ("user_id");`);
    this.addSql(`create index "vo_role_assignment_group_id_index" on "vo_role_assignment" ("group_id");`);
    this.addSql(
      `alter table "vo_role_assignment" add constraint "vo_role_assignment_user_id_group_id_role_unique" unique ("user_id", "group_id", "role");`,
    );

    this.addSql(
      `create table "auth_session" ("id" uuid not null, "token_hash" varchar(64) not null, "user_id" uuid not null, "certificate_serial_hex" varchar(64) not null, "created_at" timestamptz not null default now(), "expires_at" timestamptz not null, "revoked_at" timestamptz null, "ip" varchar(64) null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "auth_session_user_id_index" on "auth_session" ("user_id");`);
    this.addSql(
      `create index "auth_session_certificate_serial_hex_index" on "auth_session" ("certificate_serial_hex");`,
    );
    this.addSql(`create index "auth_session_expires_at_index" on "auth_session" ("expires_at");`);

    this.addSql(
      `create table "medgrid_user" ("id" uuid not null, "kind" text not null default 'person', "name" varchar(64) not null, "facility" varchar(64) not null, "email" varchar(254) null, "created_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "medgrid_user_facility_index" on "medgrid_user" ("facility");`);
    this.addSql(
      `alter table "medgrid_user" add constraint "medgrid_user_facility_name_kind_unique" unique ("facility", "name", "kind");`,
    );

    this.addSql(
      `create table "vo_group" ("id" uuid not null, "path" varchar(512) not null, "parent_id" uuid null, "description" varchar(512) null, "created_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`alter table "vo_group" add constraint "vo_group_path_unique" unique ("path");`);
    this.addSql(`create index "vo_group_parent_id_index" on "vo_group" ("parent_id");`);

    this.addSql(
      `alter table "issued_certificate" add constraint "issued_certificate_profile_check" check ("profile" in ('client', 'service', 'server'));`,
    );

    this.addSql(
      `alter table "vo_membership" add constraint "vo_membership_status_check" check ("status" in ('requested', 'approved', 'rejected', 'active', 'suspended', 'expired'));`,
    );
    this.addSql(
      `alter table "vo_membership" add constraint "vo_membership_requested_role_check" check ("requested_role" in ('doctor', 'group-manager', 'vo-admin', 'ca-operator', 'gateway'));`,
    );

    this.addSql(
      `alter table "vo_role_assignment" add constraint "vo_role_assignment_role_check" check ("role" in ('doctor', 'group-manager', 'vo-admin', 'ca-operator', 'gateway'));`,
    );

    this.addSql(
      `alter table "medgrid_user" add constraint "medgrid_user_kind_check" check ("kind" in ('person', 'service'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "aup_acceptance" cascade;`);
    this.addSql(`drop table if exists "aup_version" cascade;`);
    this.addSql(`drop table if exists "ca_state" cascade;`);
    this.addSql(`drop table if exists "issued_certificate" cascade;`);
    this.addSql(`drop table if exists "auth_challenge" cascade;`);
    this.addSql(`drop table if exists "vo_membership" cascade;`);
    this.addSql(`drop table if exists "vo_role_assignment" cascade;`);
    this.addSql(`drop table if exists "auth_session" cascade;`);
    this.addSql(`drop table if exists "medgrid_user" cascade;`);
    this.addSql(`drop table if exists "vo_group" cascade;`);
  }
}
