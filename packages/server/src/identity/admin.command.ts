import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_ACTOR } from '../audit/audit.service.js';
import { loadConfig, type MedgridConfig } from '../config/config.js';
import { openOrm } from '../db/orm.js';
import { User } from '../users/user.entity.js';
import { RoleAssignment, VO_ROLES } from '../vo/vo.entities.js';
import type { RevocationReason } from './ca/index.js';
import { CertificateService } from './certificates/certificate.service.js';
import { enrol } from './enrolment.service.js';
import { IdentityRuntime } from './identity.runtime.js';
import { ensureServiceCertificate } from './service-account.service.js';

const say = (line: string) => process.stdout.write(`medgrid: ${line}\n`);

const USAGE = `usage: medgrid admin bootstrap --name NAME --facility FACILITY --out admin.p12
       medgrid admin issue --user-id ID --out user.p12 [--days N]
       medgrid admin service-credentials --name NAME --facility FACILITY --role ROLE --dir DIR [--group /medgrid]
       medgrid admin revoke --serial HEX [--reason keyCompromise|superseded|affiliationChanged|cessationOfOperation|privilegeWithdrawn|unspecified]`;

/** `medgrid admin bootstrap`: the first administrator (vo-admin + ca-operator in /medgrid) and their PKCS#12. */
export async function adminCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'issue' || sub === 'revoke') return certificateCommand(sub, rest);
  if (sub === 'service-credentials') return serviceCredentialsCommand(rest);
  if (sub !== 'bootstrap') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, facility: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  if (!values.name || !values.facility || !values.out) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const out = path.resolve(values.out);
  if (existsSync(out)) throw new Error(`${out} exists; refusing to overwrite it`);
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('set DATABASE_URL (the database `medgrid start` uses)');
  const orm = await openOrm(config.databaseUrl, { poolMax: 2 });
  try {
    const em = orm.em.fork();
    if ((await em.count(RoleAssignment, { role: 'vo-admin' })) > 0) {
      throw new Error('an administrator exists already; add more through the admin app');
    }
    const rt = await IdentityRuntime.open(config);
    const e = await enrol(em, rt, CLI_ACTOR, {
      name: values.name,
      facility: values.facility,
      groupPath: '/medgrid',
      roles: ['vo-admin', 'ca-operator'],
    });
    await writeFile(out, e.pkcs12, { mode: 0o600, flag: 'wx' });
    say(
      `administrator "${e.user.name}" (${e.user.facility}) created with vo-admin and ca-operator in /medgrid`,
    );
    say(
      `certificate ${e.certificate.subject}, serial ${e.certificate.serialHex}, valid until ${e.certificate.notAfter.toISOString()}`,
    );
    say(`PKCS#12 written to ${out}`);
    say(`PKCS#12 password (shown once, not stored): ${e.password}`);
    return 0;
  } finally {
    await orm.close(true);
  }
}

/**
 * `medgrid admin service-credentials`: a service account (e.g. a gateway in its own container) with its role and
 * PEM certificate files in DIR. Idempotent, so it can run at every deployment start: it reuses valid files and
 * re-issues within 30 days of the end; a revoked certificate is reported (exit 1), not silently replaced.
 */
async function serviceCredentialsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      facility: { type: 'string' },
      role: { type: 'string' },
      group: { type: 'string', default: '/medgrid' },
      dir: { type: 'string' },
    },
    strict: true,
  });
  if (!values.name || !values.facility || !values.role || !values.dir) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const role = VO_ROLES.find((r) => r === values.role);
  if (!role) throw new Error(`--role must be one of ${VO_ROLES.join(', ')}`);
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('set DATABASE_URL (the database the server uses)');
  const orm = await openOrm(config.databaseUrl, { poolMax: 2 });
  try {
    const c = await ensureServiceCertificate(config, orm, {
      name: values.name,
      facility: values.facility,
      groupPath: values.group!,
      role,
      dir: path.resolve(values.dir),
      basename: 'service',
    });
    say(
      `service certificate ${c.outcome} (serial ${c.serialHex}): ${c.certFile}, key ${c.keyFile}, CA ${c.caFile}`,
    );
    if (c.outcome === 'revoked') {
      process.stderr.write(
        `medgrid: that certificate is revoked; remove ${c.certFile} to have a new one issued\n`,
      );
      return 1;
    }
    return 0;
  } finally {
    await orm.close(true);
  }
}

/**
 * Development mode, first start only: a development administrator and a development doctor, with their
 * PKCS#12 files under `<dataDir>/development/` and the passwords printed (and kept there, 0600).
 */
export async function ensureDevelopmentAccounts(config: MedgridConfig): Promise<void> {
  if (config.env !== 'development' || !config.databaseUrl) return;
  const dir = path.join(config.dataDir, 'development');
  const marker = path.join(dir, 'accounts.txt');
  if (existsSync(marker)) return;
  const orm = await openOrm(config.databaseUrl, { poolMax: 2 });
  try {
    // Made once per database: a database shared with another data directory keeps its first accounts.
    if (
      await orm.em
        .fork()
        .findOne(User, { name: 'Development Administrator', facility: 'MedGrid Development' })
    )
      return;
    const rt = await IdentityRuntime.open(config);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const lines: string[] = [];
    const accounts = [
      {
        file: 'dev-admin.p12',
        what: 'development administrator',
        name: 'Development Administrator',
        groupPath: '/medgrid',
        roles: ['vo-admin', 'ca-operator'] as const,
      },
      {
        file: 'dev-doctor.p12',
        what: 'development doctor',
        name: 'Development Doctor',
        groupPath: '/medgrid/dev-clinic/radiology',
        roles: ['doctor'] as const,
      },
    ];
    for (const a of accounts) {
      const e = await enrol(orm.em.fork(), rt, CLI_ACTOR, {
        name: a.name,
        facility: 'MedGrid Development',
        groupPath: a.groupPath,
        roles: [...a.roles],
      });
      const file = path.join(dir, a.file);
      await writeFile(file, e.pkcs12, { mode: 0o600 });
      lines.push(`${a.what}: ${file} password ${e.password} (${a.roles.join(', ')} in ${a.groupPath})`);
    }
    await writeFile(marker, `${lines.join('\n')}\n`, { mode: 0o600 });
    for (const l of lines) say(l);
  } finally {
    await orm.close(true);
  }
}

/** Reads the development accounts file (tests, tooling). */
export async function readDevelopmentAccounts(dataDir: string): Promise<string> {
  return readFile(path.join(dataDir, 'development', 'accounts.txt'), 'utf8');
}

/** `medgrid admin issue` (server-generated key, PKCS#12) and `medgrid admin revoke` (re-issues the CRL). */
async function certificateCommand(sub: 'issue' | 'revoke', rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      'user-id': { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string' },
      serial: { type: 'string' },
      reason: { type: 'string', default: 'unspecified' },
    },
    strict: true,
  });
  if (sub === 'issue' ? !values['user-id'] || !values.out : !values.serial) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('set DATABASE_URL (the database `medgrid start` uses)');
  const orm = await openOrm(config.databaseUrl, { poolMax: 2 });
  try {
    const rt = await IdentityRuntime.open(config);
    const certs = new CertificateService(orm.em.fork(), rt);
    if (sub === 'revoke') {
      const c = await certs.revoke(CLI_ACTOR, values.serial!, values.reason as RevocationReason);
      say(`revoked ${c.serialHex} (${c.subject}), reason ${c.revocationReason}; CRL re-issued`);
      return 0;
    }
    const out = path.resolve(values.out!);
    if (existsSync(out)) throw new Error(`${out} exists; refusing to overwrite it`);
    const days = values.days ? Number(values.days) : null;
    if (days !== null && !(Number.isInteger(days) && days > 0))
      throw new Error('--days must be a positive integer');
    const r = await certs.issueWithGeneratedKey(CLI_ACTOR, values['user-id']!, days);
    await writeFile(out, r.pkcs12, { mode: 0o600, flag: 'wx' });
    say(
      `issued ${r.certificate.serialHex} (${r.certificate.subject}) until ${r.certificate.notAfter.toISOString()}`,
    );
    say(`PKCS#12 written to ${out}`);
    say(`PKCS#12 password (shown once, not stored): ${r.password}`);
    return 0;
  } finally {
    await orm.close(true);
  }
}
