import './ca/crypto-provider.util.js';
import { webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import * as x509 from '@peculiar/x509';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import type { MedgridConfig } from '../config/config.js';
import { User } from '../users/user.entity.js';
import { UserService } from '../users/user.service.js';
import type { VoRole } from '../vo/vo.entities.js';
import { effectiveStatus, VoService } from '../vo/vo.service.js';
import { normaliseSerialHex } from './ca/index.js';
import { toPem } from './ca/pem.util.js';
import { CertificateService } from './certificates/certificate.service.js';
import { IssuedCertificate } from './certificates/issued-certificate.entity.js';
import { IdentityRuntime } from './identity.runtime.js';
import { certificateFileStale } from './serve-setup.js';

export interface ServiceAccountSpec {
  name: string;
  facility: string;
  groupPath: string;
  role: VoRole;
  /** Where `<basename>.pem` (certificate + chain), `<basename>.key` (0600) and `ca.pem` are kept. */
  dir: string;
  basename: string;
}

export interface ServiceCredentials {
  certFile: string;
  keyFile: string;
  caFile: string;
  serialHex: string;
  /** What happened on this call: reused files, a new certificate, or a revoked one left alone. */
  outcome: 'reused' | 'issued' | 'revoked';
}

const RENEW_MEMBERSHIP_BEFORE_MS = 30 * 24 * 3600 * 1000;

/**
 * The installation's own service account must not stop working unnoticed: the current AUP is accepted on its
 * behalf (by `system`, audited; this also restores an AUP suspension), and its membership is renewed when it is
 * within 30 days of its term or expired. A suspension by an administrator is left as it is.
 */
async function keepMembershipCurrent(
  em: EntityManager,
  config: MedgridConfig,
  userId: string,
): Promise<void> {
  const vo = new VoService(em, {
    termDays: config.identity.membershipTermDays,
    graceDays: config.identity.membershipGraceDays,
  });
  const aup = await vo.currentAup();
  if (aup && !(await vo.hasAccepted(userId, aup.version))) {
    await vo.acceptAup(SYSTEM_ACTOR, userId, aup.version);
  }
  const now = new Date();
  for (const m of await vo.membershipsOf(userId)) {
    const st = effectiveStatus(m, now, config.identity.membershipGraceDays);
    const ending = m.expiresAt && m.expiresAt.getTime() - now.getTime() < RENEW_MEMBERSHIP_BEFORE_MS;
    if (st === 'expired' || (st === 'active' && ending)) await vo.renewMembership(SYSTEM_ACTOR, null, m.id);
  }
}

/** A P-256 key made here and a PKCS#10 request for it; the key never leaves this machine. */
async function keyAndCsr(): Promise<{ csrPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=service',
    keys: keys as unknown as x509.Pkcs10CertificateRequestCreateParams['keys'],
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csrPem: csr.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}

async function writeAtomically(file: string, data: string, mode: number): Promise<void> {
  await writeFile(`${file}.tmp`, data, { mode });
  await rename(`${file}.tmp`, file);
}

/**
 * A service account (e.g. the embedded gateway) with its role in the VO and a certificate from the MedGrid CA,
 * kept as PEM files for the service to present over mutual TLS. The account and its membership are created once;
 * later starts reuse the files, or issue a new certificate when it is missing or within 30 days of its end.
 * A certificate an administrator revoked is not replaced behind their back (outcome `revoked`), and a membership
 * they suspended or a role they removed is not restored; the AUP and the membership term are kept current.
 */
export async function ensureServiceCertificate(
  config: MedgridConfig,
  orm: MikroORM,
  spec: ServiceAccountSpec,
): Promise<ServiceCredentials> {
  const certFile = path.join(spec.dir, `${spec.basename}.pem`);
  const keyFile = path.join(spec.dir, `${spec.basename}.key`);
  const caFile = path.join(spec.dir, 'ca.pem');
  const em = orm.em.fork();
  const existing = await em.findOne(User, { name: spec.name, facility: spec.facility, kind: 'service' });
  if (existing) await keepMembershipCurrent(em, config, existing.id);
  if (!certificateFileStale(certFile) && existsSync(keyFile) && existsSync(caFile)) {
    const serialHex = normaliseSerialHex(new X509Certificate(readFileSync(certFile)).serialNumber);
    const onRecord = await em.findOne(IssuedCertificate, { serialHex });
    if (onRecord?.revokedAt) return { certFile, keyFile, caFile, serialHex, outcome: 'revoked' };
    if (onRecord) return { certFile, keyFile, caFile, serialHex, outcome: 'reused' };
    // Files from another database (data directory reused with a new DATABASE_URL): issue anew.
  }
  const rt = await IdentityRuntime.open(config);
  let user = existing;
  if (!user) {
    user = await new UserService(em).create(SYSTEM_ACTOR, {
      name: spec.name,
      facility: spec.facility,
      kind: 'service',
    });
    const vo = new VoService(em, rt.voOptions());
    await vo.ensureGroupPath(SYSTEM_ACTOR, spec.groupPath);
    const m = await vo.requestMembership(SYSTEM_ACTOR, user.id, spec.groupPath, spec.role);
    await vo.decide(SYSTEM_ACTOR, null, m.id, true);
  }
  const { csrPem, keyPem } = await keyAndCsr();
  const cert = await new CertificateService(em, rt).issueFromCsr(SYSTEM_ACTOR, user.id, csrPem);
  await mkdir(spec.dir, { recursive: true, mode: 0o700 });
  await writeAtomically(keyFile, keyPem, 0o600);
  await writeAtomically(certFile, cert.pem + rt.ca.chainPem, 0o644);
  await writeAtomically(caFile, rt.ca.chainPem, 0o644);
  return { certFile, keyFile, caFile, serialHex: cert.serialHex, outcome: 'issued' };
}
