import net from 'node:net';
import {
  C_CANCEL_RQ,
  type Command,
  decodeCommand,
  encodeCommand,
  HAS_DATASET,
  NO_DATASET,
} from './command.js';
import {
  type AssociateAc,
  type AssociateRq,
  decodeAssociateAc,
  decodeAssociateRq,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  encodePData,
  PDU_ABORT,
  PDU_ASSOCIATE_AC,
  PDU_ASSOCIATE_RJ,
  PDU_ASSOCIATE_RQ,
  PDU_P_DATA,
  PDU_RELEASE_RP,
  PDU_RELEASE_RQ,
  PduError,
  type ProposedContext,
  RELEASE_RP,
  RELEASE_RQ,
  type RoleSelection,
} from './pdu.js';

/** Largest PDU we accept at all; anything longer is treated as garbage and aborts the association. */
const MAX_ANY_PDU = 32 * 1024 * 1024;
/** Maximum P-DATA-TF length we announce (peers fragment to this). */
export const OUR_MAX_PDU = 262_144;

export interface DimseMessage {
  pcId: number;
  command: Command;
  /** The dataset as received, in its P-DATA fragments (not concatenated, to save a copy). */
  datasetParts?: Buffer[];
}

/** The message's dataset as one buffer (empty when it has none). */
export function datasetOf(msg: DimseMessage): Buffer {
  const p = msg.datasetParts;
  if (!p) return Buffer.alloc(0);
  return p.length === 1 ? p[0]! : Buffer.concat(p);
}

export interface PresentationContext {
  id: number;
  abstractSyntax: string;
  transferSyntax: string;
}

export type Negotiation =
  | { accept: true; contexts: AssociateAc['contexts']; roles: RoleSelection[] }
  | { accept: false; result: number; source: number; reason: number; why: string };

export interface AcceptorHooks {
  negotiate(rq: AssociateRq): Negotiation;
  onRequest(assoc: Association, msg: DimseMessage): Promise<void>;
  onEvent?(ev: {
    kind: 'accepted' | 'rejected' | 'aborted' | 'released';
    callingAe?: string;
    why?: string;
  }): void;
}

interface Waiter {
  resolve(msg: DimseMessage): void;
  reject(err: Error): void;
}

/**
 * One DICOM association over one TCP socket, as acceptor (our SCP) or requestor (our SCU for C-MOVE).
 * Requests are handled one at a time, in order; C-CANCEL and responses to our own sub-operation
 * requests (C-GET's C-STOREs) bypass that queue.
 */
export class Association {
  callingAe = '';
  calledAe = '';
  readonly contexts = new Map<number, PresentationContext>();
  peerMaxPdu = 0;
  readonly cancelled = new Set<number>();
  established = false;
  closed = false;
  readonly done: Promise<void>;

  private chunks: Buffer[] = [];
  private avail = 0;
  private cmdParts: Buffer[] = [];
  private dsParts: Buffer[] = [];
  private pendingCommand: { pcId: number; command: Command } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private waiters = new Map<number, Waiter>();
  private nextMessageId = 1;
  private onAc: ((ac: AssociateAc | Error) => void) | undefined;
  private onReleaseRp: (() => void) | undefined;
  private markDone!: () => void;

  constructor(
    readonly socket: net.Socket,
    private readonly hooks: AcceptorHooks | undefined,
  ) {
    this.done = new Promise((r) => {
      this.markDone = r;
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
    if (hooks) {
      // ARTIM: an association request must arrive promptly.
      socket.setTimeout(30_000, () => this.abort('timeout'));
    }
  }

  messageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId % 65535) + 1;
    return id;
  }

  private onClose(): void {
    this.closed = true;
    const err = new Error('association closed');
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    this.onAc?.(err);
    this.onAc = undefined;
    this.onReleaseRp?.();
    this.markDone();
  }

  abort(why: string): void {
    if (this.closed) return;
    this.hooks?.onEvent?.({ kind: 'aborted', callingAe: this.callingAe, why });
    this.socket.end(encodeAbort(2, 0));
    setTimeout(() => this.socket.destroy(), 500).unref();
    this.closed = true;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.avail -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let w = 0;
    while (w < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - w);
      c.copy(out, w, 0, k);
      w += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.avail -= n;
    return out;
  }

  private peekHeader(): { type: number; length: number } {
    const h = this.chunks[0]!.length >= 6 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (h !== this.chunks[0]) this.chunks = [h];
    return { type: h[0]!, length: h.readUInt32BE(2) };
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.avail += chunk.length;
    try {
      while (this.avail >= 6 && !this.closed) {
        const { type, length } = this.peekHeader();
        if (length > MAX_ANY_PDU || type < 1 || type > 7)
          throw new PduError('PDU type or length out of range');
        if (this.avail < 6 + length) break;
        this.take(6);
        this.onPdu(type, this.take(length));
      }
    } catch (err) {
      this.abort(err instanceof PduError ? err.message : 'protocol error');
    }
  }

  private onPdu(type: number, body: Buffer): void {
    switch (type) {
      case PDU_ASSOCIATE_RQ:
        if (!this.hooks || this.established) throw new PduError('unexpected A-ASSOCIATE-RQ');
        this.onAssociateRq(decodeAssociateRq(body));
        return;
      case PDU_ASSOCIATE_AC:
        if (this.hooks || !this.onAc) throw new PduError('unexpected A-ASSOCIATE-AC');
        this.onAc(decodeAssociateAc(body));
        return;
      case PDU_ASSOCIATE_RJ:
        if (this.hooks || !this.onAc) throw new PduError('unexpected A-ASSOCIATE-RJ');
        this.onAc(new Error(`association rejected (reason ${body[3] ?? '?'})`));
        return;
      case PDU_P_DATA:
        if (!this.established) throw new PduError('P-DATA before association');
        this.onPData(body);
        return;
      case PDU_RELEASE_RQ:
        if (!this.established) throw new PduError('A-RELEASE-RQ before association');
        this.queue = this.queue.then(() => {
          this.hooks?.onEvent?.({ kind: 'released', callingAe: this.callingAe });
          if (!this.closed) this.socket.end(RELEASE_RP);
          this.closed = true;
        });
        return;
      case PDU_RELEASE_RP:
        this.onReleaseRp?.();
        this.socket.end();
        return;
      case PDU_ABORT:
        this.closed = true;
        this.hooks?.onEvent?.({ kind: 'aborted', callingAe: this.callingAe, why: 'peer aborted' });
        this.socket.destroy();
        return;
      default:
        throw new PduError('unknown PDU type');
    }
  }

  private onAssociateRq(rq: AssociateRq): void {
    const hooks = this.hooks!;
    this.callingAe = rq.callingAe;
    this.calledAe = rq.calledAe;
    const n = hooks.negotiate(rq);
    if (!n.accept) {
      hooks.onEvent?.({ kind: 'rejected', callingAe: rq.callingAe, why: n.why });
      this.socket.end(encodeAssociateRj(n.result, n.source, n.reason));
      this.closed = true;
      return;
    }
    for (const c of n.contexts) {
      const proposed = rq.contexts.find((p) => p.id === c.id);
      if (c.result === 0 && proposed)
        this.contexts.set(c.id, {
          id: c.id,
          abstractSyntax: proposed.abstractSyntax,
          transferSyntax: c.transferSyntax,
        });
    }
    this.peerMaxPdu = rq.maxPduLength;
    this.established = true;
    // After association, idle connections are closed after 10 minutes.
    this.socket.setTimeout(600_000, () => this.abort('idle timeout'));
    this.socket.write(
      encodeAssociateAc({
        calledAe: rq.calledAe,
        callingAe: rq.callingAe,
        contexts: n.contexts,
        maxPduLength: OUR_MAX_PDU,
        roles: n.roles,
      }),
    );
    hooks.onEvent?.({ kind: 'accepted', callingAe: rq.callingAe });
  }

  private onPData(body: Buffer): void {
    let pos = 0;
    while (pos < body.length) {
      if (pos + 6 > body.length) throw new PduError('PDV header runs past the PDU');
      const len = body.readUInt32BE(pos);
      if (len < 2 || pos + 4 + len > body.length) throw new PduError('PDV length out of range');
      const pcId = body[pos + 4]!;
      const mch = body[pos + 5]!;
      const value = body.subarray(pos + 6, pos + 4 + len);
      pos += 4 + len;
      if (!this.contexts.has(pcId)) throw new PduError('PDV on a presentation context that was not accepted');
      if (mch & 1) {
        if (this.pendingCommand) throw new PduError('command fragment while a dataset was expected');
        this.cmdParts.push(value);
        if (mch & 2) {
          const command = decodeCommand(
            this.cmdParts.length === 1 ? this.cmdParts[0]! : Buffer.concat(this.cmdParts),
          );
          this.cmdParts = [];
          if (command.dataSetType === NO_DATASET) this.deliver({ pcId, command });
          else this.pendingCommand = { pcId, command };
        }
      } else {
        if (!this.pendingCommand) throw new PduError('dataset fragment without a command');
        if (this.pendingCommand.pcId !== pcId) throw new PduError('dataset on another presentation context');
        this.dsParts.push(value);
        if (mch & 2) {
          const datasetParts = this.dsParts;
          this.dsParts = [];
          const pc = this.pendingCommand;
          this.pendingCommand = undefined;
          this.deliver({ ...pc, datasetParts });
        }
      }
    }
  }

  private deliver(msg: DimseMessage): void {
    const cf = msg.command.commandField;
    if (cf & 0x8000) {
      const id = msg.command.messageIdBeingRespondedTo ?? -1;
      const st = msg.command.status ?? 0;
      if (st === 0xff00 || st === 0xff01) return; // pending responses: we only wait for final ones
      const w = this.waiters.get(id);
      if (w) {
        this.waiters.delete(id);
        w.resolve(msg);
      }
      return;
    }
    if (cf === C_CANCEL_RQ) {
      this.cancelled.add(msg.command.messageIdBeingRespondedTo ?? -1);
      return;
    }
    if (!this.hooks) return;
    const hooks = this.hooks;
    this.queue = this.queue
      .then(() => (this.closed ? undefined : hooks.onRequest(this, msg)))
      .catch(() => this.abort('request handler failed'));
  }

  /** Sends a command (and dataset) on a presentation context. */
  async send(pcId: number, command: Command, dataset?: Buffer): Promise<void> {
    if (this.closed) throw new Error('association closed');
    command.dataSetType = dataset ? HAS_DATASET : NO_DATASET;
    const parts = encodePData(pcId, true, encodeCommand(command), this.peerMaxPdu);
    if (dataset) parts.push(...encodePData(pcId, false, dataset, this.peerMaxPdu));
    this.socket.cork();
    let ok = true;
    for (const p of parts) ok = this.socket.write(p);
    this.socket.uncork();
    if (!ok && !this.closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
  }

  /** Sends a request and waits for its final response. */
  request(pcId: number, command: Command, dataset?: Buffer, timeoutMs = 60_000): Promise<DimseMessage> {
    const id = this.messageId();
    command.messageId = id;
    return new Promise<DimseMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error('no response from peer'));
      }, timeoutMs);
      this.waiters.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.send(pcId, command, dataset).catch((e: Error) => {
        this.waiters.delete(id);
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Requestor side: orderly release. */
  release(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 5000);
      this.onReleaseRp = () => {
        clearTimeout(t);
        resolve();
      };
      this.socket.write(RELEASE_RQ);
    });
  }

  /** Finds an accepted context for an abstract syntax (and, if given, transfer syntax). */
  findContext(abstractSyntax: string, transferSyntax?: string): PresentationContext | undefined {
    for (const c of this.contexts.values()) {
      if (c.abstractSyntax === abstractSyntax && (!transferSyntax || c.transferSyntax === transferSyntax))
        return c;
    }
    return undefined;
  }

  /** Requestor: connect and negotiate. */
  static async connect(opts: {
    host: string;
    port: number;
    callingAe: string;
    calledAe: string;
    contexts: ProposedContext[];
    timeoutMs?: number;
  }): Promise<Association> {
    const socket = net.connect({ host: opts.host, port: opts.port });
    const assoc = new Association(socket, undefined);
    assoc.callingAe = opts.callingAe;
    assoc.calledAe = opts.calledAe;
    const timeout = opts.timeoutMs ?? 15_000;
    const ac = await new Promise<AssociateAc>((resolve, reject) => {
      const t = setTimeout(() => {
        socket.destroy();
        reject(new Error('association timed out'));
      }, timeout);
      assoc.onAc = (r) => {
        clearTimeout(t);
        assoc.onAc = undefined;
        if (r instanceof Error) {
          socket.destroy();
          reject(r);
        } else resolve(r);
      };
      socket.once('error', (e) => assoc.onAc?.(e));
      socket.once('connect', () =>
        socket.write(
          encodeAssociateRq({
            calledAe: opts.calledAe,
            callingAe: opts.callingAe,
            contexts: opts.contexts,
            maxPduLength: OUR_MAX_PDU,
            roles: [],
          }),
        ),
      );
    });
    for (const c of ac.contexts) {
      const p = opts.contexts.find((x) => x.id === c.id);
      if (c.result === 0 && p)
        assoc.contexts.set(c.id, {
          id: c.id,
          abstractSyntax: p.abstractSyntax,
          transferSyntax: c.transferSyntax,
        });
    }
    assoc.peerMaxPdu = ac.maxPduLength;
    assoc.established = true;
    return assoc;
  }
}
