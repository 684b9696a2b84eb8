import { defineEntity, p } from '@mikro-orm/core';

/** One row (id 1): the CRL number and the current CRL of the issuing CA. */
export const CaStateSchema = defineEntity({
  name: 'CaState',
  tableName: 'ca_state',
  properties: {
    id: p.integer().primary().autoincrement(false),
    crlNumber: p.bigint('string'),
    crlPem: p.text(),
    thisUpdate: p.datetime(),
    nextUpdate: p.datetime(),
    revokedCount: p.integer(),
  },
});

export class CaState extends CaStateSchema.class {}
CaStateSchema.setClass(CaState);
