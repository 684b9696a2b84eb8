import { defineEntity, p } from '@mikro-orm/core';

export const USER_KINDS = ['person', 'service'] as const;
export type UserKind = (typeof USER_KINDS)[number];

/** A MedGrid account: a person (doctor, administrator) or a service account (gateway, third-party software). */
export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'medgrid_user',
  properties: {
    id: p.uuid().primary(),
    kind: p.enum(USER_KINDS).default('person'),
    name: p.string().length(64),
    facility: p.string().length(64).index(),
    email: p.string().length(254).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ properties: ['facility', 'name', 'kind'] }],
});

export class User extends UserSchema.class {}
UserSchema.setClass(User);
