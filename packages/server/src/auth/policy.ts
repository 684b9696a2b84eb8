import type { AuthCheckerFn } from 'type-graphql';
import { VO_ROLES, type VoRole } from '../vo/vo.entities.js';
import { DomainError } from './errors.js';
import type { AuthState } from './principal.js';

/**
 * The one authorisation policy. Deny by default: every GraphQL root field declares its rules with
 * `@Authorized(...rules)` (any one rule suffices), every HTTP route is listed in HTTP_ROUTE_RULES.
 *
 * - `public`: anyone, no credential needed.
 * - `authenticated`: a valid MedGrid certificate (mTLS or session), whatever the membership.
 * - `applicant`: authenticated and not waiting for the AUP (may ask to join a group).
 * - `aup`: authenticated and a membership that is active or only waits for the current AUP.
 * - `member`: valid certificate, active membership and the current AUP accepted.
 * - a role (`doctor`, `group-manager`, `vo-admin`, `ca-operator`, `gateway`): `member` holding that role in
 *   some group. Group scope (a manager acts only on their own groups) is checked by the services.
 */
export const RULES = ['public', 'authenticated', 'applicant', 'aup', 'member', ...VO_ROLES] as const;
export type Rule = (typeof RULES)[number];

export function isRule(x: unknown): x is Rule {
  return typeof x === 'string' && (RULES as readonly string[]).includes(x);
}

export function ruleAllows(auth: AuthState, rule: Rule): boolean {
  if (rule === 'public') return true;
  const p = auth.principal;
  if (!p) return false;
  switch (rule) {
    case 'authenticated':
      return true;
    case 'applicant':
      return p.access !== 'aup-required';
    case 'aup':
      return p.access === 'active' || p.access === 'aup-required';
    case 'member':
      return p.access === 'active';
    default:
      return p.access === 'active' && p.roles.some((r) => r.role === (rule as VoRole));
  }
}

/** True if any rule allows; an empty or unknown rule list allows nothing. */
export function allows(auth: AuthState, rules: readonly unknown[]): boolean {
  return rules.length > 0 && rules.every(isRule) && rules.some((r) => ruleAllows(auth, r as Rule));
}

/** Throws the typed error explaining a refusal. */
export function refusal(auth: AuthState): DomainError {
  const p = auth.principal;
  if (!p) {
    return new DomainError(
      'UNAUTHENTICATED',
      auth.failure ? `authentication failed: ${auth.failure}` : 'sign in with your MedGrid certificate',
      { denied: true },
    );
  }
  if (p.access === 'aup-required') {
    return new DomainError(
      'AUP_NOT_ACCEPTED',
      `accept the acceptable-use policy (version ${p.pendingAupVersion ?? '?'}) first`,
      { denied: true },
    );
  }
  if (p.access === 'inactive')
    return new DomainError('FORBIDDEN', 'your VO membership is not active', { denied: true });
  return new DomainError('FORBIDDEN', 'your roles do not allow this', { denied: true });
}

export const authChecker: AuthCheckerFn<{ auth: AuthState }> = ({ context }, rules) => {
  if (allows(context.auth, rules)) return true;
  throw refusal(context.auth);
};

export interface HttpRouteRule {
  /** A route pattern as registered with Fastify, or a prefix ending in `/**` covering every route below it. */
  path: string;
  rule: Rule | 'graphql-field-rules';
}

/**
 * Every HTTP route and its rule. `buildApp` refuses to register a route that matches no entry, so a new
 * route without a rule fails at start-up (and in the tests). `/graphql` is open at the HTTP level because
 * each field carries its own rule.
 */
export const HTTP_ROUTE_RULES: readonly HttpRouteRule[] = [
  { path: '/healthz', rule: 'public' },
  { path: '/readyz', rule: 'public' },
  { path: '/metrics', rule: 'public' },
  { path: '/ca/ca.pem', rule: 'public' },
  { path: '/ca/crl.pem', rule: 'public' },
  { path: '/ca/crl.der', rule: 'public' },
  { path: '/ca/root-crl.pem', rule: 'public' },
  { path: '/ca/root-crl.der', rule: 'public' },
  { path: '/graphql', rule: 'graphql-field-rules' },
  { path: '/dicomweb/**', rule: 'member' },
  // The two web apps: static files and the history-mode fallback (the pages hold no data; the API checks).
  { path: '/', rule: 'public' },
  { path: '/*', rule: 'public' },
  { path: '/admin', rule: 'public' },
  { path: '/admin/', rule: 'public' },
  { path: '/admin/*', rule: 'public' },
];

export function httpRuleFor(routePattern: string): HttpRouteRule | undefined {
  return HTTP_ROUTE_RULES.find((r) =>
    r.path.endsWith('/**') ? routePattern.startsWith(r.path.slice(0, -2)) : routePattern === r.path,
  );
}
