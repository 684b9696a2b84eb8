import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { profileByName } from '@medgrid/dicom';
import type { Logger } from 'pino';
import { CacheEvictor } from './cache/cache.evictor.js';
import type { GatewayConfig } from './config/gateway.config.js';
import { GatewayConfigError } from './config/gateway.config.js';
import { type DimseServer, listenDimse } from './dimse/dimse.server.js';
import { createScpHooks } from './dimse/gateway.scp.js';
import { DeidCache, IngestPipeline } from './ingest/ingest.service.js';
import { ErrorLog, GatewayMetrics } from './ops/metrics.js';
import { LocalCacheSource } from './retrieve/retrieve.service.js';
import { WadoRsSource } from './retrieve/wado.source.js';
import { Spool } from './spool/spool.js';
import { StowUploader } from './upload/stow.uploader.js';
import { openVault } from './vault/orm.js';
import { Vault } from './vault/vault.service.js';

export interface RunningGateway {
  port: number;
  /** DICOM TLS port, when enabled. */
  tlsPort: number | undefined;
  httpPort: number | undefined;
  spool: Spool;
  cache: DeidCache;
  /** Enforces the cache bounds; undefined without a WADO-RS source (nothing could be fetched back). */
  evictor: CacheEvictor | undefined;
  vault: Vault;
  ingest: IngestPipeline;
  uploader: StowUploader | undefined;
  metrics: GatewayMetrics;
  errors: ErrorLog;
  dimse: DimseServer;
  status(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** The de-identification secret: from the environment, or generated once and kept under the data dir. */
function loadSecret(dir: string, fromEnv: string | undefined): Buffer {
  if (fromEnv) return Buffer.from(fromEnv, 'utf8');
  const file = path.join(dir, 'deid.secret');
  try {
    return readFileSync(file);
  } catch {
    const s = randomBytes(32);
    writeFileSync(file, s, { mode: 0o600, flag: 'wx' });
    return readFileSync(file);
  }
}

/** Starts the whole gateway: vault (with migrations), spool recovery, DIMSE listener, uploader, status HTTP. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const profile = profileByName(config.deidProfile);
  if (!profile)
    throw new GatewayConfigError(`MEDGRID_GATEWAY_DEID_PROFILE: unknown profile "${config.deidProfile}"`);
  const root = path.join(config.dataDir, 'gateway');
  mkdirSync(root, { recursive: true });
  const secret = loadSecret(root, config.deidSecret);
  if (secret.length < 16)
    throw new GatewayConfigError('MEDGRID_GATEWAY_DEID_SECRET must be at least 16 bytes');
  const orm = await openVault(config.databaseUrl);
  await orm.close(true);
  const vault = new Vault(config.databaseUrl);
  const metrics = new GatewayMetrics();
  const errors = new ErrorLog();
  const spool = new Spool(config.spoolDir, { slots: config.spoolSlots, slotBytes: config.spoolSlotBytes });
  const cache = new DeidCache(path.join(root, 'cache'));
  let uploader: StowUploader | undefined;
  const ingest = new IngestPipeline({
    spool,
    cache,
    vault,
    profile,
    deidThread: config.deidThread,
    secret,
    log,
    metrics,
    errors,
    onIngested: () => uploader?.kick(),
  });
  const recovered = await ingest.recover();
  if (recovered) log.info({ count: recovered }, 'recovering spooled instances from a previous run');
  if (config.stow) uploader = new StowUploader(config.stow, { vault, cache, log, metrics, errors });
  const wado = config.wadoUrl
    ? new WadoRsSource(
        config.wadoUrl,
        {
          certFile: config.tlsFiles.certFile,
          keyFile: config.tlsFiles.keyFile,
          caFile: config.tlsFiles.caFile,
        },
        config.tlsReloadMs,
      )
    : undefined;
  const sources = [new LocalCacheSource(cache), ...(wado ? [wado] : [])];
  const evictor = wado ? new CacheEvictor(config.cache, { cache, vault, log, metrics, errors }) : undefined;
  if (!wado) log.info('cache bounds not enforced: no MEDGRID_GATEWAY_WADO_URL to fetch evicted objects from');
  const hooks = createScpHooks(
    { aeTitle: config.aeTitle, allowedCallingAeTitles: config.allowedCallingAeTitles, peers: config.peers },
    { spool, ingest, vault, sources, log, metrics, errors },
  );
  const dimse = await listenDimse({ host: config.host, port: config.port, hooks });
  const dimseTls = config.dicomTls
    ? await listenDimse({
        host: config.host,
        port: config.dicomTls.port,
        hooks,
        tls: {
          cert: readFileSync(config.dicomTls.certFile),
          key: readFileSync(config.dicomTls.keyFile),
          ca: config.dicomTls.caFile ? readFileSync(config.dicomTls.caFile) : undefined,
        },
      })
    : undefined;
  uploader?.start();
  evictor?.start();

  const status = async () => ({
    aeTitle: config.aeTitle,
    port: dimse.port,
    associations: dimse.active + (dimseTls?.active ?? 0),
    tlsPort: dimseTls?.port,
    backlog: { spool: ingest.backlog, upload: await vault.backlogCounts().catch(() => undefined) },
    upload: config.stow ? { url: new URL(config.stow.url).origin } : { disabled: true },
    cache: {
      maxBytes: config.cache.maxBytes,
      maxAgeHours: config.cache.maxAgeMs / 3600_000,
      enforced: Boolean(evictor),
      ...(evictor?.last
        ? { bytes: evictor.last.bytes, packs: evictor.last.packs, pinned: evictor.last.pinned }
        : {}),
    },
    peers: [...config.peers.values()].map((p) => ({ aeTitle: p.aeTitle, host: p.host, port: p.port })),
    lastErrors: errors.list(),
  });

  let httpServer: http.Server | undefined;
  let httpPort: number | undefined;
  if (config.httpPort !== undefined) {
    httpServer = http.createServer((req, res) => {
      const send = (code: number, type: string, body: string) => {
        res.writeHead(code, { 'content-type': type });
        res.end(body);
      };
      if (req.url === '/status')
        void status().then((s) => send(200, 'application/json', JSON.stringify(s, null, 2)));
      else if (req.url === '/metrics')
        void metrics.registry.metrics().then((m) => send(200, metrics.registry.contentType, m));
      else if (req.url === '/healthz') send(200, 'application/json', '{"status":"ok"}');
      else send(404, 'application/json', '{"error":"not found"}');
    });
    await new Promise<void>((resolve, reject) => {
      httpServer!.once('error', reject);
      httpServer!.listen(config.httpPort, config.httpHost, () => resolve());
    });
    httpPort = (httpServer.address() as { port: number }).port;
  }

  return {
    port: dimse.port,
    tlsPort: dimseTls?.port,
    httpPort,
    spool,
    cache,
    evictor,
    vault,
    ingest,
    uploader,
    metrics,
    errors,
    dimse,
    status,
    async close() {
      await dimse.close();
      await dimseTls?.close();
      await ingest.drained();
      await ingest.close();
      uploader?.stop();
      evictor?.stop();
      wado?.close();
      await new Promise<void>((r) => (httpServer ? httpServer.close(() => r()) : r()));
      await vault.close();
      await spool.close();
    },
  };
}
