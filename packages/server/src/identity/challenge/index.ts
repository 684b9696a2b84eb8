export {
  CHALLENGE_ALGORITHMS,
  type Challenge,
  type ChallengeFailureReason,
  type ChallengeResponse,
  type ChallengeResult,
  ChallengeService,
  type ChallengeServiceOptions,
  type ChallengeSignatureAlgorithm,
  challengeMessage,
  DEFAULT_CHALLENGE_TTL_SECONDS,
  RSA_PSS_SALT_LENGTH,
} from './challenge.service.js';
export type { ChallengeRecord, ChallengeStore } from './challenge.store.js';
export { RateLimitedError, RateLimiter, SignInRateLimits } from './challenge-rate.limiter.js';
export { InMemoryChallengeStore } from './memory-challenge.store.js';
