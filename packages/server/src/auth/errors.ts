import { GraphQLError } from 'graphql';

export type DomainErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'AUP_NOT_ACCEPTED';

/** A typed error: services throw it, GraphQL shows `extensions.code`. */
export class DomainError extends GraphQLError {
  readonly code: DomainErrorCode;
  /** `denied`: refused by the authorisation policy (as opposed to a failure of the operation itself). */
  constructor(code: DomainErrorCode, message: string, opts: { denied?: boolean } = {}) {
    super(message, { extensions: opts.denied ? { code, denied: true } : { code } });
    this.code = code;
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
export const badInput = (msg: string) => new DomainError('BAD_USER_INPUT', msg);
export const forbidden = (msg = 'not allowed') => new DomainError('FORBIDDEN', msg);
export const conflict = (msg: string) => new DomainError('CONFLICT', msg);
