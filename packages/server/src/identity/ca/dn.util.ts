import './crypto-provider.util.js';
import { Name } from '@peculiar/x509';
import { ProfileError } from './ca.errors.js';

const OID = {
  DC: '0.9.2342.19200300.100.1.25',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
} as const;

/** OU values that mark non-person subjects; person subjects never carry an OU, so they cannot collide. */
export const SERVICE_OU = 'service';
export const SERVER_OU = 'server';
export const CA_OU = 'Certification Authority';
export const CA_ORGANISATION = 'MedGrid';

export type DnAttribute = 'DC' | 'O' | 'OU' | 'CN';
export type DnComponents = ReadonlyArray<readonly [DnAttribute, string]>;

/*
 * Letters (any script, for Ukrainian names), digits, space and a few punctuation marks.
 * '/', '=', ',', '+', '\\' and quotes are excluded so the slash form stays unambiguous.
 */
const NAME_RE = /^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} .\-_'’()&@№]*$/u;
const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Normalises and validates a facility or person/service name for use in O/CN (max 64 chars, RFC 5280 ub). */
export function checkName(value: string, what: string): string {
  if (typeof value !== 'string') throw new ProfileError(`${what} must be a string`);
  const v = value.normalize('NFC').trim();
  if (v.length === 0) throw new ProfileError(`${what} is empty`);
  if (v.length > 64) throw new ProfileError(`${what} is longer than 64 characters`);
  if (/\s{2,}/u.test(v) || !NAME_RE.test(v)) {
    throw new ProfileError(
      `${what} contains characters outside the allowed set (letters, digits, space, . - _ ' ( ) & @)`,
    );
  }
  return v;
}

export function checkHostname(value: string): string {
  const v = value.trim().toLowerCase();
  if (!HOST_RE.test(v)) throw new ProfileError(`invalid DNS name: ${JSON.stringify(value)}`);
  return v;
}

export function personDn(facility: string, commonName: string): DnComponents {
  return [
    ['DC', 'ua'],
    ['DC', 'medgrid'],
    ['O', checkName(facility, 'facility')],
    ['CN', checkName(commonName, 'commonName')],
  ];
}

export function serviceDn(facility: string, commonName: string): DnComponents {
  return [
    ['DC', 'ua'],
    ['DC', 'medgrid'],
    ['O', checkName(facility, 'facility')],
    ['OU', SERVICE_OU],
    ['CN', checkName(commonName, 'commonName')],
  ];
}

export function serverDn(hostname: string): DnComponents {
  return [
    ['DC', 'ua'],
    ['DC', 'medgrid'],
    ['O', CA_ORGANISATION],
    ['OU', SERVER_OU],
    ['CN', checkHostname(hostname)],
  ];
}

export function caDn(commonName: string): DnComponents {
  return [
    ['DC', 'ua'],
    ['DC', 'medgrid'],
    ['O', CA_ORGANISATION],
    ['OU', CA_OU],
    ['CN', commonName],
  ];
}

/** DC as IA5String (RFC 4519), everything else UTF8String (RFC 5280 for new certificates). */
export function toX509Name(dn: DnComponents): Name {
  return new Name(
    dn.map(([attr, value]) => ({
      [OID[attr]]: [attr === 'DC' ? { ia5String: value } : { utf8String: value }],
    })),
  );
}

function escapeSlash(value: string): string {
  return value.replace(/[\\/]/g, (c) => `\\${c}`);
}

export function slashForm(dn: DnComponents): string {
  return dn.map(([a, v]) => `/${a}=${escapeSlash(v)}`).join('');
}

/** OpenSSL "compat" one-line form, in ASN.1 order: /DC=ua/DC=medgrid/O=.../CN=... */
export function nameToSlashForm(name: Name): string {
  return name
    .toJSON()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => values.map((v) => `${type}=${escapeSlash(v)}`))
        .join('+'),
    )
    .map((s) => `/${s}`)
    .join('');
}

/** Reads back simple single-valued attributes, in order (for renewal of our own certificates). */
export function nameToComponents(name: Name): Array<[string, string]> {
  return name
    .toJSON()
    .flatMap((rdn) => Object.entries(rdn).flatMap(([t, vs]) => vs.map((v) => [t, v] as [string, string])));
}
