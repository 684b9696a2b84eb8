import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one gateway instance (labels carry no patient data). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly associations = new Counter({
    name: 'medgrid_gateway_associations_total',
    help: 'Associations by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly dimse = new Counter({
    name: 'medgrid_gateway_dimse_requests_total',
    help: 'DIMSE requests by service and final status class',
    labelNames: ['service', 'status'],
    registers: [this.registry],
  });
  readonly storeSeconds = new Histogram({
    name: 'medgrid_gateway_store_seconds',
    help: 'C-STORE handling time until the response (spool fsync included)',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });
  readonly spoolWriteSeconds = new Histogram({
    name: 'medgrid_gateway_spool_write_seconds',
    help: 'Durable spool write (write, fsync, rename, directory fsync)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.5],
    registers: [this.registry],
  });
  readonly ingested = new Counter({
    name: 'medgrid_gateway_ingested_total',
    help: 'Instances de-identified and recorded in the vault',
    registers: [this.registry],
  });
  readonly ingestFailures = new Counter({
    name: 'medgrid_gateway_ingest_failures_total',
    help: 'Spooled instances that could not be processed (kept in spool/failed)',
    registers: [this.registry],
  });
  readonly spoolBacklog = new Gauge({
    name: 'medgrid_gateway_spool_backlog',
    help: 'Spooled instances not yet in the vault',
    registers: [this.registry],
  });
  readonly uploads = new Counter({
    name: 'medgrid_gateway_uploads_total',
    help: 'STOW-RS upload attempts by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly uploadBacklog = new Gauge({
    name: 'medgrid_gateway_upload_backlog',
    help: 'Instances waiting for upload to the central server',
    registers: [this.registry],
  });
  readonly cacheBytes = new Gauge({
    name: 'medgrid_gateway_cache_bytes',
    help: 'Size of the local cache of de-identified objects (after the last eviction pass)',
    registers: [this.registry],
  });
  readonly cacheEvictedPacks = new Counter({
    name: 'medgrid_gateway_cache_evicted_packs_total',
    help: 'Cache packs evicted (all their objects were on the server)',
    registers: [this.registry],
  });
  readonly retrieved = new Counter({
    name: 'medgrid_gateway_retrieve_suboperations_total',
    help: 'C-MOVE/C-GET sub-operations by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
}

export interface GatewayError {
  at: string;
  where: string;
  message: string;
}

/** The last errors, for the status endpoint. Messages are built by us and carry no patient data. */
export class ErrorLog {
  private readonly items: GatewayError[] = [];
  constructor(private readonly max = 20) {}
  push(where: string, message: string): void {
    this.items.push({ at: new Date().toISOString(), where, message: message.slice(0, 300) });
    if (this.items.length > this.max) this.items.shift();
  }
  list(): GatewayError[] {
    return [...this.items].reverse();
  }
}
