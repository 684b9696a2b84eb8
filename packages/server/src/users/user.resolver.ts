import {
  Arg,
  Authorized,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { badInput } from '../auth/errors.js';
import { Connection, toConnection } from '../graphql/connection.js';
import type { GraphqlContext } from '../graphql/context.js';
import { servicesFor } from '../graphql/services.js';
import { pageSize } from '../identity/ids.util.js';
import { UserType } from './user.types.js';

@ObjectType()
class UserConnection extends Connection(UserType, 'User') {}

@InputType()
class CreateUserInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  facility!: string;

  @Field(() => String, { nullable: true, defaultValue: 'person', description: 'person or service' })
  kind!: string;

  @Field(() => String, { nullable: true })
  email?: string | null;
}

@ObjectType('DoctorEntry', { description: 'A doctor in the sharing directory (name and facility only).' })
class DoctorEntryType {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) facility!: string;
}

@Resolver()
export class UserResolver {
  @Authorized('doctor')
  @Query(() => [DoctorEntryType], {
    description: 'Doctors to share a study with, found by a name fragment (2+ characters); at most 20.',
  })
  async doctors(
    @Ctx() ctx: GraphqlContext,
    @Arg('search', () => String) search: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
  ): Promise<DoctorEntryType[]> {
    const s = servicesFor(ctx);
    return s.users.doctors(s.principal().userId, search, Math.min(Math.max(first ?? 10, 1), 20));
  }

  @Authorized('vo-admin', 'ca-operator', 'group-manager')
  @Query(() => UserConnection, { description: 'Accounts, newest first.' })
  async users(
    @Ctx() ctx: GraphqlContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('facility', () => String, { nullable: true }) facility?: string,
    @Arg('search', () => String, { nullable: true }) search?: string,
    @Arg('kind', () => String, { nullable: true, description: 'person or service' }) kind?: string,
  ): Promise<UserConnection> {
    const page = await servicesFor(ctx).users.list(
      { ...(facility ? { facility } : {}), ...(search ? { search } : {}), ...(kind ? { kind } : {}) },
      pageSize(first),
      after,
    );
    return toConnection(page, UserType.from);
  }

  @Authorized('vo-admin', 'ca-operator')
  @Mutation(() => UserType, {
    description: 'Creates a person or service account (it has no certificate yet).',
  })
  async createUser(
    @Ctx() ctx: GraphqlContext,
    @Arg('input', () => CreateUserInput) input: CreateUserInput,
  ): Promise<UserType> {
    if (input.kind !== 'person' && input.kind !== 'service') throw badInput('kind must be person or service');
    const s = servicesFor(ctx);
    return UserType.from(
      await s.users.create(s.actor, {
        name: input.name,
        facility: input.facility,
        kind: input.kind,
        email: input.email ?? null,
      }),
    );
  }
}
