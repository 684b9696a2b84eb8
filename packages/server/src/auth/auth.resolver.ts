import {
  Arg,
  Authorized,
  Ctx,
  Field,
  GraphQLISODateTime,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import type { GraphqlContext } from '../graphql/context.js';
import { AccessStateEnum, VoRoleEnum } from '../graphql/enums.js';
import { servicesFor } from '../graphql/services.js';
import { peerCertificateDer, sessionTokenFrom } from './auth.service.js';
import type { Principal } from './principal.js';

@ObjectType()
class LoginChallengeType {
  @Field(() => String)
  nonceId!: string;

  @Field(() => String, { description: '32 random bytes, base64url.' })
  nonce!: string;

  @Field(() => String, { description: 'base64url of the exact bytes to sign.' })
  toSign!: string;

  @Field(() => GraphQLISODateTime)
  expiresAt!: Date;

  @Field(() => [String])
  algorithms!: string[];
}

@ObjectType('RoleGrant')
export class RoleGrantType {
  @Field(() => String)
  groupPath!: string;

  @Field(() => VoRoleEnum)
  role!: string;
}

@ObjectType()
export class Me {
  @Field(() => String)
  userId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  facility!: string;

  @Field(() => String)
  kind!: string;

  @Field(() => String)
  subject!: string;

  @Field(() => String)
  certificateSerial!: string;

  @Field(() => String, { description: 'mtls or session' })
  via!: string;

  @Field(() => AccessStateEnum)
  access!: string;

  @Field(() => [RoleGrantType])
  roles!: RoleGrantType[];

  @Field(() => Int, { nullable: true, description: 'AUP version the caller must accept, if any.' })
  pendingAupVersion!: number | null;

  static from(p: Principal): Me {
    return Object.assign(new Me(), {
      userId: p.userId,
      name: p.name,
      facility: p.facility,
      kind: p.kind,
      subject: p.subject,
      certificateSerial: p.serialHex,
      via: p.via,
      access: p.access,
      roles: p.roles.map((r) => Object.assign(new RoleGrantType(), r)),
      pendingAupVersion: p.pendingAupVersion,
    });
  }
}

@ObjectType()
class SignInPayload {
  @Field(() => Me)
  me!: Me;

  @Field(() => GraphQLISODateTime)
  expiresAt!: Date;
}

@Resolver()
export class AuthResolver {
  @Authorized('public')
  @Query(() => Me, { nullable: true, description: 'The caller, or null when not signed in.' })
  me(@Ctx() ctx: GraphqlContext): Me | null {
    return ctx.auth.principal ? Me.from(ctx.auth.principal) : null;
  }

  @Authorized('public')
  @Mutation(() => LoginChallengeType, {
    description:
      'A single-use nonce to sign with the certificate key (valid 120 s). Rate-limited per client address and per certificate: RATE_LIMITED with extensions.retryAfterSeconds (HTTP 429, Retry-After).',
  })
  async requestChallenge(@Ctx() ctx: GraphqlContext): Promise<LoginChallengeType> {
    const c = await ctx.authService.requestChallenge({
      ip: ctx.request.ip ?? null,
      certificateDer: peerCertificateDer(ctx.request),
    });
    return Object.assign(new LoginChallengeType(), { ...c, algorithms: [...c.algorithms] });
  }

  @Authorized('public')
  @Mutation(() => SignInPayload, {
    description:
      'Verifies the signed challenge and sets an HttpOnly, Secure, SameSite=Strict session cookie.',
  })
  async signIn(
    @Ctx() ctx: GraphqlContext,
    @Arg('certificatePem', () => String) certificatePem: string,
    @Arg('nonceId', () => String) nonceId: string,
    @Arg('signature', () => String) signature: string,
    @Arg('algorithm', () => String) algorithm: string,
  ): Promise<SignInPayload> {
    const r = await ctx.authService.signIn(
      ctx.em,
      { certificatePem, nonceId, signature, algorithm },
      ctx.request.ip ?? null,
    );
    const maxAge = (r.session.expiresAt.getTime() - Date.now()) / 1000;
    ctx.reply.header('set-cookie', ctx.authService.sessionCookie(r.token, maxAge));
    return Object.assign(new SignInPayload(), { me: Me.from(r.principal), expiresAt: r.session.expiresAt });
  }

  @Authorized('authenticated')
  @Mutation(() => Boolean, { description: 'Ends the session and clears the cookie.' })
  async signOut(@Ctx() ctx: GraphqlContext): Promise<boolean> {
    const s = servicesFor(ctx);
    const done = await ctx.authService.signOut(ctx.em, sessionTokenFrom(ctx.request), s.actor);
    ctx.reply.header('set-cookie', ctx.authService.sessionCookie('', 0));
    return done;
  }
}
