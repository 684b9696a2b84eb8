import { deflateRawSync } from 'node:zlib';
import { encodeElements, type SimpleElement, writeHeader } from './element.writer.js';
import { transferSyntaxOf } from './transfer-syntax.table.js';

/** Builds a Part 10 file (preamble, meta, dataset) from simple elements; used for synthetic test and bench data. */
export function writePart10(
  dataset: readonly SimpleElement[],
  opts: { transferSyntaxUid: string; sopClassUid: string; sopInstanceUid: string },
): Buffer {
  const ts = transferSyntaxOf(opts.transferSyntaxUid);
  const meta = encodeElements(
    [
      { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
      { tag: 0x00020002, vr: 'UI', value: opts.sopClassUid },
      { tag: 0x00020003, vr: 'UI', value: opts.sopInstanceUid },
      { tag: 0x00020010, vr: 'UI', value: opts.transferSyntaxUid },
      { tag: 0x00020012, vr: 'UI', value: '2.25.1' },
    ],
    { littleEndian: true, explicitVr: true },
  );
  const sorted = [...dataset].sort((a, b) => a.tag - b.tag);
  let body = encodeElements(sorted, { littleEndian: ts.littleEndian, explicitVr: ts.explicitVr });
  if (ts.deflated) body = deflateRawSync(body);
  const head = Buffer.alloc(144);
  head.write('DICM', 128, 'latin1');
  writeHeader(head, 132, 0x00020000, 'UL', 4, { littleEndian: true, explicitVr: true });
  head.writeUInt32LE(meta.length, 140);
  return Buffer.concat([head, meta, body]);
}
