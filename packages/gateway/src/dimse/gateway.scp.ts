import { performance } from 'node:perf_hooks';
import { encodeElements } from '@medgrid/dicom';
import type { Logger } from 'pino';
import { describeFailure, type IngestPipeline } from '../ingest/ingest.service.js';
import type { ErrorLog, GatewayMetrics } from '../ops/metrics.js';
import {
  encodeMatch,
  findMatches,
  type Identifier,
  parseIdentifier,
  QueryError,
  whereOf,
} from '../query/query.service.js';
import { type DeidSource, RetrieveError, restoreOriginal } from '../retrieve/retrieve.service.js';
import type { Spool } from '../spool/spool.js';
import type { RetrieveRow, Vault } from '../vault/vault.service.js';
import {
  type AcceptorHooks,
  type Association,
  type DimseMessage,
  datasetOf,
  type Negotiation,
} from './association.js';
import {
  C_ECHO_RQ,
  C_ECHO_RSP,
  C_FIND_RQ,
  C_FIND_RSP,
  C_GET_RQ,
  C_GET_RSP,
  C_MOVE_RQ,
  C_MOVE_RSP,
  C_STORE_RQ,
  C_STORE_RSP,
  type Command,
} from './command.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './pdu.js';
import { type Peer, sendToPeer } from './store.scu.js';

export const VERIFICATION = '1.2.840.10008.1.1';
export const PATIENT_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.1.1';
export const PATIENT_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.1.2';
export const PATIENT_ROOT_GET = '1.2.840.10008.5.1.4.1.2.1.3';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
export const STUDY_ROOT_GET = '1.2.840.10008.5.1.4.1.2.2.3';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

const FIND = new Set([PATIENT_ROOT_FIND, STUDY_ROOT_FIND]);
const MOVE = new Set([PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE]);
const GET = new Set([PATIENT_ROOT_GET, STUDY_ROOT_GET]);

/** Storage SOP classes: everything under 1.2.840.10008.5.1.4 that is not a query/worklist model, and private ones. */
export function isStorageClass(uid: string): boolean {
  if (!uid.startsWith('1.2.840.10008.')) return /^[0-9.]+$/.test(uid);
  if (!uid.startsWith('1.2.840.10008.5.1.4.')) return false;
  return !(
    uid.startsWith('1.2.840.10008.5.1.4.1.2.') ||
    uid.startsWith('1.2.840.10008.5.1.4.31') ||
    uid.startsWith('1.2.840.10008.5.1.4.32') ||
    uid.startsWith('1.2.840.10008.5.1.4.33') ||
    uid.startsWith('1.2.840.10008.5.1.4.20') ||
    uid.startsWith('1.2.840.10008.5.1.4.37') ||
    uid.startsWith('1.2.840.10008.5.1.4.41') ||
    uid.startsWith('1.2.840.10008.5.1.4.42') ||
    uid.startsWith('1.2.840.10008.5.1.4.44') ||
    uid.startsWith('1.2.840.10008.5.1.4.45')
  );
}

export interface ScpPolicy {
  aeTitle: string;
  allowedCallingAeTitles: string[];
  peers: Map<string, Peer>;
}

export interface ScpServices {
  spool: Spool;
  ingest: IngestPipeline;
  vault: Vault;
  sources: DeidSource[];
  log: Logger;
  metrics: GatewayMetrics;
  errors: ErrorLog;
}

const STATUS_SUCCESS = 0x0000;
const STATUS_PENDING = 0xff00;
const STATUS_CANCEL = 0xfe00;
const STATUS_OUT_OF_RESOURCES = 0xa700;
const STATUS_CANNOT_UNDERSTAND = 0xc000;
const STATUS_SUBOPS_FAILED = 0xa702;
const STATUS_MOVE_DEST_UNKNOWN = 0xa801;
const STATUS_WARNING_SUBOPS = 0xb000;
const STATUS_UNABLE_TO_PROCESS = 0xc001;

function statusClass(s: number): string {
  if (s === 0) return 'success';
  if (s === 0xfe00) return 'cancel';
  if ((s & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

/** File meta the gateway writes in front of a received dataset (PS3.10 7.1). */
export function buildFileMeta(sopClass: string, sopInstance: string, ts: string, sourceAe: string): Buffer {
  const meta = encodeElements(
    [
      { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
      { tag: 0x00020002, vr: 'UI', value: sopClass },
      { tag: 0x00020003, vr: 'UI', value: sopInstance },
      { tag: 0x00020010, vr: 'UI', value: ts },
      { tag: 0x00020012, vr: 'UI', value: IMPLEMENTATION_CLASS_UID },
      { tag: 0x00020013, vr: 'SH', value: IMPLEMENTATION_VERSION },
      ...(sourceAe ? [{ tag: 0x00020016, vr: 'AE', value: sourceAe }] : []),
    ],
    { littleEndian: true, explicitVr: true },
  );
  const head = Buffer.alloc(144);
  head.write('DICM', 128, 'latin1');
  head.writeUInt32LE(0x00000002, 132);
  head.write('UL', 136, 'latin1');
  head.writeUInt16LE(4, 138);
  head.writeUInt32LE(meta.length, 140);
  return Buffer.concat([head, meta]);
}

export function createScpHooks(policy: ScpPolicy, svc: ScpServices): AcceptorHooks {
  const negotiate = (rq: import('./pdu.js').AssociateRq): Negotiation => {
    if (rq.calledAe !== policy.aeTitle) {
      return { accept: false, result: 1, source: 1, reason: 7, why: 'called AE title not recognised' };
    }
    if (policy.allowedCallingAeTitles.length && !policy.allowedCallingAeTitles.includes(rq.callingAe)) {
      return { accept: false, result: 1, source: 1, reason: 3, why: 'calling AE title not allowed' };
    }
    const contexts = rq.contexts.map((c) => {
      const as = c.abstractSyntax;
      const ts = c.transferSyntaxes;
      if (as === VERIFICATION || FIND.has(as) || MOVE.has(as) || GET.has(as)) {
        const t = ts.find((x) => x === EXPLICIT_LE) ?? ts.find((x) => x === IMPLICIT_LE);
        return t
          ? { id: c.id, result: 0, transferSyntax: t }
          : { id: c.id, result: 4, transferSyntax: IMPLICIT_LE };
      }
      if (isStorageClass(as) && ts.length) {
        // Store as received: the requestor's first choice (dcmtk lists the file's own syntax first), no transcoding.
        const t = ts[0]!;
        return { id: c.id, result: 0, transferSyntax: t };
      }
      return { id: c.id, result: 3, transferSyntax: IMPLICIT_LE };
    });
    return { accept: true, contexts, roles: rq.roles.map((r) => ({ ...r })) };
  };

  const respond = (
    assoc: Association,
    pcId: number,
    cmd: Command,
    status: number,
    extra: Partial<Command> = {},
    ds?: Buffer,
  ) =>
    assoc.send(
      pcId,
      {
        commandField: cmd.commandField | 0x8000,
        messageIdBeingRespondedTo: cmd.messageId ?? 0,
        affectedSopClassUid: cmd.affectedSopClassUid,
        dataSetType: 0,
        status,
        ...extra,
      },
      ds,
    );

  async function onStore(assoc: Association, msg: DimseMessage): Promise<void> {
    const t0 = performance.now();
    const cmd = msg.command;
    const pc = assoc.contexts.get(msg.pcId)!;
    const extra = { affectedSopInstanceUid: cmd.affectedSopInstanceUid };
    if (!msg.datasetParts || !isStorageClass(pc.abstractSyntax)) {
      await respond(assoc, msg.pcId, cmd, STATUS_CANNOT_UNDERSTAND, extra);
      return;
    }
    const file = Buffer.concat([
      buildFileMeta(
        cmd.affectedSopClassUid ?? pc.abstractSyntax,
        cmd.affectedSopInstanceUid ?? '',
        pc.transferSyntax,
        assoc.callingAe,
      ),
      ...msg.datasetParts,
    ]);
    await svc.ingest.waitForRoom();
    const tSpool = performance.now();
    // The fsync runs in the thread pool while the instance is parsed here; de-identification follows the response.
    const spooled = svc.spool.write([file]).then(
      (id) => {
        svc.metrics.spoolWriteSeconds.observe((performance.now() - tSpool) / 1000);
        return { id };
      },
      (err: NodeJS.ErrnoException) => ({ err }),
    );
    let attrs: ReturnType<IngestPipeline['validate']> | undefined;
    let prepErr: unknown;
    try {
      attrs = svc.ingest.validate(file);
    } catch (err) {
      prepErr = err;
    }
    const s = await spooled;
    let status = STATUS_SUCCESS;
    let comment: string | undefined;
    if ('err' in s) {
      status = STATUS_OUT_OF_RESOURCES;
      comment = `spool write failed: ${s.err.code ?? 'error'}`;
      svc.errors.push('spool', comment);
      svc.log.error({ reason: s.err.code }, 'spool write failed; instance refused');
    } else if (prepErr) {
      await svc.spool.remove(s.id);
      status = STATUS_CANNOT_UNDERSTAND;
      comment = `cannot parse: ${describeFailure(prepErr)}`;
      svc.errors.push('store', comment);
      svc.log.warn({ callingAe: assoc.callingAe, reason: describeFailure(prepErr) }, 'instance refused');
    } else {
      svc.ingest.enqueue({ spoolId: s.id, callingAe: assoc.callingAe, file, attrs });
    }
    await respond(assoc, msg.pcId, cmd, status, { ...extra, errorComment: comment });
    svc.metrics.storeSeconds.observe((performance.now() - t0) / 1000);
    svc.metrics.dimse.inc({ service: 'C-STORE', status: statusClass(status) });
  }

  async function onFind(assoc: Association, msg: DimseMessage): Promise<void> {
    const cmd = msg.command;
    const pc = assoc.contexts.get(msg.pcId)!;
    let status = STATUS_SUCCESS;
    try {
      const id = parseIdentifier(datasetOf(msg), pc.transferSyntax);
      const rows = await findMatches(svc.vault, id);
      for (const row of rows) {
        if (assoc.cancelled.has(cmd.messageId ?? -1) || assoc.closed) {
          status = STATUS_CANCEL;
          break;
        }
        await respond(
          assoc,
          msg.pcId,
          cmd,
          STATUS_PENDING,
          {},
          encodeMatch(id, row, pc.transferSyntax, policy.aeTitle),
        );
      }
    } catch (err) {
      status = err instanceof QueryError ? err.status : STATUS_UNABLE_TO_PROCESS;
      svc.errors.push('find', err instanceof QueryError ? err.message : describeFailure(err));
    }
    await respond(assoc, msg.pcId, cmd, status);
    svc.metrics.dimse.inc({ service: 'C-FIND', status: statusClass(status) });
  }

  async function selectForRetrieve(
    msg: DimseMessage,
    pcTs: string,
  ): Promise<{ id: Identifier; rows: RetrieveRow[] }> {
    const id = parseIdentifier(datasetOf(msg), pcTs);
    const { sql, params } = whereOf(id);
    return { id, rows: await svc.vault.forRetrieve(sql, params) };
  }

  /** Shared C-MOVE/C-GET driver: one sub-operation per instance, pending responses, final counts. */
  async function retrieve(
    assoc: Association,
    msg: DimseMessage,
    service: 'C-MOVE' | 'C-GET',
    store: (row: RetrieveRow, dataset: Buffer) => Promise<number>,
    rows: RetrieveRow[],
  ): Promise<void> {
    const cmd = msg.command;
    const pc = assoc.contexts.get(msg.pcId)!;
    let completed = 0;
    let failed = 0;
    let warning = 0;
    const failedUids: string[] = [];
    let cancelled = false;
    const load = (row: RetrieveRow) =>
      restoreOriginal(svc.sources, row).then(
        (r) => ({ r }),
        (err: unknown) => ({ err }),
      );
    let next = rows.length ? load(rows[0]!) : undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (assoc.cancelled.has(cmd.messageId ?? -1) || assoc.closed) {
        cancelled = true;
        break;
      }
      const got = await next!;
      next = i + 1 < rows.length ? load(rows[i + 1]!) : undefined;
      let st: number;
      if ('err' in got) {
        const reason = got.err instanceof RetrieveError ? got.err.reason : describeFailure(got.err);
        svc.errors.push('retrieve', `cannot restore an instance: ${reason}`);
        svc.log.error({ reason }, 'restore failed; sub-operation failed');
        st = 0xa700;
      } else {
        st = await store(row, got.r.dataset).catch((err: Error) => {
          svc.errors.push('retrieve', `sub-operation failed: ${err.message}`);
          return 0xa700;
        });
      }
      if (st === 0) completed++;
      else if ((st & 0xf000) === 0xb000) warning++;
      else {
        failed++;
        failedUids.push(row.sop_instance_uid);
      }
      svc.metrics.retrieved.inc({ outcome: statusClass(st) });
      if (i + 1 < rows.length) {
        await respond(assoc, msg.pcId, cmd, STATUS_PENDING, {
          remaining: rows.length - i - 1,
          completed,
          failed,
          warning,
        });
      }
    }
    const remaining = cancelled ? rows.length - completed - failed - warning : 0;
    let status: number;
    if (cancelled) status = STATUS_CANCEL;
    else if (failed === 0 && warning === 0) status = STATUS_SUCCESS;
    else if (completed === 0 && warning === 0) status = STATUS_SUBOPS_FAILED;
    else status = STATUS_WARNING_SUBOPS;
    const ds =
      failedUids.length > 0
        ? encodeElements([{ tag: 0x00080058, vr: 'UI', value: failedUids.join('\\') }], {
            littleEndian: true,
            explicitVr: pc.transferSyntax !== IMPLICIT_LE,
          })
        : undefined;
    await respond(
      assoc,
      msg.pcId,
      cmd,
      status,
      { remaining: cancelled ? remaining : undefined, completed, failed, warning },
      ds,
    );
    svc.metrics.dimse.inc({ service, status: statusClass(status) });
  }

  async function onMove(assoc: Association, msg: DimseMessage): Promise<void> {
    const cmd = msg.command;
    const pc = assoc.contexts.get(msg.pcId)!;
    const peer = policy.peers.get(cmd.moveDestination ?? '');
    if (!peer) {
      await respond(assoc, msg.pcId, cmd, STATUS_MOVE_DEST_UNKNOWN, { completed: 0, failed: 0, warning: 0 });
      svc.metrics.dimse.inc({ service: 'C-MOVE', status: 'failure' });
      return;
    }
    let sel: { rows: RetrieveRow[] };
    try {
      sel = await selectForRetrieve(msg, pc.transferSyntax);
    } catch (err) {
      await respond(assoc, msg.pcId, cmd, err instanceof QueryError ? err.status : STATUS_UNABLE_TO_PROCESS);
      return;
    }
    let dest: Awaited<ReturnType<typeof sendToPeer>> | undefined;
    try {
      if (sel.rows.length) dest = await sendToPeer(peer, policy.aeTitle, sel.rows);
    } catch (err) {
      svc.errors.push(
        'move',
        `cannot associate with move destination ${peer.aeTitle}: ${(err as Error).message}`,
      );
      await respond(
        assoc,
        msg.pcId,
        cmd,
        STATUS_SUBOPS_FAILED,
        {
          completed: 0,
          failed: sel.rows.length,
          warning: 0,
        },
        encodeElements(
          [{ tag: 0x00080058, vr: 'UI', value: sel.rows.map((r) => r.sop_instance_uid).join('\\') }],
          {
            littleEndian: true,
            explicitVr: pc.transferSyntax !== IMPLICIT_LE,
          },
        ),
      );
      return;
    }
    try {
      await retrieve(
        assoc,
        msg,
        'C-MOVE',
        (row, dataset) => dest!.store(row, dataset, assoc.callingAe, cmd.messageId ?? 0),
        sel.rows,
      );
    } finally {
      await dest?.close();
    }
  }

  async function onGet(assoc: Association, msg: DimseMessage): Promise<void> {
    const cmd = msg.command;
    const pc = assoc.contexts.get(msg.pcId)!;
    let sel: { rows: RetrieveRow[] };
    try {
      sel = await selectForRetrieve(msg, pc.transferSyntax);
    } catch (err) {
      await respond(assoc, msg.pcId, cmd, err instanceof QueryError ? err.status : STATUS_UNABLE_TO_PROCESS);
      return;
    }
    await retrieve(
      assoc,
      msg,
      'C-GET',
      async (row, dataset) => {
        const ctx = assoc.findContext(row.sop_class_uid, row.transfer_syntax_uid);
        if (!ctx) return 0xa702; // no context for this class and syntax: we do not transcode
        const rsp = await assoc.request(
          ctx.id,
          {
            commandField: C_STORE_RQ,
            affectedSopClassUid: row.sop_class_uid,
            affectedSopInstanceUid: row.sop_instance_uid,
            priority: 0,
            dataSetType: 0,
          },
          dataset,
        );
        return rsp.command.status ?? 0xc000;
      },
      sel.rows,
    );
  }

  return {
    negotiate,
    onEvent: (ev) => {
      if (ev.kind === 'accepted' || ev.kind === 'rejected' || ev.kind === 'aborted') {
        svc.metrics.associations.inc({ outcome: ev.kind });
      }
      // AE titles identify devices, not patients, so they may be logged.
      if (ev.kind !== 'released')
        svc.log.info({ callingAe: ev.callingAe, why: ev.why }, `association ${ev.kind}`);
      if (ev.kind === 'aborted' && ev.why !== 'peer aborted')
        svc.errors.push('dimse', `association aborted: ${ev.why}`);
    },
    async onRequest(assoc, msg) {
      const cf = msg.command.commandField;
      const pc = assoc.contexts.get(msg.pcId)!;
      switch (cf) {
        case C_ECHO_RQ:
          await respond(assoc, msg.pcId, msg.command, STATUS_SUCCESS, {});
          svc.metrics.dimse.inc({ service: 'C-ECHO', status: 'success' });
          return;
        case C_STORE_RQ:
          return onStore(assoc, msg);
        case C_FIND_RQ:
          if (FIND.has(pc.abstractSyntax)) return onFind(assoc, msg);
          break;
        case C_MOVE_RQ:
          if (MOVE.has(pc.abstractSyntax)) return onMove(assoc, msg);
          break;
        case C_GET_RQ:
          if (GET.has(pc.abstractSyntax)) return onGet(assoc, msg);
          break;
      }
      // A request we do not support on this context: refuse it (0x0211 unrecognised operation).
      await respond(assoc, msg.pcId, msg.command, 0x0211);
    },
  };
}

export { C_ECHO_RSP, C_FIND_RSP, C_GET_RSP, C_MOVE_RSP, C_STORE_RSP };
