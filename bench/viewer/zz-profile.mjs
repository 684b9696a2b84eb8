import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, newContext } from '../../e2e/dist/support/browser.js';
import { developmentAccounts, SignInPage } from '../../e2e/dist/support/identity-pages.js';
import { startSystem } from '../../e2e/dist/support/system.js';
import { corpusDir, newUid, stowWithSession } from '../../e2e/dist/support/viewer-pages.js';

const N = 300;
const work = mkdtempSync(join(tmpdir(), 'prof-'));
const study = newUid(),
  series = newUid();
const files = [];
for (let i = 0; i < N; i++) {
  const f = join(work, `${i}.dcm`);
  copyFileSync(join(corpusDir, 'octave-dicom/CT-MONO2-16-ankle.dcm'), f);
  const set = {
    '(0020,000d)': study,
    '(0020,000e)': series,
    '(0008,0018)': newUid(),
    '(0020,0013)': String(i + 1),
    '(0020,0032)': `-128\\-128\\${i}`,
    '(0020,0037)': '1\\0\\0\\0\\1\\0',
    '(0028,0030)': '0.5\\0.5',
  };
  execFileSync('dcmodify', ['-nb', ...Object.entries(set).flatMap(([t, v]) => ['-i', `${t}=${v}`]), f], {
    stdio: 'pipe',
  });
  files.push(f);
}
const system = await startSystem();
const browser = await launchBrowser();
const context = await newContext(browser);
const page = await context.newPage();
await page.goto(`${system.baseUrl}/sign-in`);
await new SignInPage(page).signIn(developmentAccounts(system.dataDir).doctor);
let uid = '';
for (let i = 0; i < files.length; i += 30)
  uid = await stowWithSession(
    page,
    system.baseUrl,
    files.slice(i, i + 30).map((f) => readFileSync(f)),
  );
await page.close();
const url = `${system.baseUrl}/studies/${encodeURIComponent(uid)}/view${process.argv[2] ?? ''}`;
let last;
for (let r = 0; r < 5; r++) {
  await last?.getByTestId('loading-indicator').waitFor({ state: 'detached', timeout: 300_000 });
  await last?.close();
  last = await context.newPage();
  const cdp = await context.newCDPSession(last);
  const profile = r === 4;
  if (profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  await last.goto(url);
  await last.waitForFunction(() => window.__medgridViewer?.firstImageAt != null, undefined, {
    timeout: 60_000,
  });
  const at = await last.evaluate(() => window.__medgridViewer.firstImageAt);
  const marks = await last.evaluate(() => {
    const out = {};
    for (const m of performance.getEntriesByType('mark')) out[m.name] = Math.round(m.startTime);
    for (const r of performance.getEntriesByType('resource'))
      out[r.name.replace(/^https?:\/\/[^/]+/, '').slice(0, 60)] =
        `${Math.round(r.startTime)}-${Math.round(r.responseEnd)}`;
    return out;
  });
  console.log(`run ${r}: ${at.toFixed(0)} ms`, JSON.stringify(marks));
  if (profile) {
    const { profile: p } = await cdp.send('Profiler.stop');
    writeFileSync('/tmp/prof/profile.json', JSON.stringify(p));
  }
}
await browser.close();
await system.stop();
