import { randomBytes } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `medgrid import <folder|file>...`: sends every DICOM file under the paths to a MedGrid server with STOW-RS over
 * mutual TLS, as any third-party client would (the server de-identifies and stores them). One file per request, a
 * few in flight, so each file gets its own result; the bytes are streamed from disk, never held whole.
 */

export interface ImportOptions {
  url: string;
  pfx: Buffer;
  passphrase: string;
  ca?: string;
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

const USAGE = `usage: medgrid import <folder|file>... --url https://HOST:PORT --cert CLIENT.p12
       [--password-file FILE] [--ca CHAIN.pem] [--concurrency N]
  The PKCS#12 password comes from --password-file or MEDGRID_P12_PASSWORD.`;

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

function stowOne(file: string, size: number, opts: ImportOptions, agent: Agent): Promise<FileOutcome> {
  const boundary = `medgrid-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${size}\r\n\r\n`,
    'latin1',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  const url = new URL('dicomweb/studies', opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          'Content-Length': head.length + size + tail.length,
          Accept: 'application/dicom+json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status === 401 || status === 403) {
            reject(new ImportRefused(`the server refused the certificate (HTTP ${status})`));
            return;
          }
          let body: StowJson | undefined;
          try {
            body = text ? (JSON.parse(text) as StowJson) : undefined;
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
            resolve({ file, state: 'stored', burnedInTextRisk: burnedIn });
            return;
          }
          if (failed) {
            const code = Number(failed['00081197']?.Value?.[0]);
            const reason = String(
              failed['00091001']?.Value?.[0] ?? FAILURE_REASONS[code] ?? `failure ${code}`,
            );
            resolve({ file, state: 'rejected', reason });
            return;
          }
          resolve({ file, state: 'rejected', reason: `HTTP ${status}` });
        });
      },
    );
    req.on('error', (e) => reject(connectionProblem(e)));
    req.write(head);
    const body = createReadStream(file, { highWaterMark: 1 << 20 });
    body.on('error', (e) => req.destroy(e));
    body.on('end', () => req.end(tail));
    body.pipe(req, { end: false });
  });
}

/** The whole server refused us: stop instead of reporting every file as rejected. */
export class ImportRefused extends Error {}

/** A one-line explanation of a connection that failed before any HTTP answer. */
function connectionProblem(err: NodeJS.ErrnoException): ImportRefused {
  const code = err.code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code))
    return new ImportRefused(
      `the server's certificate is not trusted (${code}); pass its CA chain with --ca`,
    );
  if (['EPIPE', 'ECONNRESET'].includes(code) || code.startsWith('ERR_SSL'))
    return new ImportRefused(
      `the server closed the TLS connection (${code}): it does not accept this client certificate`,
    );
  if (code === 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE' || /mac verify/i.test(err.message))
    return new ImportRefused('the PKCS#12 password is wrong');
  return new ImportRefused(`cannot reach the server: ${code || err.message}`);
}

/** Before any file: who the server takes us for. Refusals end the run with one line. */
function whoAmI(opts: ImportOptions, agent: Agent): Promise<string> {
  const body = JSON.stringify({ query: '{ me { name } }' });
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('graphql', opts.url.endsWith('/') ? opts.url : `${opts.url}/`),
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(connectionProblem(e)));
        res.on('end', () => {
          let parsed: { data?: { me?: { name?: string } | null }; errors?: { message?: string }[] } = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // Not GraphQL: reported below with the HTTP status.
          }
          const name = parsed.data?.me?.name;
          if (name) resolve(name);
          else
            reject(
              new ImportRefused(
                `the server refused the certificate: ${parsed.errors?.[0]?.message ?? `HTTP ${res.statusCode}`}`,
              ),
            );
        });
      },
    );
    req.on('error', (e) => reject(connectionProblem(e)));
    req.end(body);
  });
}

export async function importFiles(paths: string[], opts: ImportOptions): Promise<ImportSummary> {
  const out = opts.out ?? (() => {});
  const agent = new Agent({
    keepAlive: true,
    maxSockets: opts.concurrency ?? 4,
    pfx: opts.pfx,
    passphrase: opts.passphrase,
    ...(opts.ca ? { ca: opts.ca } : {}),
  });
  const files = await listFiles(paths);
  let who: string;
  try {
    who = await whoAmI(opts, agent);
  } catch (e) {
    agent.destroy();
    // A PKCS#12 that does not open throws while the TLS context is made, before any connection.
    throw e instanceof ImportRefused ? e : connectionProblem(e as NodeJS.ErrnoException);
  }
  out(`importing ${files.length} files as ${who}`);
  const outcomes: FileOutcome[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      let outcome: FileOutcome;
      if (!(await isPart10(file))) outcome = { file, state: 'skipped', reason: 'not a DICOM Part 10 file' };
      else outcome = await stowOne(file, (await stat(file)).size, opts, agent);
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
    agent.destroy();
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
    options: {
      url: { type: 'string' },
      cert: { type: 'string' },
      'password-file': { type: 'string' },
      ca: { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  if (!positionals.length || !values.url || !values.cert) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const passphrase = values['password-file']
    ? (await readFile(values['password-file'], 'utf8')).trim()
    : (env.MEDGRID_P12_PASSWORD ?? '');
  const summary = await importFiles(positionals, {
    url: values.url,
    pfx: await readFile(values.cert),
    passphrase,
    ...(values.ca ? { ca: await readFile(values.ca, 'utf8') } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    out: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `stored ${summary.stored} (${summary.burnedInTextRisk} with a burned-in text warning), rejected ${summary.rejected}, skipped ${summary.skipped}\n`,
  );
  return summary.rejected ? 1 : 0;
}
