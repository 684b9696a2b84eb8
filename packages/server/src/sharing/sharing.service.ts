import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../audit/audit.service.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../auth/errors.js';
import { isUuid, uuidv7 } from '../identity/ids.util.js';
import { Grant, Share, type ShareKind, Study } from '../studies/study.entities.js';
import type { StudyService } from '../studies/study.service.js';
import { User } from '../users/user.entity.js';

export const LINK_DEFAULT_HOURS = 7 * 24;
export const PATIENT_LINK_DEFAULT_DAYS = 30;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface AccessEntry {
  userId: string;
  name: string;
  facility: string;
  via: 'owner' | ShareKind;
  withIdentity: boolean;
  shareId: string | null;
  since: Date;
}

/** Shares, links, redemption, revocation and "who has access". Only the owner manages a study's shares. */
export class SharingService {
  constructor(
    private readonly em: EntityManager,
    private readonly studies: StudyService,
  ) {}

  private audit(actor: Actor, action: string, studyId: string, details?: Record<string, unknown>) {
    new AuditService(this.em).record(actor, action, `study:${studyId}`, details);
  }

  async shareWithUser(
    actor: Actor,
    ownerId: string,
    studyId: string,
    doctorUserId: string,
    withIdentity: boolean,
  ): Promise<Share> {
    const study = await this.studies.requireOwner(ownerId, studyId);
    if (!isUuid(doctorUserId)) throw new DomainError('BAD_USER_INPUT', 'unknown user');
    const user = await this.em.findOne(User, { id: doctorUserId });
    if (!user || user.kind !== 'person') throw new DomainError('BAD_USER_INPUT', 'unknown user');
    if (user.id === ownerId) throw new DomainError('BAD_USER_INPUT', 'you own this study');
    const share = this.em.create(Share, {
      id: uuidv7(),
      studyId: study.id,
      kind: 'user',
      withIdentity,
      createdBy: ownerId,
      createdAt: new Date(),
      granteeUserId: user.id,
      tokenHash: null,
      expiresAt: null,
      maxUses: null,
      uses: 1,
      revokedAt: null,
    });
    this.em.create(Grant, {
      id: uuidv7(),
      studyId: study.id,
      userId: user.id,
      shareId: share.id,
      withIdentity,
      createdAt: new Date(),
      revokedAt: null,
    });
    this.audit(actor, 'share.user', study.id, { shareId: share.id, grantee: user.id, withIdentity });
    await this.em.flush();
    return share;
  }

  /** A link (kind `link`) or patient link (kind `patient`); the token is returned once and stored hashed. */
  async createLink(
    actor: Actor,
    ownerId: string,
    studyId: string,
    kind: 'link' | 'patient',
    opts: { withIdentity: boolean; expiresAt: Date; maxUses: number | null },
  ): Promise<{ share: Share; token: string }> {
    const study = await this.studies.requireOwner(ownerId, studyId);
    if (opts.expiresAt.getTime() <= Date.now())
      throw new DomainError('BAD_USER_INPUT', 'expiry is in the past');
    if (
      opts.maxUses !== null &&
      (!Number.isInteger(opts.maxUses) || opts.maxUses < 1 || opts.maxUses > 10000)
    )
      throw new DomainError('BAD_USER_INPUT', 'maxUses must be 1..10000');
    const token = randomBytes(32).toString('base64url');
    const share = this.em.create(Share, {
      id: uuidv7(),
      studyId: study.id,
      kind,
      withIdentity: opts.withIdentity,
      createdBy: ownerId,
      createdAt: new Date(),
      granteeUserId: null,
      tokenHash: tokenHash(token),
      expiresAt: opts.expiresAt,
      maxUses: opts.maxUses,
      uses: 0,
      revokedAt: null,
    });
    this.audit(actor, `share.${kind}`, study.id, {
      shareId: share.id,
      withIdentity: opts.withIdentity,
      expiresAt: opts.expiresAt.toISOString(),
      maxUses: opts.maxUses,
    });
    await this.em.flush();
    return { share, token };
  }

  /**
   * Redeems a link for a signed-in doctor: refused when unknown, revoked, expired or used up. The same doctor
   * redeeming again gets their grant back without using up another use.
   */
  async redeem(actor: Actor, userId: string, token: string): Promise<Study> {
    const refused = (why: string) => new DomainError('FORBIDDEN', `this link cannot be used: ${why}`);
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw refused('unknown');
    return this.em.transactional(async (tx) => {
      const share = await tx.findOne(Share, { tokenHash: tokenHash(token) });
      if (!share || share.kind === 'user') throw refused('unknown');
      if (share.revokedAt) throw refused('revoked');
      if (share.expiresAt && share.expiresAt.getTime() <= Date.now()) throw refused('expired');
      const study = await tx.findOne(Study, { id: share.studyId, deletedAt: null });
      if (!study) throw refused('the study was deleted');
      const existing = await tx.findOne(Grant, { shareId: share.id, userId });
      if (existing && !existing.revokedAt) return study;
      if (existing?.revokedAt) throw refused('revoked');
      if (study.ownerId !== userId) {
        const taken = (await tx
          .getConnection()
          .execute(
            'update study_share set uses = uses + 1 where id = ? and revoked_at is null and (max_uses is null or uses < max_uses) returning uses',
            [share.id],
            'all',
            tx.getTransactionContext(),
          )) as unknown[];
        if (!taken.length) throw refused('used up');
        tx.create(Grant, {
          id: uuidv7(),
          studyId: study.id,
          userId,
          shareId: share.id,
          withIdentity: share.withIdentity,
          createdAt: new Date(),
          revokedAt: null,
        });
      }
      new AuditService(tx).record(actor, 'share.redeem', `study:${study.id}`, {
        shareId: share.id,
        kind: share.kind,
      });
      return study;
    });
  }

  /** Revokes a share and every grant made from it (owner only). */
  async revoke(actor: Actor, ownerId: string, shareId: string): Promise<void> {
    if (!isUuid(shareId)) throw new DomainError('FORBIDDEN', 'no access to this share');
    const share = await this.em.findOne(Share, { id: shareId });
    if (!share) throw new DomainError('FORBIDDEN', 'no access to this share');
    await this.studies.requireOwner(ownerId, share.studyId).catch(() => {
      throw new DomainError('FORBIDDEN', 'no access to this share');
    });
    if (!share.revokedAt) {
      const now = new Date();
      share.revokedAt = now;
      await this.em.nativeUpdate(Grant, { shareId: share.id, revokedAt: null }, { revokedAt: now });
      this.audit(actor, 'share.revoke', share.studyId, { shareId: share.id });
      await this.em.flush();
    }
  }

  async shares(ownerId: string, studyId: string): Promise<Share[]> {
    const study = await this.studies.requireOwner(ownerId, studyId);
    return this.em.find(Share, { studyId: study.id }, { orderBy: { createdAt: 'desc' } });
  }

  /** Who has access now: the owner, then every active grant. */
  async whoHasAccess(ownerId: string, studyId: string): Promise<AccessEntry[]> {
    const study = await this.studies.requireOwner(ownerId, studyId);
    const grants = await this.em.find(
      Grant,
      { studyId: study.id, revokedAt: null },
      { orderBy: { createdAt: 'asc' } },
    );
    const shares = new Map(
      (await this.em.find(Share, { id: { $in: grants.map((g) => g.shareId) } })).map((s) => [s.id, s]),
    );
    const active = grants.filter((g) => !shares.get(g.shareId)?.revokedAt);
    const users = new Map(
      (await this.em.find(User, { id: { $in: [study.ownerId, ...active.map((g) => g.userId)] } })).map(
        (u) => [u.id, u],
      ),
    );
    const owner = users.get(study.ownerId);
    const out: AccessEntry[] = [
      {
        userId: study.ownerId,
        name: owner?.name ?? '?',
        facility: owner?.facility ?? '',
        via: 'owner',
        withIdentity: true,
        shareId: null,
        since: study.createdAt,
      },
    ];
    for (const g of active) {
      const u = users.get(g.userId);
      out.push({
        userId: g.userId,
        name: u?.name ?? '?',
        facility: u?.facility ?? '',
        via: shares.get(g.shareId)!.kind,
        withIdentity: g.withIdentity,
        shareId: g.shareId,
        since: g.createdAt,
      });
    }
    return out;
  }
}
