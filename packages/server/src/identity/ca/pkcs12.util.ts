import './crypto-provider.util.js';
import { createHash, createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { Pkcs12FormatError, Pkcs12PasswordError } from './ca.errors.js';
import { checkPassphrase } from './key-store.util.js';
import { certificatesDer, type PemOrDer } from './pem.util.js';

/** Used for both PBKDF2 (key and cert bags) and the PKCS#12 MAC KDF, so neither is the cheaper brute-force target. */
export const DEFAULT_PKCS12_ITERATIONS = 100_000;

const OID_KEY_BAG_SHROUDED = '1.2.840.113549.1.12.10.1.2';
const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';

export interface Pkcs12Input {
  privateKey: KeyObject;
  certificate: PemOrDer;
  /** CA certificates to include (issuing CA first, then root). */
  chain?: PemOrDer | readonly PemOrDer[];
  password: string;
  friendlyName?: string;
  iterations?: number;
}

export interface Pkcs12Contents {
  privateKey: KeyObject;
  /** End-entity certificate (the one whose localKeyId matches the key, else the first). */
  certificateDer: Buffer;
  /** Other certificates in the file. */
  chainDer: Buffer[];
}

function utf8(password: string): ArrayBuffer {
  const b = Buffer.from(password, 'utf8');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** A random password suitable for handing over out of band (24 chars, 144 bits). */
export function generatePkcs12Password(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * PKCS#12 with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and certificate bags and an HMAC-SHA256 MAC:
 * readable by OpenSSL 3 without -legacy, Node's TLS, browsers' pkijs, and current OS keystores.
 */
export async function createPkcs12(input: Pkcs12Input): Promise<Buffer> {
  checkPassphrase(input.password, 'PKCS#12 password');
  const iterations = input.iterations ?? DEFAULT_PKCS12_ITERATIONS;
  const certDer = certificatesDer(input.certificate)[0];
  if (!certDer) throw new Pkcs12FormatError('no certificate given');
  const chainDer = input.chain === undefined ? [] : certificatesDer(input.chain as PemOrDer | PemOrDer[]);

  const pkcs8 = input.privateKey.export({ format: 'der', type: 'pkcs8' });
  const keyInfo = pkijs.PrivateKeyInfo.fromBER(pkcs8);
  pkcs8.fill(0);
  // localKeyId pairs key and certificate for importers; the certificate hash is the conventional choice.
  const localKeyId = createHash('sha1').update(certDer).digest();
  const attrs = (name?: string) => {
    const out = [
      new pkijs.Attribute({
        type: OID_LOCAL_KEY_ID,
        values: [new asn1js.OctetString({ valueHex: localKeyId })],
      }),
    ];
    if (name)
      out.unshift(
        new pkijs.Attribute({ type: OID_FRIENDLY_NAME, values: [new asn1js.BmpString({ value: name })] }),
      );
    return out;
  };
  const certBag = (der: Buffer, bagAttributes?: pkijs.Attribute[]) =>
    new pkijs.SafeBag({
      bagId: OID_CERT_BAG,
      bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(der) }),
      ...(bagAttributes ? { bagAttributes } : {}),
    });

  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: keyInfo });
  const encryption = {
    password: utf8(input.password),
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 } as pkijs.ContentEncryptionAesCbcParams,
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: iterations,
  };
  await keyBag.makeInternalValues(encryption);

  const authenticatedSafe = new pkijs.AuthenticatedSafe({
    parsedValue: {
      safeContents: [
        {
          privacyMode: 0,
          value: new pkijs.SafeContents({
            safeBags: [
              new pkijs.SafeBag({
                bagId: OID_KEY_BAG_SHROUDED,
                bagValue: keyBag,
                bagAttributes: attrs(input.friendlyName),
              }),
            ],
          }),
        },
        {
          privacyMode: 1,
          value: new pkijs.SafeContents({
            safeBags: [certBag(certDer, attrs(input.friendlyName)), ...chainDer.map((d) => certBag(d))],
          }),
        },
      ],
    },
  });
  await authenticatedSafe.makeInternalValues({ safeContents: [{}, encryption] });

  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues({
    password: utf8(input.password),
    iterations,
    pbkdf2HashAlgorithm: { name: 'SHA-256' },
    hmacHashAlgorithm: 'SHA-256',
  });
  return Buffer.from(pfx.toSchema().toBER(false));
}

/** Reads a password-integrity PKCS#12 (as produced above, or by OpenSSL 3 defaults). */
export async function readPkcs12(data: Uint8Array, password: string): Promise<Pkcs12Contents> {
  let pfx: pkijs.PFX;
  try {
    pfx = pkijs.PFX.fromBER(Buffer.from(data));
  } catch (cause) {
    throw new Pkcs12FormatError('not a PKCS#12 file', { cause });
  }
  const pw = utf8(password);
  try {
    await pfx.parseInternalValues({ password: pw, checkIntegrity: true });
  } catch (cause) {
    // pkijs reports a MAC mismatch as a generic Error; the MAC only fails on a wrong password or tampering.
    throw new Pkcs12PasswordError('wrong PKCS#12 password (or the file was modified)', { cause });
  }
  const authSafe = pfx.parsedValue?.authenticatedSafe;
  if (!authSafe) throw new Pkcs12FormatError('PKCS#12 has no authenticated safe');
  try {
    await authSafe.parseInternalValues({ safeContents: authSafe.safeContents.map(() => ({ password: pw })) });
  } catch (cause) {
    throw new Pkcs12FormatError('PKCS#12 contents cannot be decrypted', { cause });
  }
  let privateKey: KeyObject | undefined;
  let keyId: string | undefined;
  const certs: Array<{ der: Buffer; keyId?: string }> = [];
  for (const sc of authSafe.parsedValue?.safeContents ?? []) {
    for (const bag of sc.value.safeBags) {
      const id = bag.bagAttributes?.find((a: pkijs.Attribute) => a.type === OID_LOCAL_KEY_ID)?.values[0]
        ?.valueBlock?.valueHexView as Uint8Array | undefined;
      const idHex = id ? Buffer.from(id).toString('hex') : undefined;
      if (bag.bagId === OID_KEY_BAG_SHROUDED) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        await (
          shrouded as unknown as { parseInternalValues(p: { password: ArrayBuffer }): Promise<void> }
        ).parseInternalValues({ password: pw });
        const info = shrouded.parsedValue;
        if (!info) throw new Pkcs12FormatError('key bag cannot be decrypted');
        privateKey = createPrivateKey({
          key: Buffer.from(info.toSchema().toBER(false)),
          format: 'der',
          type: 'pkcs8',
        });
        keyId = idHex;
      } else if (bag.bagId === OID_CERT_BAG) {
        const cb = bag.bagValue as pkijs.CertBag;
        if (cb.parsedValue instanceof pkijs.Certificate) {
          const entry: { der: Buffer; keyId?: string } = {
            der: Buffer.from(cb.parsedValue.toSchema().toBER(false)),
          };
          if (idHex) entry.keyId = idHex;
          certs.push(entry);
        }
      }
    }
  }
  if (!privateKey) throw new Pkcs12FormatError('PKCS#12 holds no private key');
  const leafIndex = Math.max(
    0,
    certs.findIndex((c) => keyId !== undefined && c.keyId === keyId),
  );
  const leaf = certs[leafIndex];
  if (!leaf) throw new Pkcs12FormatError('PKCS#12 holds no certificate');
  return {
    privateKey,
    certificateDer: leaf.der,
    chainDer: certs.filter((_, i) => i !== leafIndex).map((c) => c.der),
  };
}
