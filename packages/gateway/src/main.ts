#!/usr/bin/env node
import { pino } from 'pino';
import { GatewayConfigError, loadGatewayConfig } from './config/gateway.config.js';
import { startGateway } from './gateway.js';

/** Gateway process: the hospital-facing DICOM server. Run by `medgrid start` or on its own. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const log = pino({
    name: 'medgrid-gateway',
    level: config.logLevel,
    base: { service: 'medgrid-gateway', pid: process.pid },
    // Same line shape as the server's logs, so one collector parses all three processes.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
  const gw = await startGateway(config, log);
  log.info(
    { host: config.host, port: gw.port, aeTitle: config.aeTitle, httpPort: gw.httpPort },
    'gateway listening',
  );
  process.send?.({
    type: 'ready',
    service: 'gateway',
    detail: { port: gw.port, aeTitle: config.aeTitle, httpPort: gw.httpPort },
  });

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'gateway shutting down');
    await gw.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (process.send) process.on('disconnect', () => void stop('supervisor gone'));
}

main().catch((err: NodeJS.ErrnoException) => {
  const msg =
    err.code === 'EADDRINUSE'
      ? `gateway port is already in use (set MEDGRID_GATEWAY_PORT or MEDGRID_GATEWAY_HTTP_PORT)`
      : err instanceof GatewayConfigError
        ? err.message
        : (err.message ?? String(err)).split('\n')[0];
  if (process.send && process.connected) {
    process.send({ type: 'fatal', service: 'gateway', message: msg }, () => process.exit(1));
  } else {
    process.stderr.write(`medgrid-gateway: ${msg}\n`);
    process.exit(1);
  }
});
