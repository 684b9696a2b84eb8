import { createHash, randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { FastifyRequest } from 'fastify';
import { type Actor, AuditService } from '../audit/audit.service.js';
import { pemOrDerToDer } from '../identity/ca/pem.util.js';
import { IssuedCertificate } from '../identity/certificates/issued-certificate.entity.js';
import {
  type Challenge,
  ChallengeService,
  type ChallengeSignatureAlgorithm,
  SignInRateLimits,
} from '../identity/challenge/index.js';
import type { IdentityRuntime } from '../identity/identity.runtime.js';
import { uuidv7 } from '../identity/ids.util.js';
import { Session } from './auth.entities.js';
import { DbChallengeStore } from './db-challenge.store.js';
import { DomainError } from './errors.js';
import { type AuthState, evaluatePrincipal, type Principal } from './principal.js';

export const SESSION_COOKIE = 'medgrid_session';
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sessionTokenFrom(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === SESSION_COOKIE) {
      const v = part.slice(i + 1).trim();
      return TOKEN_RE.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** DER of the client certificate of a TLS request, if one was presented. */
export function peerCertificateDer(req: FastifyRequest): Buffer | undefined {
  const sock = req.raw.socket as Partial<TLSSocket>;
  if (typeof sock.getPeerCertificate !== 'function') return undefined;
  const pc = sock.getPeerCertificate(false);
  return pc && Buffer.isBuffer(pc.raw) && pc.raw.length > 0 ? pc.raw : undefined;
}

export function actorOf(auth: AuthState, ip: string | null): Actor {
  const p = auth.principal;
  return p ? { userId: p.userId, label: p.subject, ip } : { userId: null, label: 'anonymous', ip };
}

export interface SignInResult {
  token: string;
  session: Session;
  principal: Principal;
}

/**
 * Resolves who is calling: a client certificate on the TLS connection (mutual TLS) or a session cookie from a
 * signed-challenge sign-in. Results are cached for at most `authCacheMs` (≤ 60 s), so a revocation or a
 * suspension made by another process applies within that time; this process drops its cache at once.
 */
export class AuthService {
  readonly challenges: ChallengeService;
  private readonly challengeStore: DbChallengeStore;

  constructor(
    private readonly orm: MikroORM,
    private readonly rt: IdentityRuntime,
  ) {
    this.challengeStore = new DbChallengeStore(orm);
    this.challenges = new ChallengeService({
      store: this.challengeStore,
      verifier: () => rt.crl.verifier(orm.em.fork(), true),
      clock: rt.clock,
    });
  }

  async authenticate(req: FastifyRequest): Promise<AuthState> {
    const der = peerCertificateDer(req);
    if (der) return this.fromCertificate(der);
    const token = sessionTokenFrom(req);
    if (token) return this.fromSession(token);
    return { principal: null };
  }

  private cached(key: string): AuthState | undefined {
    const hit = this.rt.authCache.get(key);
    const now = this.rt.clock().getTime();
    if (!hit || now - hit.at >= this.rt.settings.authCacheMs) return undefined;
    const p = hit.principal as Principal | null;
    if (p && p.validUntil.getTime() <= now) return undefined;
    return p ? { principal: p } : undefined;
  }

  private remember(key: string, principal: Principal | null): void {
    if (this.rt.authCache.size > 10_000) this.rt.authCache.clear();
    this.rt.authCache.set(key, { principal, at: this.rt.clock().getTime() });
  }

  /** mTLS: chain, validity, clientAuth and CRL via CertificateVerifier, then the certificate must be on record. */
  async fromCertificate(der: Buffer): Promise<AuthState> {
    const key = `c:${createHash('sha256').update(der).digest('hex')}`;
    const hit = this.cached(key);
    if (hit) return hit;
    const em = this.orm.em.fork();
    const verdict = await (await this.rt.crl.verifier(em)).verify(der, {
      now: this.rt.clock(),
      purpose: 'client',
    });
    if (!verdict.ok) return { principal: null, failure: `certificate ${verdict.reason}` };
    const cert = await em.findOne(IssuedCertificate, { serialHex: verdict.identity.serialHex });
    if (!cert || cert.fingerprintSha256 !== verdict.identity.fingerprintSha256) {
      return { principal: null, failure: 'certificate not on record' };
    }
    if (cert.revokedAt) return { principal: null, failure: 'certificate revoked' };
    const principal = await evaluatePrincipal(em, this.rt.voOptions(), cert, 'mtls', cert.notAfter);
    if (!principal) return { principal: null, failure: 'no account for this certificate' };
    this.remember(key, principal);
    return { principal };
  }

  async fromSession(token: string): Promise<AuthState> {
    const key = `s:${hashToken(token)}`;
    const hit = this.cached(key);
    if (hit) return hit;
    const em = this.orm.em.fork();
    const now = this.rt.clock();
    const s = await em.findOne(Session, { tokenHash: hashToken(token) });
    if (!s || s.revokedAt || s.expiresAt.getTime() <= now.getTime())
      return { principal: null, failure: 'session ended' };
    const cert = await em.findOne(IssuedCertificate, { serialHex: s.certificateSerialHex });
    if (!cert || cert.revokedAt) return { principal: null, failure: 'certificate revoked' };
    if (cert.notAfter.getTime() <= now.getTime()) return { principal: null, failure: 'certificate expired' };
    const validUntil = new Date(Math.min(cert.notAfter.getTime(), s.expiresAt.getTime()));
    const principal = await evaluatePrincipal(em, this.rt.voOptions(), cert, 'session', validUntil, s.id);
    if (!principal) return { principal: null, failure: 'no account for this certificate' };
    this.remember(key, principal);
    return { principal };
  }

  /**
   * A fresh nonce, within the sign-in rate limits: per client address, and per certificate when the TLS connection
   * carries one (RATE_LIMITED with retryAfterSeconds otherwise; no nonce is stored then).
   */
  async requestChallenge(from: { ip?: string | null; certificateDer?: Buffer } = {}): Promise<Challenge> {
    this.rt.signInLimits.checkChallenge(from.ip ?? null, from.certificateDer);
    // Opportunistic clean-up keeps the table small.
    if (Math.random() < 0.05) await this.challengeStore.purgeExpired(this.rt.clock()).catch(() => 0);
    return this.challenges.create();
  }

  /** Verifies a signed challenge (the nonce is consumed first), then opens a session bound to the certificate serial. */
  async signIn(
    em: EntityManager,
    input: { certificatePem: string; nonceId: string; signature: string; algorithm: string },
    ip: string | null,
  ): Promise<SignInResult> {
    const audit = new AuditService(em);
    // Signature checks per certificate are bounded before any work, whatever address they come from.
    this.rt.signInLimits.checkCertificate(
      SignInRateLimits.certificateKey(
        pemOrDerToDer(input.certificatePem, ['CERTIFICATE']) ?? Buffer.from(input.certificatePem, 'utf8'),
      ),
    );
    const result = await this.challenges.verify({
      certificatePem: input.certificatePem,
      nonceId: input.nonceId,
      signature: input.signature,
      algorithm: input.algorithm as ChallengeSignatureAlgorithm,
    });
    const fail = async (reason: string, subject?: string): Promise<never> => {
      audit.record({ userId: null, label: subject ?? 'anonymous', ip }, 'auth.signin.fail', null, { reason });
      await em.flush();
      throw new DomainError('UNAUTHENTICATED', `sign-in refused: ${reason}`);
    };
    if (!result.ok) {
      return fail(
        result.certificateReason ? `certificate ${result.certificateReason}` : result.reason,
        result.identity?.subject,
      );
    }
    const cert = await em.findOne(IssuedCertificate, { serialHex: result.identity.serialHex });
    if (!cert || cert.fingerprintSha256 !== result.identity.fingerprintSha256 || cert.revokedAt) {
      return fail('certificate not on record', result.identity.subject);
    }
    const now = this.rt.clock();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(
      Math.min(now.getTime() + this.rt.settings.sessionTtlSeconds * 1000, cert.notAfter.getTime()),
    );
    const session = em.create(Session, {
      id: uuidv7(),
      tokenHash: hashToken(token),
      userId: cert.userId,
      certificateSerialHex: cert.serialHex,
      createdAt: now,
      expiresAt,
      ip,
    });
    const principal = await evaluatePrincipal(
      em,
      this.rt.voOptions(),
      cert,
      'session',
      expiresAt,
      session.id,
    );
    if (!principal) return fail('no account for this certificate', cert.subject);
    audit.record(
      { userId: cert.userId, label: cert.subject, ip },
      'auth.signin',
      `certificate:${cert.serialHex}`,
      {
        sessionId: session.id,
      },
    );
    await em.flush();
    return { token, session, principal };
  }

  async signOut(em: EntityManager, token: string | undefined, actor: Actor): Promise<boolean> {
    if (!token) return false;
    const s = await em.findOne(Session, { tokenHash: hashToken(token) });
    this.rt.authCache.delete(`s:${hashToken(token)}`);
    if (!s || s.revokedAt) return false;
    s.revokedAt = this.rt.clock();
    new AuditService(em).record(actor, 'auth.signout', `certificate:${s.certificateSerialHex}`, {
      sessionId: s.id,
    });
    await em.flush();
    return true;
  }

  /** Deletes challenges past their expiry and sessions ended more than a day ago. */
  async purge(): Promise<{ challenges: number; sessions: number }> {
    const now = this.rt.clock();
    const challenges = await this.challengeStore.purgeExpired(now);
    const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000);
    const sessions = await this.orm.em
      .fork()
      .nativeDelete(Session, { $or: [{ expiresAt: { $lt: dayAgo } }, { revokedAt: { $lt: dayAgo } }] });
    return { challenges, sessions };
  }

  sessionCookie(token: string, maxAgeSeconds: number): string {
    const secure = this.rt.settings.secureCookies ? '; Secure' : '';
    return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly${secure}; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
  }
}
