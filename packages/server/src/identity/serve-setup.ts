import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import { ensureDevelopmentAccounts } from './admin.command.js';
import { IdentityRuntime } from './identity.runtime.js';

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/**
 * Runs in the server process before it listens. With MEDGRID_TLS_FROM_CA the server's certificate comes from
 * the MedGrid CA (issued on first start, re-issued when it nears its end) and the MedGrid chain is the
 * client CA; then, in development, the development accounts are created on the first start.
 */
export async function prepareServe(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const first = loadConfig(env);
  if (first.identity.tlsFromCa && !first.tls) {
    const dir = path.join(first.dataDir, 'tls');
    const cert = path.join(dir, 'server.pem');
    const key = path.join(dir, 'server.key');
    const clientCa = path.join(dir, 'client-ca.pem');
    const stale =
      !existsSync(cert) ||
      !existsSync(key) ||
      new Date(new X509Certificate(readFileSync(cert)).validTo).getTime() - Date.now() < RENEW_BEFORE_MS;
    if (stale) {
      const rt = await IdentityRuntime.open(first);
      const extraIp =
        isIP(first.host) && !['127.0.0.1', '::1', '0.0.0.0', '::'].includes(first.host) ? [first.host] : [];
      const issued = await rt.ca.issueServerCertificate({ hostname: 'localhost', ipAddresses: extraIp });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(key, issued.privateKeyPem!, { mode: 0o600 });
      await writeFile(cert, issued.certificatePem + rt.ca.chainPem);
      await writeFile(clientCa, rt.ca.chainPem);
    }
    env.MEDGRID_TLS_CERT = cert;
    env.MEDGRID_TLS_KEY = key;
    env.MEDGRID_TLS_CLIENT_CA = clientCa;
  }
  await ensureDevelopmentAccounts(loadConfig(env));
}
