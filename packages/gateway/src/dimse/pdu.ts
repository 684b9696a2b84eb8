/**
 * DICOM Upper Layer PDUs (PS3.8 section 9.3): encoders and decoders for association negotiation,
 * P-DATA-TF, release and abort. Everything here is pure and bounds-checked; a malformed PDU throws
 * PduError, which the association turns into an A-ABORT.
 */

export const PDU_ASSOCIATE_RQ = 0x01;
export const PDU_ASSOCIATE_AC = 0x02;
export const PDU_ASSOCIATE_RJ = 0x03;
export const PDU_P_DATA = 0x04;
export const PDU_RELEASE_RQ = 0x05;
export const PDU_RELEASE_RP = 0x06;
export const PDU_ABORT = 0x07;

export const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
export const IMPLEMENTATION_CLASS_UID = '2.25.307352938723190836914151236471092512001';
export const IMPLEMENTATION_VERSION = 'MEDGRID_GW_1';

export class PduError extends Error {
  readonly code = 'PDU_MALFORMED';
}

export interface ProposedContext {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export interface RoleSelection {
  sopClassUid: string;
  scu: boolean;
  scp: boolean;
}

export interface AssociateRq {
  calledAe: string;
  callingAe: string;
  contexts: ProposedContext[];
  maxPduLength: number;
  implementationClassUid: string;
  roles: RoleSelection[];
}

export interface AcceptedContext {
  id: number;
  /** 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported */
  result: number;
  transferSyntax: string;
  /** Filled in by the requester side: the abstract syntax it proposed with this id. */
  abstractSyntax?: string;
}

export interface AssociateAc {
  calledAe: string;
  callingAe: string;
  contexts: AcceptedContext[];
  maxPduLength: number;
  roles: RoleSelection[];
}

function ae(s: string): Buffer {
  const b = Buffer.alloc(16, 0x20);
  b.write(s.slice(0, 16), 0, 'latin1');
  return b;
}

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function uidItem(type: number, uid: string): Buffer {
  return item(type, Buffer.from(uid, 'latin1'));
}

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function roleItem(r: RoleSelection): Buffer {
  const uid = Buffer.from(r.sopClassUid, 'latin1');
  const b = Buffer.alloc(2 + uid.length + 2);
  b.writeUInt16BE(uid.length, 0);
  uid.copy(b, 2);
  b[2 + uid.length] = r.scu ? 1 : 0;
  b[3 + uid.length] = r.scp ? 1 : 0;
  return item(0x54, b);
}

function userInfo(maxPdu: number, roles: RoleSelection[]): Buffer {
  const max = Buffer.alloc(4);
  max.writeUInt32BE(maxPdu, 0);
  return item(
    0x50,
    Buffer.concat([
      item(0x51, max),
      uidItem(0x52, IMPLEMENTATION_CLASS_UID),
      ...roles.map(roleItem),
      uidItem(0x55, IMPLEMENTATION_VERSION),
    ]),
  );
}

function fixedHeader(calledAe: string, callingAe: string): Buffer {
  const b = Buffer.alloc(68);
  b.writeUInt16BE(1, 0);
  ae(calledAe).copy(b, 4);
  ae(callingAe).copy(b, 20);
  return b;
}

export function encodeAssociateRq(rq: Omit<AssociateRq, 'implementationClassUid'>): Buffer {
  const ctx = rq.contexts.map((c) =>
    item(
      0x20,
      Buffer.concat([
        Buffer.from([c.id, 0, 0, 0]),
        uidItem(0x30, c.abstractSyntax),
        ...c.transferSyntaxes.map((t) => uidItem(0x40, t)),
      ]),
    ),
  );
  return pdu(
    PDU_ASSOCIATE_RQ,
    Buffer.concat([
      fixedHeader(rq.calledAe, rq.callingAe),
      uidItem(0x10, APPLICATION_CONTEXT),
      ...ctx,
      userInfo(rq.maxPduLength, rq.roles),
    ]),
  );
}

export function encodeAssociateAc(ac: AssociateAc): Buffer {
  const ctx = ac.contexts.map((c) =>
    item(0x21, Buffer.concat([Buffer.from([c.id, 0, c.result, 0]), uidItem(0x40, c.transferSyntax)])),
  );
  return pdu(
    PDU_ASSOCIATE_AC,
    Buffer.concat([
      fixedHeader(ac.calledAe, ac.callingAe),
      uidItem(0x10, APPLICATION_CONTEXT),
      ...ctx,
      userInfo(ac.maxPduLength, ac.roles),
    ]),
  );
}

/** result 1 permanent / 2 transient; source 1 service user; reason 1 no reason, 3 calling AE, 7 called AE. */
export function encodeAssociateRj(result: number, source: number, reason: number): Buffer {
  return pdu(PDU_ASSOCIATE_RJ, Buffer.from([0, result, source, reason]));
}

export function encodeAbort(source = 2, reason = 0): Buffer {
  return pdu(PDU_ABORT, Buffer.from([0, 0, source, reason]));
}

export const RELEASE_RQ = pdu(PDU_RELEASE_RQ, Buffer.alloc(4));
export const RELEASE_RP = pdu(PDU_RELEASE_RP, Buffer.alloc(4));

function trimUid(b: Buffer): string {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0 || b[end - 1] === 0x20)) end--;
  return b.toString('latin1', 0, end);
}

function walkItems(
  body: Buffer,
  start: number,
  end: number,
  fn: (type: number, value: Buffer) => void,
): void {
  let pos = start;
  while (pos < end) {
    if (pos + 4 > end) throw new PduError('item header runs past the PDU');
    const type = body[pos]!;
    const len = body.readUInt16BE(pos + 2);
    if (pos + 4 + len > end) throw new PduError('item runs past the PDU');
    fn(type, body.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
}

function parseUserInfo(
  v: Buffer,
  out: { maxPduLength: number; implementationClassUid: string; roles: RoleSelection[] },
) {
  walkItems(v, 0, v.length, (t, sv) => {
    if (t === 0x51) {
      if (sv.length !== 4) throw new PduError('bad maximum length item');
      out.maxPduLength = sv.readUInt32BE(0);
    } else if (t === 0x52) out.implementationClassUid = trimUid(sv);
    else if (t === 0x54) {
      if (sv.length < 2) throw new PduError('bad role selection item');
      const n = sv.readUInt16BE(0);
      if (sv.length < 4 + n) throw new PduError('bad role selection item');
      out.roles.push({
        sopClassUid: trimUid(sv.subarray(2, 2 + n)),
        scu: sv[2 + n] === 1,
        scp: sv[3 + n] === 1,
      });
    }
  });
}

function checkFixed(body: Buffer): { calledAe: string; callingAe: string } {
  if (body.length < 68) throw new PduError('association PDU too short');
  const aeTitle = (b: Buffer) => b.toString('latin1').trim();
  return { calledAe: aeTitle(body.subarray(4, 20)), callingAe: aeTitle(body.subarray(20, 36)) };
}

export function decodeAssociateRq(body: Buffer): AssociateRq {
  const out: AssociateRq = {
    ...checkFixed(body),
    contexts: [],
    maxPduLength: 0,
    implementationClassUid: '',
    roles: [],
  };
  walkItems(body, 68, body.length, (type, v) => {
    if (type === 0x20) {
      if (v.length < 4) throw new PduError('bad presentation context item');
      const ctx: ProposedContext = { id: v[0]!, abstractSyntax: '', transferSyntaxes: [] };
      walkItems(v, 4, v.length, (t, sv) => {
        if (t === 0x30) ctx.abstractSyntax = trimUid(sv);
        else if (t === 0x40) ctx.transferSyntaxes.push(trimUid(sv));
      });
      out.contexts.push(ctx);
    } else if (type === 0x50) parseUserInfo(v, out);
  });
  return out;
}

export function decodeAssociateAc(body: Buffer): AssociateAc {
  const out: AssociateAc & { implementationClassUid: string } = {
    ...checkFixed(body),
    contexts: [],
    maxPduLength: 0,
    roles: [],
    implementationClassUid: '',
  };
  walkItems(body, 68, body.length, (type, v) => {
    if (type === 0x21) {
      if (v.length < 4) throw new PduError('bad presentation context item');
      const ctx: AcceptedContext = { id: v[0]!, result: v[2]!, transferSyntax: '' };
      walkItems(v, 4, v.length, (t, sv) => {
        if (t === 0x40) ctx.transferSyntax = trimUid(sv);
      });
      out.contexts.push(ctx);
    } else if (type === 0x50) parseUserInfo(v, out);
  });
  return out;
}

/**
 * Splits one DIMSE message part (command or dataset) into P-DATA-TF PDUs of at most `maxPdu` bytes
 * (0 = no limit), one PDV per PDU.
 */
export function encodePData(pcId: number, command: boolean, data: Buffer, maxPdu: number): Buffer[] {
  const maxFrag = maxPdu > 0 ? Math.max(maxPdu - 6, 16) : 0x7ffffff0;
  const out: Buffer[] = [];
  let pos = 0;
  do {
    const n = Math.min(maxFrag, data.length - pos);
    const last = pos + n >= data.length;
    const h = Buffer.allocUnsafe(12);
    h[0] = PDU_P_DATA;
    h[1] = 0;
    h.writeUInt32BE(n + 6, 2);
    h.writeUInt32BE(n + 2, 6);
    h[10] = pcId;
    h[11] = (command ? 1 : 0) | (last ? 2 : 0);
    out.push(h, data.subarray(pos, pos + n));
    pos += n;
  } while (pos < data.length);
  return out;
}
