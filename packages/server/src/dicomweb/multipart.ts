/** Minimal multipart/related reader and writer for DICOMweb (PS3.18 §8.6). */

export interface Part {
  contentType: string | undefined;
  body: Buffer;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function typeParamOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /[;\s]type=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return (m ? (m[1] ?? m[2]) : undefined)?.toLowerCase();
}

/** Splits a multipart body; throws on a malformed body. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new Error('multipart boundary not found');
  for (;;) {
    pos += delim.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing delimiter
    // skip transport padding up to CRLF
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) throw new Error('truncated multipart body');
    const headerEnd = body.indexOf('\r\n\r\n', eol);
    let headers = '';
    let start: number;
    if (headerEnd === eol) {
      start = eol + 4;
    } else {
      if (headerEnd < 0) throw new Error('truncated multipart headers');
      headers = body.subarray(eol + 2, headerEnd).toString('latin1');
      start = headerEnd + 4;
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), start);
    if (next < 0) throw new Error('multipart part without a closing boundary');
    const ct = /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim();
    parts.push({ contentType: ct, body: body.subarray(start, next) });
    pos = next + 2;
  }
  return parts;
}

/** Builds a multipart/related body from parts of one type. */
export function buildMultipart(boundary: string, type: string, bodies: Buffer[]): Buffer {
  const chunks: Buffer[] = [];
  for (const b of bodies) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\nContent-Length: ${b.length}\r\n\r\n`));
    chunks.push(b, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
