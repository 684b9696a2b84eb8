import path from 'node:path';
import type { MedgridConfig } from '../config/config.js';
import { type CaKeyAlgorithm, CertificateAuthority, type GeneratedCrl } from './ca/index.js';
import { CrlManager } from './certificates/crl.manager.js';
import { SignInRateLimits } from './challenge/challenge-rate.limiter.js';

export interface IdentitySettings {
  membershipTermDays: number;
  membershipGraceDays: number;
  sessionTtlSeconds: number;
  /** How long a resolved principal (session or client certificate) is trusted before re-checking; ≤ 60 s. */
  authCacheMs: number;
  /** How long the CRL read from the database is reused (other processes' revocations). */
  crlCacheMs: number;
  /** Base URL baked into certificates' CRL distribution point. */
  publicUrl: string;
  secureCookies: boolean;
  /** Signed-challenge limits: challenges per minute per client address, and per certificate. */
  signInRate: { perAddress: number; perCertificate: number };
}

export interface CachedPrincipal<P> {
  principal: P | null;
  at: number;
}

/** Process-wide identity state: the CA, the CRL cache and the authentication cache. */
export class IdentityRuntime {
  readonly crl: CrlManager;
  readonly authCache = new Map<string, CachedPrincipal<unknown>>();
  readonly clock: () => Date;
  readonly signInLimits: SignInRateLimits;

  private rootCrlCache?: Promise<GeneratedCrl>;

  constructor(
    readonly ca: CertificateAuthority,
    readonly settings: IdentitySettings,
    clock?: () => Date,
    /** Needed only to re-sign the root CRL once a year; the server already holds the issuing key. */
    private readonly caPassphrase?: string,
  ) {
    this.clock = clock ?? (() => new Date());
    this.crl = new CrlManager(ca, { cacheMs: settings.crlCacheMs, clock: this.clock });
    this.signInLimits = new SignInRateLimits(settings.signInRate, this.clock);
  }

  static settingsFrom(config: MedgridConfig): IdentitySettings {
    return {
      membershipTermDays: config.identity.membershipTermDays,
      membershipGraceDays: config.identity.membershipGraceDays,
      sessionTtlSeconds: config.identity.sessionTtlSeconds,
      authCacheMs: 30_000,
      crlCacheMs: 5_000,
      publicUrl: config.identity.publicUrl,
      secureCookies: true,
      signInRate: config.identity.signInRate,
    };
  }

  /** Opens (or, on first start, creates) the CA under `<MEDGRID_DATA_DIR>/ca`. */
  static async open(
    config: MedgridConfig,
    opts: {
      kdfIterations?: number;
      keyAlgorithm?: CaKeyAlgorithm;
      settings?: Partial<IdentitySettings>;
    } = {},
  ): Promise<IdentityRuntime> {
    const settings = { ...IdentityRuntime.settingsFrom(config), ...opts.settings };
    const ca = await CertificateAuthority.open({
      dir: path.join(config.dataDir, 'ca'),
      passphrase: config.identity.caPassphrase,
      crlBaseUrl: settings.publicUrl,
      ...(opts.kdfIterations ? { kdfIterations: opts.kdfIterations } : {}),
      ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
    });
    const runtime = new IdentityRuntime(ca, settings, undefined, config.identity.caPassphrase);
    await runtime.rootCrl();
    return runtime;
  }

  /** The root CA's CRL (see CertificateAuthority.ensureRootCrl), re-checked when the cached one nears expiry. */
  rootCrl(): Promise<GeneratedCrl> {
    if (this.caPassphrase === undefined)
      return Promise.reject(new Error('no CA passphrase to sign the root CRL'));
    const refreshAt = (crl: GeneratedCrl) => crl.nextUpdate.getTime() - 30 * 24 * 3600 * 1000;
    const cached = this.rootCrlCache;
    const passphrase = this.caPassphrase;
    this.rootCrlCache = (async () => {
      const crl = cached ? await cached.catch(() => null) : null;
      if (crl && refreshAt(crl) > this.clock().getTime()) return crl;
      return this.ca.ensureRootCrl(passphrase);
    })();
    return this.rootCrlCache;
  }

  voOptions() {
    return {
      termDays: this.settings.membershipTermDays,
      graceDays: this.settings.membershipGraceDays,
      clock: this.clock,
    };
  }

  /** Forget cached principals and the cached CRL (after a revocation or membership change here). */
  invalidate(): void {
    this.authCache.clear();
    this.crl.invalidate();
  }
}
