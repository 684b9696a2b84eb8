import { storageEntities } from '@medgrid/worker';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { LoginChallenge, Session } from '../auth/auth.entities.js';
import { CaState } from '../identity/certificates/ca-state.entity.js';
import { IssuedCertificate } from '../identity/certificates/issued-certificate.entity.js';
import { migrationsList } from '../migrations/index.js';
import { studyEntities } from '../studies/study.entities.js';
import { User } from '../users/user.entity.js';
import { AupAcceptance, AupVersion, Membership, RoleAssignment, VoGroup } from '../vo/vo.entities.js';

/** Every entity the server's database holds; the migrations must describe exactly these. */
export const serverEntities = [
  AuditEvent,
  User,
  IssuedCertificate,
  CaState,
  VoGroup,
  Membership,
  RoleAssignment,
  AupVersion,
  AupAcceptance,
  Session,
  LoginChallenge,
  ...studyEntities,
  // The storage worker's SE registry, objects and replicas live in this database, under these migrations.
  ...storageEntities,
];

export function ormConfig(databaseUrl: string, opts: { debug?: boolean; poolMax?: number } = {}) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: serverEntities,
    extensions: [Migrator],
    // Schema changes go through migrations only; never let the ORM sync the schema.
    ensureDatabase: false,
    allowGlobalContext: false,
    debug: opts.debug ?? false,
    pool: { min: 0, max: opts.poolMax ?? 10 },
    migrations: {
      migrationsList,
      tableName: 'mikro_orm_migrations',
      silent: true,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      path: 'src/migrations',
    },
  });
}
