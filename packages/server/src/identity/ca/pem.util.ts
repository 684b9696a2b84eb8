export type PemOrDer = string | Uint8Array;

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export interface PemBlock {
  label: string;
  der: Buffer;
}

export function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = (m[2] ?? '').replace(/\s+/g, '');
    // Malformed blocks are skipped; callers report "no usable block" in their own terms.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    blocks.push({ label: m[1] ?? '', der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Accepts DER bytes, PEM bytes or a PEM string; returns DER of the first block whose label is in `labels`.
 * Returns undefined when PEM text holds no matching block.
 */
export function pemOrDerToDer(input: PemOrDer, labels: readonly string[]): Buffer | undefined {
  if (typeof input !== 'string') {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    // DER always starts with a SEQUENCE tag; anything else is treated as PEM text.
    if (buf[0] === 0x30) return Buffer.from(buf);
    input = buf.toString('latin1');
  }
  for (const block of parsePemBlocks(input)) {
    if (labels.includes(block.label)) return block.der;
  }
  return undefined;
}

/** All certificates from a PEM bundle (or a single DER certificate). */
export function certificatesDer(input: PemOrDer | readonly PemOrDer[]): Buffer[] {
  const items = Array.isArray(input) ? input : [input as PemOrDer];
  const out: Buffer[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && item[0] === 0x30) {
      out.push(Buffer.from(item));
      continue;
    }
    const text = typeof item === 'string' ? item : Buffer.from(item).toString('latin1');
    for (const b of parsePemBlocks(text)) if (b.label === 'CERTIFICATE') out.push(b.der);
  }
  return out;
}
