import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type CertificateAuthority,
  CertificateVerifier,
  pemOrDerToDer,
  type RevokedEntry,
} from '../ca/index.js';
import { CaState } from './ca-state.entity.js';
import { IssuedCertificate } from './issued-certificate.entity.js';

export interface CrlSnapshot {
  crlNumber: bigint;
  pem: string;
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  revokedCount: number;
}

/** Regenerate when less than this is left before nextUpdate (CRLs live 7 days). */
const REFRESH_BEFORE_MS = 3.5 * 24 * 3600 * 1000;

/**
 * The current CRL, persisted in `ca_state` (shared by every process), cached here for `cacheMs` (default 5 s).
 * Revocations call `regenerate`, which bumps the CRL number under a row lock.
 */
export class CrlManager {
  private cached?: { snapshot: CrlSnapshot; loadedAt: number };
  private verifierCache?: { crlNumber: bigint; verifier: CertificateVerifier };
  private readonly cacheMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly ca: CertificateAuthority,
    opts: { cacheMs?: number; clock?: () => Date } = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 5000;
    this.clock = opts.clock ?? (() => new Date());
  }

  /** The current CRL; `fresh` re-reads the database (sign-in does, so a revocation applies at once). */
  async snapshot(em: EntityManager, fresh = false): Promise<CrlSnapshot> {
    const now = this.clock().getTime();
    if (!fresh && this.cached && now - this.cached.loadedAt < this.cacheMs) return this.cached.snapshot;
    const state = await em.fork().findOne(CaState, { id: 1 });
    if (!state || state.nextUpdate.getTime() - now < REFRESH_BEFORE_MS || !state.crlPem) {
      return this.regenerate(em);
    }
    return this.remember(toSnapshot(state));
  }

  async verifier(em: EntityManager, fresh = false): Promise<CertificateVerifier> {
    const snap = await this.snapshot(em, fresh);
    if (this.verifierCache?.crlNumber === snap.crlNumber) return this.verifierCache.verifier;
    const verifier = await CertificateVerifier.create({ caCertificates: this.ca.chainPem, crl: snap.der });
    this.verifierCache = { crlNumber: snap.crlNumber, verifier };
    return verifier;
  }

  /** Issues a new CRL from every revoked certificate, with the next CRL number. */
  async regenerate(em: EntityManager): Promise<CrlSnapshot> {
    const snap = await em.fork().transactional(async (tx) => {
      await tx.getConnection().execute(
        `insert into ca_state (id, crl_number, crl_pem, this_update, next_update, revoked_count)
           values (1, 0, '', now(), now(), 0) on conflict (id) do nothing`,
        [],
        'run',
        tx.getTransactionContext(),
      );
      const state = await tx.findOneOrFail(CaState, { id: 1 }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const revoked = await tx.find(
        IssuedCertificate,
        { revokedAt: { $ne: null } },
        { orderBy: { revokedAt: 'asc' } },
      );
      const entries: RevokedEntry[] = revoked.map((c) => ({
        serialHex: c.serialHex,
        revokedAt: c.revokedAt!,
        reason: (c.revocationReason ?? 'unspecified') as RevokedEntry['reason'],
      }));
      const crlNumber = BigInt(state.crlNumber) + 1n;
      const crl = await this.ca.generateCrl(entries, { crlNumber, thisUpdate: this.clock() });
      state.crlNumber = crlNumber.toString();
      state.crlPem = crl.pem;
      state.thisUpdate = crl.thisUpdate;
      state.nextUpdate = crl.nextUpdate;
      state.revokedCount = crl.revokedCount;
      return toSnapshot(state);
    });
    return this.remember(snap);
  }

  /** Drops the cache so the next call reads the database. */
  invalidate(): void {
    this.cached = undefined;
  }

  private remember(snapshot: CrlSnapshot): CrlSnapshot {
    if (!this.cached || snapshot.crlNumber >= this.cached.snapshot.crlNumber) {
      this.cached = { snapshot, loadedAt: this.clock().getTime() };
    }
    return this.cached.snapshot;
  }
}

function toSnapshot(state: CaState): CrlSnapshot {
  const der = pemOrDerToDer(state.crlPem, ['X509 CRL']);
  if (!der) throw new Error('stored CRL is not PEM');
  return {
    crlNumber: BigInt(state.crlNumber),
    pem: state.crlPem,
    der: Buffer.from(der),
    thisUpdate: state.thisUpdate,
    nextUpdate: state.nextUpdate,
    revokedCount: state.revokedCount,
  };
}
