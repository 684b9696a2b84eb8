import { unzipSync } from 'fflate';
import { computed, reactive } from 'vue';

/** What de-identification did to one instance (the server's MEDGRID (0009,1002) JSON in the STOW-RS response). */
export interface DeidReport {
  alreadyDeidentified: boolean;
  removed: number;
  emptied: number;
  replaced: number;
  cleaned: number;
  uidsReplaced: number;
  burnedInTextRisk: boolean;
  burnedInReason: string | null;
}

export type UploadState = 'waiting' | 'uploading' | 'stored' | 'failed' | 'skipped';

export interface UploadItem {
  id: number;
  /** Path as dropped (folder/file, or archive.zip/inner/path). */
  name: string;
  data: Blob;
  size: number;
  loaded: number;
  state: UploadState;
  /** Why the server (or the browser) refused it. */
  reason: string | null;
  studyUid: string | null;
  deid: DeidReport | null;
}

type Json = Record<string, { Value?: unknown[] } | undefined>;
const value = <T>(o: Json | undefined, tag: string): T | undefined => o?.[tag]?.Value?.[0] as T | undefined;

/** Reads a STOW-RS JSON response for one instance: stored (with the de-identification report) or refused. */
export function readStowResponse(
  status: number,
  text: string,
): Pick<UploadItem, 'state' | 'reason' | 'studyUid' | 'deid'> {
  let body: Json & { error?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON (a proxy's error page): fall through to the status
  }
  const ok = value<Json>(body, '00081199');
  if ((status === 200 || status === 202) && ok) {
    const url = value<string>(ok, '00081190') ?? '';
    const report = value<string>(ok, '00091002');
    return {
      state: 'stored',
      reason: null,
      studyUid: /\/studies\/([^/]+)\//.exec(url)?.[1] ?? null,
      deid: report ? (JSON.parse(report) as DeidReport) : null,
    };
  }
  const failed = value<Json>(body, '00081198');
  if (failed) {
    const code = value<number>(failed, '00081197');
    const why = value<string>(failed, '00091001') ?? '';
    return {
      state: 'failed',
      reason: `${why}${code !== undefined ? ` (0x${code.toString(16).toUpperCase()})` : ''}`.trim(),
      studyUid: null,
      deid: null,
    };
  }
  return { state: 'failed', reason: body.error ?? `HTTP ${status}`, studyUid: null, deid: null };
}

/** Names that are never instances: DICOMDIR, macOS resource forks, hidden files. */
function skippable(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return base === 'DICOMDIR' || base.startsWith('.') || name.includes('__MACOSX/');
}

async function isZip(file: Blob, name: string): Promise<boolean> {
  if (/\.zip$/i.test(name)) return true;
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** Files from a drop: folders are walked, ZIP archives are unpacked in the browser. */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<{ name: string; data: Blob }[]> {
  const entries = [...dt.items]
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (!entries.length) return [...dt.files].map((f) => ({ name: f.name, data: f }));
  const out: { name: string; data: Blob }[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ name: prefix + entry.name, data: file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns the folder in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/** Files from an <input type=file> (multiple or webkitdirectory). */
export function filesFromInput(list: FileList | null): { name: string; data: Blob }[] {
  return [...(list ?? [])].map((f) => ({ name: f.webkitRelativePath || f.name, data: f }));
}

/** Expands ZIP archives into their members. */
export async function expandArchives(
  files: { name: string; data: Blob }[],
): Promise<{ name: string; data: Blob; reason?: string }[]> {
  const out: { name: string; data: Blob; reason?: string }[] = [];
  for (const f of files) {
    if (!(await isZip(f.data, f.name))) {
      out.push(f);
      continue;
    }
    try {
      const members = unzipSync(new Uint8Array(await f.data.arrayBuffer()));
      for (const [inner, bytes] of Object.entries(members)) {
        if (inner.endsWith('/')) continue;
        out.push({ name: `${f.name}/${inner}`, data: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
      }
    } catch (err) {
      out.push({ ...f, reason: `ZIP: ${(err as Error).message}` });
    }
  }
  return out;
}

/** Sends one instance to STOW-RS with the session cookie, reporting upload progress. */
export function stowOne(
  data: Blob,
  onProgress: (loaded: number) => void,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/dicomweb/studies');
    xhr.withCredentials = true;
    xhr.setRequestHeader('Content-Type', 'application/dicom');
    xhr.setRequestHeader('Accept', 'application/dicom+json');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => resolve({ status: 0, text: '{"error":"network error"}' });
    xhr.send(data);
  });
}

const CONCURRENCY = 3;

/** The upload queue of the upload page: add files, upload them a few at a time, retry the failed ones. */
export function createUploadQueue(send = stowOne) {
  let nextId = 1;
  const items = reactive<UploadItem[]>([]);
  let running = 0;

  function pump() {
    while (running < CONCURRENCY) {
      const item = items.find((i) => i.state === 'waiting');
      if (!item) return;
      running++;
      item.state = 'uploading';
      item.loaded = 0;
      void send(item.data, (loaded) => {
        item.loaded = Math.min(loaded, item.size);
      }).then(({ status, text }) => {
        Object.assign(item, readStowResponse(status, text));
        if (item.state === 'stored') item.loaded = item.size;
        running--;
        pump();
      });
    }
  }

  async function add(files: { name: string; data: Blob }[]) {
    for (const f of await expandArchives(files)) {
      const skip = skippable(f.name);
      const reason = 'reason' in f && f.reason ? f.reason : null;
      items.push({
        id: nextId++,
        name: f.name,
        data: f.data,
        size: f.data.size,
        loaded: 0,
        state: skip ? 'skipped' : reason ? 'failed' : 'waiting',
        reason,
        studyUid: null,
        deid: null,
      });
    }
    pump();
  }

  function retryFailed() {
    for (const i of items)
      if (i.state === 'failed') Object.assign(i, { state: 'waiting', reason: null, loaded: 0 });
    pump();
  }

  function clear() {
    items.splice(0, items.length, ...items.filter((i) => i.state === 'uploading' || i.state === 'waiting'));
  }

  const summary = computed(() => {
    const counted = items.filter((i) => i.state !== 'skipped');
    const total = counted.reduce((n, i) => n + i.size, 0);
    const loaded = counted.reduce((n, i) => n + (i.state === 'failed' ? i.size : i.loaded), 0);
    const stored = items.filter((i) => i.state === 'stored');
    const deid = stored.map((i) => i.deid).filter((d): d is DeidReport => !!d);
    const sum = (k: 'removed' | 'emptied' | 'replaced' | 'cleaned' | 'uidsReplaced') =>
      deid.reduce((n, d) => n + d[k], 0);
    return {
      total: counted.length,
      stored: stored.length,
      failed: items.filter((i) => i.state === 'failed').length,
      skipped: items.filter((i) => i.state === 'skipped').length,
      busy: items.some((i) => i.state === 'uploading' || i.state === 'waiting'),
      progress: total ? loaded / total : 0,
      studies: [...new Set(stored.map((i) => i.studyUid).filter((s): s is string => !!s))],
      deidentified: deid.filter((d) => !d.alreadyDeidentified).length,
      alreadyDeidentified: deid.filter((d) => d.alreadyDeidentified).length,
      removed: sum('removed'),
      emptied: sum('emptied'),
      replaced: sum('replaced'),
      cleaned: sum('cleaned'),
      uidsReplaced: sum('uidsReplaced'),
      burnedIn: stored.filter((i) => i.deid?.burnedInTextRisk),
    };
  });

  return { items, add, retryFailed, clear, summary };
}
