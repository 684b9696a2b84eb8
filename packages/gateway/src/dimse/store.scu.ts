import type { RetrieveRow } from '../vault/vault.service.js';
import { Association } from './association.js';
import { C_STORE_RQ } from './command.js';
import type { ProposedContext } from './pdu.js';

export interface Peer {
  aeTitle: string;
  host: string;
  port: number;
}

/** Parses `AE=host:port,AE2=host:port` (MEDGRID_GATEWAY_PEERS). */
export function parsePeers(raw: string): Map<string, Peer> {
  const out = new Map<string, Peer>();
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^=]{1,16})=(.+):(\d{1,5})$/.exec(part);
    if (!m || Number(m[3]) > 65535) throw new Error(`bad peer "${part}" (expected AE=host:port)`);
    const aeTitle = m[1]!.trim();
    out.set(aeTitle, { aeTitle, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) });
  }
  return out;
}

/**
 * Opens an association to a C-MOVE destination with one presentation context per (SOP class, transfer
 * syntax) to send, each proposing only the syntax the instance was received in (no transcoding).
 */
export async function sendToPeer(peer: Peer, ourAe: string, rows: RetrieveRow[]) {
  const pairs = [...new Set(rows.map((r) => `${r.sop_class_uid}|${r.transfer_syntax_uid}`))].slice(0, 128);
  const contexts: ProposedContext[] = pairs.map((p, i) => {
    const [as, ts] = p.split('|') as [string, string];
    return { id: 2 * i + 1, abstractSyntax: as, transferSyntaxes: [ts] };
  });
  const assoc = await Association.connect({
    host: peer.host,
    port: peer.port,
    callingAe: ourAe,
    calledAe: peer.aeTitle,
    contexts,
  });
  return {
    async store(
      row: RetrieveRow,
      dataset: Buffer,
      originatorAe: string,
      originatorMessageId: number,
    ): Promise<number> {
      const ctx = assoc.findContext(row.sop_class_uid, row.transfer_syntax_uid);
      if (!ctx) return 0xa702;
      const rsp = await assoc.request(
        ctx.id,
        {
          commandField: C_STORE_RQ,
          affectedSopClassUid: row.sop_class_uid,
          affectedSopInstanceUid: row.sop_instance_uid,
          priority: 0,
          dataSetType: 0,
          moveOriginatorAe: originatorAe,
          moveOriginatorMessageId: originatorMessageId,
        },
        dataset,
      );
      return rsp.command.status ?? 0xc000;
    },
    close: () => assoc.release(),
  };
}
