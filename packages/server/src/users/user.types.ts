import { Field, ID, ObjectType } from 'type-graphql';
import type { User } from './user.entity.js';

@ObjectType('User')
export class UserType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'person or service' })
  kind!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  facility!: string;

  @Field(() => String, { nullable: true })
  email!: string | null;

  static from(u: User): UserType {
    return Object.assign(new UserType(), {
      id: u.id,
      kind: u.kind,
      name: u.name,
      facility: u.facility,
      email: u.email ?? null,
    });
  }
}
