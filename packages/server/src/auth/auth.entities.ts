import { defineEntity, p } from '@mikro-orm/core';

/** A browser session from a signed-challenge sign-in; only the SHA-256 of the token is stored. */
export const SessionSchema = defineEntity({
  name: 'Session',
  tableName: 'auth_session',
  properties: {
    id: p.uuid().primary(),
    tokenHash: p.string().length(64).unique(),
    userId: p.uuid().index(),
    certificateSerialHex: p.string().length(64).index(),
    createdAt: p.datetime().defaultRaw('now()'),
    expiresAt: p.datetime().index(),
    revokedAt: p.datetime().nullable(),
    ip: p.string().length(64).nullable(),
  },
});
export class Session extends SessionSchema.class {}
SessionSchema.setClass(Session);

/** Outstanding sign-in challenges (single use; taken atomically with DELETE … RETURNING). */
export const LoginChallengeSchema = defineEntity({
  name: 'LoginChallenge',
  tableName: 'auth_challenge',
  properties: {
    id: p.string().length(32).primary(),
    nonce: p.blob(),
    createdAt: p.datetime(),
    expiresAt: p.datetime().index(),
  },
});
export class LoginChallenge extends LoginChallengeSchema.class {}
LoginChallengeSchema.setClass(LoginChallenge);
