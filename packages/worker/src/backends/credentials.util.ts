import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How the worker authenticates to an SE: the VO robot's certificate and key, or a proxy (one PEM holding the
 * proxy certificate, its key and the chain), plus the CAs that sign the SEs' host certificates.
 */
export interface SeCredentials {
  certFile?: string;
  keyFile?: string;
  /** An X.509 proxy (e.g. from voms-proxy-init): certificate, key and chain in one file. */
  proxyFile?: string;
  passphrase?: string;
  /** A CA bundle file. */
  caFile?: string;
  /** A grid certificate directory (like /etc/grid-security/certificates): every certificate in it is trusted. */
  caDir?: string;
  cert?: string | Buffer;
  key?: string | Buffer;
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface TlsMaterial {
  cert?: string | Buffer;
  key?: string | Buffer;
  ca?: Array<string | Buffer>;
  passphrase?: string;
}

function caFromDir(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    // Hashed dirs hold each CA twice (file and hash link) and CRLs as .rN: take certificates, once.
    if (/\.r\d+$/.test(name) || !statSync(p).isFile()) continue;
    const pem = readFileSync(p, 'utf8');
    if (pem.includes('BEGIN CERTIFICATE') && !out.includes(pem)) out.push(pem);
  }
  return out;
}

/** Reads the files named in `creds` into the options node:tls wants. */
export function loadTls(creds: SeCredentials): TlsMaterial {
  const t: TlsMaterial = {};
  if (creds.proxyFile) {
    const pem = readFileSync(creds.proxyFile);
    t.cert = pem;
    t.key = pem;
  }
  if (creds.certFile) t.cert = readFileSync(creds.certFile);
  if (creds.keyFile) t.key = readFileSync(creds.keyFile);
  if (creds.cert) t.cert = creds.cert;
  if (creds.key) t.key = creds.key;
  if (creds.passphrase) t.passphrase = creds.passphrase;
  const ca: Array<string | Buffer> = [];
  if (creds.caFile) ca.push(readFileSync(creds.caFile));
  if (creds.caDir) ca.push(...caFromDir(creds.caDir));
  if (creds.ca) ca.push(...(Array.isArray(creds.ca) ? creds.ca : [creds.ca]));
  if (ca.length > 0) t.ca = ca;
  return t;
}
