import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../config/config.js';
import { openOrm } from '../db/orm.js';
import type { ServePreparation } from '../identity/serve-setup.js';
import { createLogger } from '../logging/logger.js';
import { onShutdownSignal, tellParent } from '../supervisor/child-protocol.js';
import { buildApp, guardClientCertificates, httpsOptions } from './app.js';

const urlHost = (host: string) =>
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

/**
 * The server process: HTTP(S) API and web apps, plus (embedded default) an HTTPS listener with the CA-issued
 * certificate asking for client certificates. Migrations are applied by `medgrid start` or `medgrid db migrate`.
 */
export async function serveCommand(prep: ServePreparation = {}): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'medgrid-server' });
  if (!config.databaseUrl)
    throw new Error('serve needs DATABASE_URL (use `medgrid start` for the embedded default)');
  const orm: MikroORM = await openOrm(config.databaseUrl);
  const { app, onUpgrade } = await buildApp({ config, orm, logger });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await orm.close(true);
    throw Object.assign(err as Error, { address: config.host, port: config.port });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const scheme = config.tls ? 'https' : 'http';

  // Same routes, hooks and authentication as the main listener (Fastify's router), over mutual TLS.
  let tlsServer: https.Server | undefined;
  let tlsUrl: string | undefined;
  if (prep.tlsListener) {
    const { port: wanted, tls } = prep.tlsListener;
    tlsServer = https.createServer(httpsOptions(tls), (req, res) => app.routing(req, res));
    guardClientCertificates(tlsServer);
    tlsServer.on('upgrade', onUpgrade);
    tlsServer.keepAliveTimeout = 72_000;
    try {
      await new Promise<void>((resolve, reject) => {
        tlsServer!.once('error', reject);
        tlsServer!.listen(wanted, config.host, () => resolve());
      });
    } catch (err) {
      await app.close();
      await orm.close(true);
      throw Object.assign(err as Error, { address: config.host, port: wanted, variable: 'MEDGRID_TLS_PORT' });
    }
    tlsUrl = `https://${urlHost(config.host)}:${(tlsServer.address() as AddressInfo).port}`;
  }
  logger.info({ port, tls: Boolean(config.tls), tlsUrl }, 'server listening');
  tellParent({
    type: 'ready',
    service: 'server',
    detail: { url: `${scheme}://${config.host}:${port}`, ...(tlsUrl ? { tlsUrl } : {}) },
  });

  onShutdownSignal(async (reason) => {
    logger.info({ reason }, 'server shutting down');
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    // Stop accepting on both; app.close() ends the shared subscriptions, then the HTTPS listener drains.
    const tlsClosed = tlsServer ? new Promise((r) => tlsServer!.close(r)) : Promise.resolve();
    tlsServer?.closeIdleConnections();
    await app.close();
    await tlsClosed;
    await orm.close(true);
    logger.info('server stopped');
    process.exit(0);
  });
}
