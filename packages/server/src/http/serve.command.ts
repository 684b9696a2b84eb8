import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../config/config.js';
import { openOrm } from '../db/orm.js';
import { createLogger } from '../logging/logger.js';
import { onShutdownSignal, tellParent } from '../supervisor/child-protocol.js';
import { buildApp } from './app.js';

/** The server process: HTTP(S) API and web apps. Migrations are applied by `medgrid start` or `medgrid db migrate`. */
export async function serveCommand(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'medgrid-server' });
  if (!config.databaseUrl)
    throw new Error('serve needs DATABASE_URL (use `medgrid start` for the embedded default)');
  const orm: MikroORM = await openOrm(config.databaseUrl);
  const { app } = await buildApp({ config, orm, logger });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await orm.close(true);
    throw Object.assign(err as Error, { address: config.host, port: config.port });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const scheme = config.tls ? 'https' : 'http';
  logger.info({ port, tls: Boolean(config.tls) }, 'server listening');
  tellParent({ type: 'ready', service: 'server', detail: { url: `${scheme}://${config.host}:${port}` } });

  onShutdownSignal(async (reason) => {
    logger.info({ reason }, 'server shutting down');
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    await app.close();
    await orm.close(true);
    logger.info('server stopped');
    process.exit(0);
  });
}
