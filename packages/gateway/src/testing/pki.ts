import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './harness.js';

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('openssl', args, { cwd });
  assert.equal(r.code, 0, r.stderr);
}

/** A throwaway PKI: a CA, a server certificate for 127.0.0.1 and a clientAuth certificate for the gateway. */
export async function makePki(dir: string) {
  writeFileSync(path.join(dir, 'srv.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'cli.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=MedGrid Test CA',
      '-days',
      '2',
    ],
    dir,
  );
  for (const [name, cn] of [
    ['srv', '127.0.0.1'],
    ['cli', 'gateway.test'],
  ] as const) {
    await openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${cn}`,
      ],
      dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  }
  writeFileSync(
    path.join(dir, 'srv-bundle.pem'),
    readFileSync(path.join(dir, 'srv.pem')) + readFileSync(path.join(dir, 'srv.key'), 'utf8'),
  );
  return {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'cli.pem'),
    key: path.join(dir, 'cli.key'),
    serverBundle: path.join(dir, 'srv-bundle.pem'),
    serverCert: path.join(dir, 'srv.pem'),
    serverKey: path.join(dir, 'srv.key'),
  };
}
