#!/usr/bin/env node
import { ConfigError } from '../config/config.js';
import { fail, oneLineError } from './errors.js';

const USAGE = `usage: medgrid <command>
  start                      start the whole system (embedded PostgreSQL when DATABASE_URL is unset)
  serve                      run the HTTP(S) server process only
  db migrate|check|migration-create [name]
  admin bootstrap --name N --facility F --out admin.p12
                             create the first administrator (vo-admin, ca-operator) and write their PKCS#12
  admin issue --user-id ID --out user.p12 [--days N]   issue a certificate with a new key (PKCS#12)
  admin service-credentials --name N --facility F --role R --dir DIR [--group G]
                             a service account (e.g. a gateway) and its PEM certificate files (idempotent)
  admin revoke --serial HEX [--reason R]               revoke a certificate and re-issue the CRL
  dicom dump|deidentify|restore ...   DICOM tools (see packages/dicom/README.md)
  graphql schema             print the GraphQL schema (SDL) the server serves
  import <folder|file>... --url https://HOST:PORT --cert CLIENT.p12 [--password-file F] [--ca CHAIN.pem]
                             send DICOM files to a server with STOW-RS over mutual TLS
  storage scan --se NAME [--repair] --url ... --cert ADMIN.p12
                             consistency scan of an SE: dark and missing files (exit 1 when any)
`;

async function main(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      await (await import('../supervisor/start.command.js')).startCommand();
      return;
    case 'serve': {
      // Identity set-up of the server process: the server's own certificate from the MedGrid CA (for the
      // HTTPS listener, or the main one with MEDGRID_TLS_FROM_CA) and the development accounts on a first start.
      const { prepareServe } = await import('../identity/serve-setup.js');
      const prep = await prepareServe();
      await (await import('../http/serve.command.js')).serveCommand(prep);
      return;
    }
    case 'admin':
      return (await import('../identity/admin.command.js')).adminCommand(rest);
    case 'db':
      await (await import('../db/db.command.js')).dbCommand(rest);
      return 0;
    case 'dicom': {
      // Loaded lazily: the DICOM tools need none of the server's dependencies.
      const { runDicomCli } = await import('@medgrid/dicom');
      const env = { ...process.env };
      if (rest[0] === 'deidentify' && !rest.includes('--secret-file')) {
        // Same secret as the running system, so CLI and server map UIDs and pseudonyms alike.
        const { loadConfig } = await import('../config/config.js');
        const { deidSecret } = await import('../secrets/deployment-secret.service.js');
        env.MEDGRID_DEID_SECRET = deidSecret(loadConfig().dataDir);
      }
      return runDicomCli(rest, { env });
    }
    case 'import':
      return (await import('./import.command.js')).importCommand(rest);
    case 'storage':
      return (await import('./storage-scan.command.js')).storageCommand(rest);
    case 'graphql':
      if (rest[0] !== 'schema') throw new Error(`unknown graphql command ${rest[0] ?? ''}`);
      process.stdout.write(await (await import('../graphql/schema-sdl.js')).graphqlSchemaSdl());
      return 0;
    case 'internal':
      if (rest[0] === 'embedded-postgres') {
        await (await import('../db/embedded-postgres.command.js')).embeddedPostgresCommand();
        return;
      }
      throw new Error(`unknown internal command ${rest[0] ?? ''}`);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    if (process.send && process.connected) {
      // Under the supervisor: it prints the single line, so the terminal sees it once.
      process.send({ type: 'fatal', service: 'cli', message: oneLineError(err) }, () => process.exit(1));
      return;
    }
    fail(err, err instanceof ConfigError ? 2 : 1);
  },
);
