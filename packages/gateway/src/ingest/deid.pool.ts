import { Worker } from 'node:worker_threads';
import { type DeidResult, encodeIdentity } from '@medgrid/dicom';

/** What the ingest pipeline needs of one de-identified instance. */
export interface DeidOutput {
  deidentified: Buffer;
  /** `encodeIdentity` of the identity record (what the vault keeps). */
  identity: Buffer;
  newSopInstanceUid: string;
  sha256: string;
  originalLength: number;
  newStudyUid: string | undefined;
  newSeriesUid: string | undefined;
  sopClassUid: string | undefined;
}

/** The ingest pipeline's view of one `deidentify` result (the same in process and in the worker thread). */
export function deidOutputOf(d: DeidResult): DeidOutput {
  return {
    deidentified: d.deidentified,
    identity: encodeIdentity(d.identity),
    newSopInstanceUid: d.identity.newSopInstanceUid,
    sha256: d.identity.sha256.toString('hex'),
    originalLength: d.identity.originalLength,
    newStudyUid: d.summary.newStudyUid,
    newSeriesUid: d.summary.newSeriesUid,
    sopClassUid: d.summary.sopClassUid,
  };
}

interface Pending {
  resolve: (o: DeidOutput) => void;
  reject: (e: Error) => void;
}

/**
 * One worker thread that de-identifies instances in order. A worker that dies fails what it had in hand
 * (the spooled instances stay and are retried) and is started again on the next call.
 */
export class DeidWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly profileName: string,
    private readonly secret: Buffer,
  ) {}

  private start(): Worker {
    const w = new Worker(new URL('./deid.worker.js', import.meta.url), {
      workerData: { profileName: this.profileName, secret: new Uint8Array(this.secret) },
    });
    w.on('message', (m: { id: number; out?: DeidOutput; reason?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.out) {
        const d = m.out.deidentified as unknown as Uint8Array;
        const id = m.out.identity as unknown as Uint8Array;
        p.resolve({
          ...m.out,
          deidentified: Buffer.from(d.buffer, d.byteOffset, d.byteLength),
          identity: Buffer.from(id.buffer, id.byteOffset, id.byteLength),
        });
      } else p.reject(Object.assign(new Error('de-identification failed'), { code: m.reason }));
    });
    const fail = () => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values())
        p.reject(Object.assign(new Error('worker stopped'), { code: 'EWORKER' }));
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    return w;
  }

  run(file: Buffer): Promise<DeidOutput> {
    this.worker ??= this.start();
    const id = this.nextId++;
    return new Promise<DeidOutput>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only a worker with work in hand keeps the process alive.
      if (this.pending.size === 1) this.worker!.ref();
      this.worker!.postMessage({ id, file });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
