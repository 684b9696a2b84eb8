import { randomBytes } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ApiClient,
  type ApiClientOptions,
  CLIENT_ARGS,
  CLIENT_USAGE,
  CliRefusal,
  clientOptionsFrom,
} from './api-client.js';

/**
 * `medgrid import <folder|file>...`: sends every DICOM file under the paths to a MedGrid server with STOW-RS over
 * mutual TLS, as any third-party client would (the server de-identifies and stores them). One file per request, a
 * few in flight, so each file gets its own result; the bytes are streamed from disk, never held whole.
 */

export interface ImportOptions extends ApiClientOptions {
  concurrency?: number;
  out?: (line: string) => void;
}

export type FileOutcome =
  | { file: string; state: 'stored'; burnedInTextRisk: boolean }
  | { file: string; state: 'rejected'; reason: string }
  | { file: string; state: 'skipped'; reason: string };

export interface ImportSummary {
  stored: number;
  /** Stored, but the server flagged a risk of text burned into the pixels: review before sharing. */
  burnedInTextRisk: number;
  rejected: number;
  skipped: number;
  outcomes: FileOutcome[];
}

const USAGE = `usage: medgrid import <folder|file>... ${CLIENT_USAGE}\n  [--concurrency N] requests in flight (default 4)`;

/** Regular files under `paths`, depth first, in name order; symlinks are not followed. */
export async function listFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isFile()) {
      out.push(p);
      return;
    }
    if (!s.isDirectory()) return;
    const entries: Dirent[] = await readdir(p, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const child = path.join(p, e.name);
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  for (const p of paths) await walk(p);
  return out;
}

/** DICOM Part 10: "DICM" after the 128-byte preamble. Anything else is skipped, not sent. */
async function isPart10(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 128);
    return bytesRead === 4 && b.toString('latin1') === 'DICM';
  } finally {
    await fh.close();
  }
}

interface StowJson {
  '00081198'?: { Value?: Record<string, { Value?: unknown[] }>[] };
  '00081199'?: { Value?: Record<string, { Value?: unknown[] }>[] };
  '00081190'?: { Value?: string[] };
}

// Used only when the server gives no reason of its own (MEDGRID private (0009,1001)).
const FAILURE_REASONS: Record<number, string> = {
  272: 'processing failure',
  273: 'duplicate SOP instance',
  290: 'SOP class not supported',
  42752: 'server out of resources',
  43264: 'data set does not match the SOP class',
  49152: 'cannot understand: not a valid DICOM object',
};

async function stowOne(file: string, size: number, api: ApiClient): Promise<FileOutcome> {
  const boundary = `medgrid-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${size}\r\n\r\n`,
    'latin1',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  const r = await api.post(
    'dicomweb/studies',
    {
      'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      'Content-Length': head.length + size + tail.length,
      Accept: 'application/dicom+json',
    },
    head,
    createReadStream(file, { highWaterMark: 1 << 20 }),
    tail,
  );
  if (r.status === 401 || r.status === 403)
    throw new CliRefusal(`the server refused the certificate (HTTP ${r.status})`);
  let body: StowJson | undefined;
  try {
    body = r.text ? (JSON.parse(r.text) as StowJson) : undefined;
  } catch {
    body = undefined;
  }
  const ok = body?.['00081199']?.Value?.[0];
  const failed = body?.['00081198']?.Value?.[0];
  if (ok) {
    let burnedIn = false;
    try {
      burnedIn = JSON.parse(String(ok['00091002']?.Value?.[0] ?? '{}')).burnedInTextRisk === true;
    } catch {
      // No MEDGRID report: nothing to warn about.
    }
    return { file, state: 'stored', burnedInTextRisk: burnedIn };
  }
  if (failed) {
    const code = Number(failed['00081197']?.Value?.[0]);
    const reason = String(failed['00091001']?.Value?.[0] ?? FAILURE_REASONS[code] ?? `failure ${code}`);
    return { file, state: 'rejected', reason };
  }
  return { file, state: 'rejected', reason: `HTTP ${r.status}` };
}

export async function importFiles(paths: string[], opts: ImportOptions): Promise<ImportSummary> {
  const out = opts.out ?? (() => {});
  const api = new ApiClient({ ...opts, maxSockets: opts.concurrency ?? 4 });
  const files = await listFiles(paths);
  try {
    out(`importing ${files.length} files as ${await api.whoAmI()}`);
  } catch (e) {
    api.close();
    throw e;
  }
  const outcomes: FileOutcome[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      let outcome: FileOutcome;
      if (!(await isPart10(file))) outcome = { file, state: 'skipped', reason: 'not a DICOM Part 10 file' };
      else outcome = await stowOne(file, (await stat(file)).size, api);
      outcomes[i] = outcome;
      out(
        outcome.state === 'stored'
          ? `stored ${file}${outcome.burnedInTextRisk ? ' (warning: may have text burned into the pixels)' : ''}`
          : `${outcome.state} ${file}: ${outcome.reason}`,
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  } finally {
    api.close();
  }
  const count = (s: FileOutcome['state']) => outcomes.filter((o) => o.state === s).length;
  return {
    stored: count('stored'),
    burnedInTextRisk: outcomes.filter((o) => o.state === 'stored' && o.burnedInTextRisk).length,
    rejected: count('rejected'),
    skipped: count('skipped'),
    outcomes,
  };
}

/** CLI entry: exit 0 when nothing was rejected, 1 when some files were, 2 on bad usage. */
export async function importCommand(argv: string[], env = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CLIENT_ARGS, concurrency: { type: 'string' } },
  });
  const client = await clientOptionsFrom(values, env);
  if (!positionals.length || !client) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const summary = await importFiles(positionals, {
    ...client,
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    out: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `stored ${summary.stored} (${summary.burnedInTextRisk} with a burned-in text warning), rejected ${summary.rejected}, skipped ${summary.skipped}\n`,
  );
  return summary.rejected ? 1 : 0;
}
