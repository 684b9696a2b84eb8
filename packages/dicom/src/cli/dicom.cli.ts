import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { deidentify } from '../deid/deidentify.service.js';
import { profileByName } from '../deid/profile.model.js';
import { DicomError } from '../errors/dicom.error.js';
import { dumpText, dumpTree } from '../parse/dump.service.js';
import { parseDicom } from '../parse/parse.service.js';
import { encodeIdentity } from '../restore/identity.codec.js';
import { restore } from '../restore/restore.service.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const USAGE = `usage:
  medgrid dicom dump IN.dcm [--json] [--ts UID]
  medgrid dicom deidentify IN.dcm --out OUT.dcm --identity OUT.identity [--profile NAME] [--secret-file F] [--ts UID]
  medgrid dicom restore OUT.dcm --identity OUT.identity --out RESTORED.dcm
The secret comes from --secret-file, or MEDGRID_DEID_SECRET; profiles: basic (default), research, longitudinal.`;

class UsageError extends Error {}

function parseArgs(argv: string[]): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (v !== undefined) flags.set(k, v);
      else if (k === 'json' || k === 'help') flags.set(k, true);
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new UsageError(`--${k} needs a value`);
        flags.set(k, next);
        i++;
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

function need(flags: Map<string, string | true>, k: string): string {
  const v = flags.get(k);
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${k} is required`);
  return v;
}

/** Writes through a temporary name and renames, so a failure never leaves a partial output file. */
async function writeAtomic(path: string, data: Buffer): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return tmp;
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new DicomError('IO_ERROR', `cannot read input (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export async function runDicomCli(argv: string[], io?: Partial<CliIo>): Promise<number> {
  const out = io?.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io?.stderr ?? ((s: string) => process.stderr.write(s));
  const env = io?.env ?? process.env;
  try {
    const { positional, flags } = parseArgs(argv);
    const [cmd, input] = positional;
    if (flags.has('help') || !cmd) {
      out(`${USAGE}\n`);
      return cmd || flags.has('help') ? 0 : 2;
    }
    if (!input) throw new UsageError(`${cmd} needs an input file`);
    const ts = flags.get('ts');
    const parseOpts = typeof ts === 'string' ? { transferSyntaxUid: ts } : {};
    switch (cmd) {
      case 'dump': {
        const p = parseDicom(await readInput(input), parseOpts);
        out(flags.get('json') ? `${JSON.stringify(dumpTree(p), null, 1)}\n` : dumpText(p));
        return 0;
      }
      case 'deidentify': {
        const outPath = need(flags, 'out');
        const idPath = need(flags, 'identity');
        const profileName = (flags.get('profile') as string | undefined) ?? 'basic';
        const profile = profileByName(profileName);
        if (!profile) throw new UsageError(`unknown profile (known: basic, research, longitudinal)`);
        const secretFile = flags.get('secret-file');
        let secret: Buffer | undefined;
        if (typeof secretFile === 'string') {
          // A trailing newline (echo > file) is not part of the secret.
          const raw = await readInput(secretFile);
          let end = raw.length;
          while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
          secret = raw.subarray(0, end);
        } else if (env.MEDGRID_DEID_SECRET) secret = Buffer.from(env.MEDGRID_DEID_SECRET, 'utf8');
        if (!secret) throw new UsageError('no secret: pass --secret-file or set MEDGRID_DEID_SECRET');
        const r = deidentify(await readInput(input), { ...parseOpts, profile, secret });
        const tmpOut = await writeAtomic(outPath, r.deidentified);
        let tmpId: string | undefined;
        try {
          tmpId = await writeAtomic(idPath, encodeIdentity(r.identity));
          await rename(tmpOut, outPath);
          await rename(tmpId, idPath);
        } catch (e) {
          await rm(tmpOut, { force: true });
          if (tmpId) await rm(tmpId, { force: true });
          throw e;
        }
        const s = r.summary;
        out(
          `${JSON.stringify({
            newStudyUid: s.newStudyUid,
            newSeriesUid: s.newSeriesUid,
            newSopInstanceUid: s.newSopInstanceUid,
            burnedInTextRisk: s.burnedInTextRisk,
            actions: s.actions,
            profile: s.profile,
          })}\n`,
        );
        return 0;
      }
      case 'restore': {
        const outPath = need(flags, 'out');
        const idPath = need(flags, 'identity');
        const restored = restore(await readInput(input), await readInput(idPath));
        const tmp = await writeAtomic(outPath, restored);
        await rename(tmp, outPath);
        return 0;
      }
      default:
        throw new UsageError(`unknown command`);
    }
  } catch (e) {
    if (e instanceof DicomError) err(`${e.code}: ${e.message}\n`);
    else if (e instanceof UsageError) err(`USAGE: ${e.message}\n`);
    else {
      const code = (e as NodeJS.ErrnoException).code;
      err(`IO_ERROR: ${code ? `file system error ${code}` : 'unexpected failure'}\n`);
    }
    return e instanceof UsageError ? 2 : 1;
  }
}
