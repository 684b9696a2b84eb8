import { loadConfig } from '../config/config.js';
import { createLogger } from '../logging/logger.js';
import { onShutdownSignal, tellParent } from '../supervisor/child-protocol.js';
import { startEmbeddedPostgres } from './embedded-postgres.service.js';

/** Child process owning the embedded cluster, so its lifetime is managed like any other service. */
export async function embeddedPostgresCommand(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'medgrid-postgres' });
  const pg = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    databases: ['medgrid', 'medgrid_gateway'],
    logger,
  });
  tellParent({ type: 'ready', service: 'postgres', detail: { url: pg.url } });
  onShutdownSignal(async () => {
    await pg.stop();
    process.exit(0);
  });
}
