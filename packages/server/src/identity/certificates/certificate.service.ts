import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, AuditService } from '../../audit/audit.service.js';
import { Session } from '../../auth/auth.entities.js';
import { badInput, conflict, notFound } from '../../auth/errors.js';
import { User } from '../../users/user.entity.js';
import {
  CaError,
  generatePkcs12Password,
  type IssuedCertificate as IssuedByCa,
  normaliseSerialHex,
  REVOCATION_REASONS,
  type RevocationReason,
} from '../ca/index.js';
import type { IdentityRuntime } from '../identity.runtime.js';
import { isUuid, type Page, uuidv7 } from '../ids.util.js';
import { IssuedCertificate } from './issued-certificate.entity.js';

export const CERTIFICATE_STATUSES = ['valid', 'expiring', 'expired', 'revoked'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];
/** A valid certificate ending within this many days is `expiring`. */
export const EXPIRING_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export function certificateStatus(c: IssuedCertificate, now: Date): CertificateStatus {
  if (c.revokedAt) return 'revoked';
  if (c.notAfter.getTime() <= now.getTime()) return 'expired';
  if (c.notAfter.getTime() - now.getTime() < EXPIRING_DAYS * DAY_MS) return 'expiring';
  return 'valid';
}

export interface IssuedWithPkcs12 {
  certificate: IssuedCertificate;
  /** Delivered once; never stored. */
  pkcs12: Buffer;
  password: string;
}

function caFailure(err: unknown): never {
  if (err instanceof CaError) throw badInput(err.message);
  throw err;
}

/** Issues, renews, lists and revokes certificates; every change is audited; revocation re-issues the CRL. */
export class CertificateService {
  private readonly audit: AuditService;

  constructor(
    private readonly em: EntityManager,
    private readonly rt: IdentityRuntime,
  ) {
    this.audit = new AuditService(em);
  }

  private async userFor(userId: string): Promise<User> {
    const u = isUuid(userId) ? await this.em.findOne(User, { id: userId }) : null;
    if (!u) throw notFound('user');
    return u;
  }

  private record(user: User, issued: IssuedByCa, renews?: string): IssuedCertificate {
    return this.em.create(IssuedCertificate, {
      id: uuidv7(),
      serialHex: issued.serialHex,
      userId: user.id,
      profile: issued.profile,
      subject: issued.subject,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      fingerprintSha256: issued.fingerprintSha256,
      pem: issued.certificatePem,
      issuedAt: this.rt.clock(),
      renewsSerialHex: renews ?? null,
    });
  }

  private params(user: User, validityDays?: number | null) {
    return {
      profile: user.kind === 'service' ? ('service' as const) : ('client' as const),
      facility: user.facility,
      commonName: user.name,
      ...(validityDays ? { validityDays } : {}),
    };
  }

  async issueFromCsr(
    actor: Actor,
    userId: string,
    csrPem: string,
    validityDays?: number | null,
  ): Promise<IssuedCertificate> {
    const user = await this.userFor(userId);
    const issued = await this.rt.ca.issueFromCsr(csrPem, this.params(user, validityDays)).catch(caFailure);
    const c = this.record(user, issued);
    this.audit.record(actor, 'certificate.issue', `certificate:${c.serialHex}`, {
      userId,
      subject: c.subject,
      keyFrom: 'csr',
    });
    await this.em.flush();
    return c;
  }

  async issueWithGeneratedKey(
    actor: Actor,
    userId: string,
    validityDays?: number | null,
  ): Promise<IssuedWithPkcs12> {
    const user = await this.userFor(userId);
    const password = generatePkcs12Password();
    const issued = await this.rt.ca
      .issueWithGeneratedKey({ ...this.params(user, validityDays), password, keyType: 'ecdsa-p256' })
      .catch(caFailure);
    const c = this.record(user, issued);
    this.audit.record(actor, 'certificate.issue', `certificate:${c.serialHex}`, {
      userId,
      subject: c.subject,
      keyFrom: 'server',
    });
    await this.em.flush();
    return { certificate: c, pkcs12: issued.pkcs12, password };
  }

  /** New certificate for the same subject: for the CSR's key, or with a new server-generated key (PKCS#12). */
  async renew(
    actor: Actor,
    serial: string,
    opts: { csrPem?: string | null; validityDays?: number | null } = {},
  ): Promise<{ certificate: IssuedCertificate; pkcs12?: Buffer; password?: string }> {
    const old = await this.bySerial(serial);
    if (old.revokedAt) throw conflict('a revoked certificate cannot be renewed');
    const user = await this.userFor(old.userId);
    const days = opts.validityDays ? { validityDays: opts.validityDays } : {};
    if (opts.csrPem) {
      const issued = await this.rt.ca.renew(old.pem, { csr: opts.csrPem, ...days }).catch(caFailure);
      const c = this.record(user, issued, old.serialHex);
      this.audit.record(actor, 'certificate.renew', `certificate:${c.serialHex}`, {
        userId: user.id,
        renews: old.serialHex,
      });
      await this.em.flush();
      return { certificate: c };
    }
    const password = generatePkcs12Password();
    const issued = await this.rt.ca
      .renewWithGeneratedKey(old.pem, { password, keyType: 'ecdsa-p256', ...days })
      .catch(caFailure);
    const c = this.record(user, issued, old.serialHex);
    this.audit.record(actor, 'certificate.renew', `certificate:${c.serialHex}`, {
      userId: user.id,
      renews: old.serialHex,
    });
    await this.em.flush();
    return { certificate: c, pkcs12: issued.pkcs12, password };
  }

  /** Revokes, ends the certificate's sessions, issues a new CRL and drops this process's auth cache. */
  async revoke(actor: Actor, serial: string, reason: RevocationReason): Promise<IssuedCertificate> {
    if (!Object.hasOwn(REVOCATION_REASONS, reason)) throw badInput(`unknown revocation reason ${reason}`);
    const c = await this.bySerial(serial);
    if (c.revokedAt) throw conflict('certificate is already revoked');
    const now = this.rt.clock();
    c.revokedAt = now;
    c.revocationReason = reason;
    await this.em.nativeUpdate(
      Session,
      { certificateSerialHex: c.serialHex, revokedAt: null },
      { revokedAt: now },
    );
    this.audit.record(actor, 'certificate.revoke', `certificate:${c.serialHex}`, {
      userId: c.userId,
      reason,
    });
    await this.em.flush();
    await this.rt.crl.regenerate(this.em);
    this.rt.invalidate();
    return c;
  }

  async bySerial(serial: string): Promise<IssuedCertificate> {
    let s: string;
    try {
      s = normaliseSerialHex(serial);
    } catch {
      throw badInput('invalid serial number');
    }
    const c = await this.em.findOne(IssuedCertificate, { serialHex: s });
    if (!c) throw notFound('certificate');
    return c;
  }

  async list(
    filter: { status?: CertificateStatus | null; userId?: string | null; expiringWithinDays?: number | null },
    first: number,
    after?: string | null,
  ): Promise<Page<IssuedCertificate>> {
    const now = this.rt.clock();
    const soon = new Date(now.getTime() + EXPIRING_DAYS * DAY_MS);
    const where: Record<string, unknown> = {};
    if (filter.userId) where.userId = filter.userId;
    switch (filter.status) {
      case 'revoked':
        where.revokedAt = { $ne: null };
        break;
      case 'expired':
        where.revokedAt = null;
        where.notAfter = { $lte: now };
        break;
      case 'expiring':
        where.revokedAt = null;
        where.notAfter = { $gt: now, $lt: soon };
        break;
      case 'valid':
        where.revokedAt = null;
        where.notAfter = { $gte: soon };
        break;
      default:
    }
    if (filter.expiringWithinDays) {
      where.revokedAt = null;
      where.notAfter = { $gt: now, $lt: new Date(now.getTime() + filter.expiringWithinDays * DAY_MS) };
    }
    if (after) {
      if (!isUuid(after)) throw badInput('invalid cursor');
      where.id = { $lt: after };
    }
    const rows = await this.em.find(IssuedCertificate, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async forUser(userId: string): Promise<IssuedCertificate[]> {
    return this.em.find(IssuedCertificate, { userId }, { orderBy: { id: 'desc' } });
  }
}
