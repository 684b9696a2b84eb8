import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { loadConfig, type MedgridConfig, type TlsConfig } from '../config/config.js';
import { ensureDevelopmentAccounts } from './admin.command.js';
import { IdentityRuntime } from './identity.runtime.js';

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** True when a PEM certificate file is missing or ends within 30 days. */
export function certificateFileStale(file: string, now = Date.now()): boolean {
  if (!existsSync(file)) return true;
  try {
    return new Date(new X509Certificate(readFileSync(file)).validTo).getTime() - now < RENEW_BEFORE_MS;
  } catch {
    return true;
  }
}

/** True when the PEM certificate names every one of the DNS names (a newly configured name needs a new one). */
function namesAll(file: string, dnsNames: string[]): boolean {
  try {
    const c = new X509Certificate(readFileSync(file));
    return dnsNames.every((n) => c.checkHost(n, { wildcards: false }) !== undefined);
  } catch {
    return false;
  }
}

/**
 * The server's own TLS certificate from the MedGrid CA, kept in `<dataDir>/tls` (issued on first use,
 * re-issued when it nears its end), with the MedGrid chain as the client CA.
 */
export async function ensureServerCertificate(config: MedgridConfig): Promise<TlsConfig> {
  const dir = path.join(config.dataDir, 'tls');
  const cert = path.join(dir, 'server.pem');
  const key = path.join(dir, 'server.key');
  const clientCa = path.join(dir, 'client-ca.pem');
  const dnsNames = config.identity.tlsDnsNames;
  if (certificateFileStale(cert) || !existsSync(key) || !existsSync(clientCa) || !namesAll(cert, dnsNames)) {
    const rt = await IdentityRuntime.open(config);
    const extraIp =
      isIP(config.host) && !['127.0.0.1', '::1', '0.0.0.0', '::'].includes(config.host) ? [config.host] : [];
    const issued = await rt.ca.issueServerCertificate({
      hostname: 'localhost',
      dnsNames,
      ipAddresses: extraIp,
    });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(key, issued.privateKeyPem!, { mode: 0o600 });
    await writeFile(cert, issued.certificatePem + rt.ca.chainPem);
    await writeFile(clientCa, rt.ca.chainPem);
  }
  return { certFile: cert, keyFile: key, clientCaFile: clientCa, requireClientCert: false };
}

export interface ServePreparation {
  /** The second, HTTPS (mTLS) listener next to the plain-HTTP one, when MEDGRID_TLS_PORT is on. */
  tlsListener?: { port: number; tls: TlsConfig };
}

/**
 * Runs in the server process before it listens. The server's certificate comes from the MedGrid CA: for the
 * main listener with MEDGRID_TLS_FROM_CA, otherwise (the embedded default) for the HTTPS listener on
 * MEDGRID_TLS_PORT. Then, in development, the development accounts are created on the first start.
 */
export async function prepareServe(env: NodeJS.ProcessEnv = process.env): Promise<ServePreparation> {
  const first = loadConfig(env);
  const out: ServePreparation = {};
  if (first.identity.tlsFromCa && !first.tls) {
    const tls = await ensureServerCertificate(first);
    env.MEDGRID_TLS_CERT = tls.certFile;
    env.MEDGRID_TLS_KEY = tls.keyFile;
    env.MEDGRID_TLS_CLIENT_CA = tls.clientCaFile;
  } else if (first.tlsPort !== undefined) {
    out.tlsListener = { port: first.tlsPort, tls: await ensureServerCertificate(first) };
  }
  await ensureDevelopmentAccounts(loadConfig(env));
  return out;
}
