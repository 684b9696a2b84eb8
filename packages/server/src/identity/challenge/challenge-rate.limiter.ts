import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';

/** Refused because a client asked too often; carries when to try again (also as HTTP 429 + Retry-After). */
export class RateLimitedError extends GraphQLError {
  readonly code = 'RATE_LIMITED';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfterSeconds,
        // Apollo Server takes the response status and headers from here and drops `http` from the body.
        http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
      },
    });
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per key: `perMinute` requests per minute, in bursts of at most `perMinute`. In memory, per server
 * process (the server is one process); the map is pruned of full buckets so it cannot grow without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perMinute: number,
    private readonly clock: () => Date,
    private readonly maxKeys = 50_000,
  ) {}

  /** Takes one token; returns 0 when allowed, otherwise the seconds until a token is available. */
  take(key: string): number {
    const now = this.clock().getTime();
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + Math.max(0, now - b.at) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.buckets.set(key, b);
      if (this.buckets.size > this.maxKeys) this.prune(now);
      return 0;
    }
    this.buckets.set(key, b);
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }

  private prune(now: number): void {
    const rate = this.perMinute / 60_000;
    for (const [k, b] of this.buckets)
      if (b.tokens + (now - b.at) * rate >= this.perMinute) this.buckets.delete(k);
    // Still too many live keys (a flood of addresses): start afresh rather than grow.
    if (this.buckets.size > this.maxKeys) this.buckets.clear();
  }
}

/**
 * The limits of the signed-challenge sign-in: challenges per client address, and challenges and sign-in attempts
 * per certificate (the TLS client certificate when one is presented, the signing certificate on `signIn`).
 */
export class SignInRateLimits {
  private readonly byAddress: RateLimiter;
  private readonly byCertificate: RateLimiter;

  constructor(limits: { perAddress: number; perCertificate: number }, clock: () => Date) {
    this.byAddress = new RateLimiter(limits.perAddress, clock);
    this.byCertificate = new RateLimiter(limits.perCertificate, clock);
  }

  static certificateKey(certificate: Buffer | string): string {
    return createHash('sha256').update(certificate).digest('hex');
  }

  /** Throws RateLimitedError when the address or the certificate has asked too often. */
  checkChallenge(address: string | null, certificate?: Buffer): void {
    const a = this.byAddress.take(`a:${address ?? 'unknown'}`);
    if (a) {
      throw new RateLimitedError(`too many sign-in challenges from this address; try again in ${a} s`, a);
    }
    if (certificate) this.checkCertificate(SignInRateLimits.certificateKey(certificate));
  }

  /** Throws RateLimitedError when sign-ins with this certificate (key from certificateKey) come too often. */
  checkCertificate(key: string): void {
    const c = this.byCertificate.take(`c:${key}`);
    if (c) {
      throw new RateLimitedError(`too many sign-in attempts with this certificate; try again in ${c} s`, c);
    }
  }
}
