// Loaded only by the sign-in page (dynamic import), so pkijs/asn1js stay out of the initial bundle.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type BrowserIdentity, certificateToPem, type SignatureAlgorithm, SignInError } from './identity.js';

const OID_KEY_BAG_SHROUDED = '1.2.840.113549.1.12.10.1.2';
const OID_KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes ? Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') : undefined;
}

function commonName(cert: pkijs.Certificate): string {
  const cn = cert.subject.typesAndValues.find((tv) => tv.type === '2.5.4.3');
  return String(cn?.value.valueBlock.value ?? '');
}

/**
 * Opens a PKCS#12 file (PBES2/AES + PBKDF2-SHA256 + HMAC-SHA256 MAC, as the MedGrid CA writes it) with the password
 * and imports the private key into WebCrypto as non-extractable. The key bytes are dropped right after the import.
 */
export async function openPkcs12(data: ArrayBuffer, password: string): Promise<BrowserIdentity> {
  let pfx: pkijs.PFX;
  try {
    pfx = pkijs.PFX.fromBER(data);
  } catch {
    throw new SignInError('notPkcs12');
  }
  const pw = new TextEncoder().encode(password).buffer as ArrayBuffer;
  try {
    await pfx.parseInternalValues({ password: pw, checkIntegrity: true });
  } catch {
    // pkijs reports a MAC mismatch as a generic Error; the MAC fails on a wrong password or a modified file.
    throw new SignInError('wrongPassword');
  }
  const authSafe = pfx.parsedValue?.authenticatedSafe;
  if (!authSafe) throw new SignInError('notPkcs12');
  try {
    await authSafe.parseInternalValues({ safeContents: authSafe.safeContents.map(() => ({ password: pw })) });
  } catch {
    throw new SignInError('wrongPassword');
  }
  let keyInfo: pkijs.PrivateKeyInfo | undefined;
  let keyId: string | undefined;
  const certs: { cert: pkijs.Certificate; keyId?: string }[] = [];
  for (const sc of authSafe.parsedValue?.safeContents ?? []) {
    for (const bag of sc.value.safeBags) {
      const idBytes = bag.bagAttributes?.find((a: pkijs.Attribute) => a.type === OID_LOCAL_KEY_ID)?.values[0]
        ?.valueBlock?.valueHexView as Uint8Array | undefined;
      if (bag.bagId === OID_KEY_BAG_SHROUDED) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        try {
          await (
            shrouded as unknown as { parseInternalValues(p: { password: ArrayBuffer }): Promise<void> }
          ).parseInternalValues({ password: pw });
        } catch {
          throw new SignInError('wrongPassword');
        }
        keyInfo = shrouded.parsedValue;
        keyId = hex(idBytes);
      } else if (bag.bagId === OID_KEY_BAG) {
        keyInfo = bag.bagValue as unknown as pkijs.PrivateKeyInfo;
        keyId = hex(idBytes);
      } else if (bag.bagId === OID_CERT_BAG) {
        const parsed = (bag.bagValue as pkijs.CertBag).parsedValue;
        if (parsed instanceof pkijs.Certificate) {
          const id = hex(idBytes);
          certs.push(id ? { cert: parsed, keyId: id } : { cert: parsed });
        }
      }
    }
  }
  const leaf = certs.find((c) => keyId !== undefined && c.keyId === keyId) ?? certs[0];
  if (!keyInfo || !leaf) throw new SignInError('noKey');

  const keyAlgorithm = keyInfo.privateKeyAlgorithm.algorithmId;
  let importParams: EcKeyImportParams | RsaHashedImportParams;
  let algorithm: SignatureAlgorithm;
  if (keyAlgorithm === OID_EC_PUBLIC_KEY) {
    const params = keyInfo.privateKeyAlgorithm.algorithmParams as asn1js.ObjectIdentifier | undefined;
    const curve = CURVES[params?.valueBlock?.toString() ?? ''];
    if (!curve) throw new SignInError('unsupportedKey');
    importParams = { name: 'ECDSA', namedCurve: curve };
    algorithm = 'ECDSA';
  } else if (keyAlgorithm === OID_RSA) {
    importParams = { name: 'RSA-PSS', hash: 'SHA-256' };
    algorithm = 'RSA-PSS';
  } else {
    throw new SignInError('unsupportedKey');
  }
  const pkcs8 = new Uint8Array(keyInfo.toSchema().toBER(false));
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, importParams, false, ['sign']);
  } catch {
    throw new SignInError('unsupportedKey');
  } finally {
    pkcs8.fill(0);
  }
  const der = new Uint8Array(leaf.cert.toSchema().toBER(false));
  return {
    privateKey,
    certificatePem: certificateToPem(der),
    algorithm,
    name: commonName(leaf.cert) || 'MedGrid',
  };
}
