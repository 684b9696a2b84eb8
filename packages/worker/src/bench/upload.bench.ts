#!/usr/bin/env node
// Upload benchmark for bench/worker/run.sh (run by hand, not by the test suite).
//   upload.bench.js small <dir> <baseUrl> <parallel>   every file in <dir>, <parallel> puts at a time
//   upload.bench.js large <file> <url>                 one object; also reports the process's peak RSS
// Credentials from MEDGRID_ROBOT_CERT, MEDGRID_ROBOT_KEY, MEDGRID_SE_CAPATH. Prints one JSON line.
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openBackend } from '../backends/open.backend.js';
import { putWithRetry } from '../backends/put-retry.util.js';

function peakRssMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function main(): Promise<void> {
  const [mode, src, url, par] = process.argv.slice(2);
  if (!mode || !src || !url)
    throw new Error('usage: upload.bench.js small <dir> <baseUrl> <parallel> | large <file> <url>');
  const creds = {
    certFile: process.env.MEDGRID_ROBOT_CERT!,
    keyFile: process.env.MEDGRID_ROBOT_KEY!,
    caDir: process.env.MEDGRID_SE_CAPATH!,
  };
  if (mode === 'small') {
    const parallel = Number(par ?? 4);
    const files = readdirSync(src).sort();
    const backend = openBackend(url, creds, { name: 'bench', maxSockets: parallel });
    let next = 0;
    let bytes = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < files.length) {
          const f = files[next++]!;
          const p = join(src, f);
          const size = statSync(p).size;
          await putWithRetry(backend, () => createReadStream(p, { highWaterMark: 1 << 20 }), f, size);
          bytes += size;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await backend.close();
    console.log(
      JSON.stringify({
        mode,
        files: files.length,
        bytes,
        seconds,
        MBps: bytes / 1e6 / seconds,
        parallel,
        node: process.version,
      }),
    );
    return;
  }
  if (mode === 'large') {
    const base = url.slice(0, url.lastIndexOf('/'));
    const name = url.slice(url.lastIndexOf('/') + 1);
    const backend = openBackend(base, creds, { name: 'bench' });
    const size = statSync(src).size;
    let maxRss = 0;
    const sampler = setInterval(() => {
      maxRss = Math.max(maxRss, process.memoryUsage.rss());
    }, 20);
    const t0 = performance.now();
    const r = await backend.put(createReadStream(src, { highWaterMark: 1 << 20 }), name, size);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await backend.close();
    console.log(
      JSON.stringify({
        mode,
        bytes: r.size,
        seconds,
        MBps: r.size / 1e6 / seconds,
        adler32: r.adler32,
        sampledPeakRssMB: maxRss / 2 ** 20,
        processPeakRssMB: peakRssMB(),
        node: process.version,
      }),
    );
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e: Error & { detail?: string }) => {
  process.stderr.write(`upload.bench: ${e.message}${e.detail ? ` (${e.detail})` : ''}\n`);
  process.exit(1);
});
