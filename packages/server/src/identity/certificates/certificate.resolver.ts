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
import { Connection, toConnection } from '../../graphql/connection.js';
import type { GraphqlContext } from '../../graphql/context.js';
import { CertificateStatusEnum, RevocationReasonEnum } from '../../graphql/enums.js';
import { servicesFor } from '../../graphql/services.js';
import type { RevocationReason } from '../ca/index.js';
import { pageSize } from '../ids.util.js';
import { type CertificateStatus, certificateStatus } from './certificate.service.js';
import type { IssuedCertificate } from './issued-certificate.entity.js';

@ObjectType('Certificate')
export class CertificateType {
  @Field(() => String, { description: 'Serial, lowercase hex.' })
  serial!: string;

  @Field(() => String)
  subject!: string;

  @Field(() => String, { description: 'client (person), service or server.' })
  profile!: string;

  @Field(() => String)
  userId!: string;

  @Field(() => GraphQLISODateTime)
  notBefore!: Date;

  @Field(() => GraphQLISODateTime)
  notAfter!: Date;

  @Field(() => String)
  fingerprintSha256!: string;

  @Field(() => String)
  pem!: string;

  @Field(() => CertificateStatusEnum)
  status!: CertificateStatus;

  @Field(() => GraphQLISODateTime)
  issuedAt!: Date;

  @Field(() => String, { nullable: true })
  renewsSerial!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => RevocationReasonEnum, { nullable: true })
  revocationReason!: string | null;

  static from(c: IssuedCertificate, now = new Date()): CertificateType {
    return Object.assign(new CertificateType(), {
      serial: c.serialHex,
      subject: c.subject,
      profile: c.profile,
      userId: c.userId,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      fingerprintSha256: c.fingerprintSha256,
      pem: c.pem,
      status: certificateStatus(c, now),
      issuedAt: c.issuedAt,
      renewsSerial: c.renewsSerialHex ?? null,
      revokedAt: c.revokedAt ?? null,
      revocationReason: c.revocationReason ?? null,
    });
  }
}

@ObjectType()
class CertificateConnection extends Connection(CertificateType, 'Certificate') {}

@ObjectType()
export class IssuedKeyBundle {
  @Field(() => CertificateType)
  certificate!: CertificateType;

  @Field(() => String, {
    nullable: true,
    description: 'PKCS#12 (base64) with key and chain; shown once, never stored.',
  })
  pkcs12Base64!: string | null;

  @Field(() => String, { nullable: true, description: 'PKCS#12 password; shown once, never stored.' })
  password!: string | null;
}

@ObjectType()
class CrlStatus {
  @Field(() => String)
  crlNumber!: string;

  @Field(() => GraphQLISODateTime)
  thisUpdate!: Date;

  @Field(() => GraphQLISODateTime)
  nextUpdate!: Date;

  @Field(() => Int)
  revokedCount!: number;

  @Field(() => String)
  pemUrl!: string;

  @Field(() => String)
  derUrl!: string;
}

function bundle(r: { certificate: IssuedCertificate; pkcs12?: Buffer; password?: string }): IssuedKeyBundle {
  return Object.assign(new IssuedKeyBundle(), {
    certificate: CertificateType.from(r.certificate),
    pkcs12Base64: r.pkcs12 ? r.pkcs12.toString('base64') : null,
    password: r.password ?? null,
  });
}

@Resolver()
export class CertificateResolver {
  @Authorized('ca-operator', 'vo-admin')
  @Query(() => CertificateConnection, { description: 'Issued certificates, newest first.' })
  async certificates(
    @Ctx() ctx: GraphqlContext,
    @Arg('status', () => CertificateStatusEnum, { nullable: true }) status?: CertificateStatus,
    @Arg('userId', () => String, { nullable: true }) userId?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<CertificateConnection> {
    const page = await servicesFor(ctx).certificates.list(
      { status: status ?? null, userId: userId ?? null },
      pageSize(first),
      after,
    );
    const now = new Date();
    return toConnection(page, (c) => CertificateType.from(c, now));
  }

  @Authorized('authenticated')
  @Query(() => [CertificateType], { description: "The caller's own certificates." })
  async myCertificates(@Ctx() ctx: GraphqlContext): Promise<CertificateType[]> {
    const s = servicesFor(ctx);
    return (await s.certificates.forUser(s.principal().userId)).map((c) => CertificateType.from(c));
  }

  @Authorized('public')
  @Query(() => CrlStatus, { description: 'The current CRL (also published at /ca/crl.pem and /ca/crl.der).' })
  async crlStatus(@Ctx() ctx: GraphqlContext): Promise<CrlStatus> {
    const snap = await ctx.identity.crl.snapshot(ctx.em);
    const base = ctx.identity.settings.publicUrl;
    return Object.assign(new CrlStatus(), {
      crlNumber: snap.crlNumber.toString(),
      thisUpdate: snap.thisUpdate,
      nextUpdate: snap.nextUpdate,
      revokedCount: snap.revokedCount,
      pemUrl: `${base}/ca/crl.pem`,
      derUrl: `${base}/ca/crl.der`,
    });
  }

  @Authorized('ca-operator')
  @Mutation(() => CertificateType, {
    description: 'Issues a certificate for the key in a PKCS#10 request; the subject comes from the account.',
  })
  async issueCertificateFromCsr(
    @Ctx() ctx: GraphqlContext,
    @Arg('userId', () => String) userId: string,
    @Arg('csrPem', () => String) csrPem: string,
    @Arg('validityDays', () => Int, { nullable: true }) validityDays?: number,
  ): Promise<CertificateType> {
    const s = servicesFor(ctx);
    return CertificateType.from(await s.certificates.issueFromCsr(s.actor, userId, csrPem, validityDays));
  }

  @Authorized('ca-operator')
  @Mutation(() => IssuedKeyBundle, {
    description: 'Generates the key on the server; returns it once as PKCS#12 with its password.',
  })
  async issueCertificateWithKey(
    @Ctx() ctx: GraphqlContext,
    @Arg('userId', () => String) userId: string,
    @Arg('validityDays', () => Int, { nullable: true }) validityDays?: number,
  ): Promise<IssuedKeyBundle> {
    const s = servicesFor(ctx);
    return bundle(await s.certificates.issueWithGeneratedKey(s.actor, userId, validityDays));
  }

  @Authorized('ca-operator')
  @Mutation(() => IssuedKeyBundle, {
    description: 'Renews: for a CSR key, or with a new server key (PKCS#12 returned once).',
  })
  async renewCertificate(
    @Ctx() ctx: GraphqlContext,
    @Arg('serial', () => String) serial: string,
    @Arg('csrPem', () => String, { nullable: true }) csrPem?: string,
    @Arg('validityDays', () => Int, { nullable: true }) validityDays?: number,
  ): Promise<IssuedKeyBundle> {
    const s = servicesFor(ctx);
    return bundle(
      await s.certificates.renew(s.actor, serial, {
        csrPem: csrPem ?? null,
        validityDays: validityDays ?? null,
      }),
    );
  }

  @Authorized('ca-operator')
  @Mutation(() => CertificateType, {
    description: "Revokes; the CRL is re-issued at once and the certificate's sessions end.",
  })
  async revokeCertificate(
    @Ctx() ctx: GraphqlContext,
    @Arg('serial', () => String) serial: string,
    @Arg('reason', () => RevocationReasonEnum) reason: RevocationReason,
  ): Promise<CertificateType> {
    const s = servicesFor(ctx);
    return CertificateType.from(await s.certificates.revoke(s.actor, serial, reason));
  }
}
