import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

const T = 30_000;

const text = async (page: Page, testId: string) =>
  ((await page.getByTestId(testId).first().textContent({ timeout: T })) ?? '').trim();

/** Doctor app: the upload page. */
export class UploadPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/upload`);
    await this.page.getByTestId('upload-drop').waitFor({ timeout: T });
    return this;
  }

  /** Picks files (as the "Choose files" button does) and waits until every one has a result. */
  async upload(paths: string[]): Promise<void> {
    await this.page.getByTestId('upload-files').setInputFiles(paths);
    await this.waitIdle();
  }

  /** Drops a file onto the drop zone, as a drag from the desktop does, and waits until every file has a result. */
  async drop(file: string): Promise<void> {
    const bytes = readFileSync(file).toString('base64');
    const dataTransfer = await this.page.evaluateHandle(
      ({ name, b64 }) => {
        const dt = new DataTransfer();
        const bin = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        dt.items.add(new File([bin], name));
        return dt;
      },
      { name: path.basename(file), b64: bytes },
    );
    const zone = this.page.getByTestId('upload-drop');
    await zone.dispatchEvent('dragenter', { dataTransfer });
    await zone.dispatchEvent('dragover', { dataTransfer });
    await zone.dispatchEvent('drop', { dataTransfer });
    await this.page.getByTestId('upload-overall').waitFor({ timeout: T });
    await this.waitIdle();
  }

  async waitIdle(): Promise<void> {
    await this.page
      .locator('[data-testid="upload-overall"][data-busy="false"]')
      .waitFor({ timeout: 120_000 });
  }

  row(name: string) {
    return this.page.locator(`[data-testid="upload-row"][data-name="${name}"]`);
  }

  async states(): Promise<Record<string, string>> {
    const rows = this.page.getByTestId('upload-row');
    const out: Record<string, string> = {};
    for (const r of await rows.all())
      out[(await r.getAttribute('data-name')) ?? ''] = (await r.getAttribute('data-state')) ?? '';
    return out;
  }

  async reason(name: string): Promise<string> {
    return ((await this.row(name).getByTestId('upload-reason').textContent({ timeout: T })) ?? '').trim();
  }

  async retryFailed(): Promise<void> {
    await this.page.getByTestId('upload-retry').click();
    await this.waitIdle();
  }

  overall(): Promise<string> {
    return text(this.page, 'upload-overall');
  }

  deidCounts(): Promise<string> {
    return text(this.page, 'deid-counts');
  }

  async burnedInFiles(): Promise<string[]> {
    await this.page.getByTestId('burned-in-warning').waitFor({ timeout: T });
    return (await this.page.getByTestId('burned-in-file').allTextContents()).map((s) => s.trim());
  }
}

/** Doctor app: "My studies" / "Shared with me". */
export class StudiesPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(scope: 'mine' | 'shared' = 'mine'): Promise<this> {
    await this.page.goto(`${this.baseUrl}/${scope === 'mine' ? 'studies' : 'shared'}`);
    await this.waitLoaded(scope);
    return this;
  }

  /** Waits for the table or the empty message of this tab. */
  async waitLoaded(scope: 'mine' | 'shared'): Promise<void> {
    await this.page
      .locator(
        `[data-testid="studies-page"][data-scope="${scope}"] :is([data-testid="studies-table"], [data-testid="studies-empty"])`,
      )
      .first()
      .waitFor({ timeout: T });
  }

  rows() {
    return this.page.getByTestId('study-row');
  }

  row(studyUid: string) {
    return this.page.locator(`[data-testid="study-row"][data-study-uid="${studyUid}"]`);
  }

  async search(filter: { patientName?: string; modality?: string; description?: string }): Promise<void> {
    if (filter.patientName !== undefined)
      await this.page.getByTestId('search-patient-name').fill(filter.patientName);
    if (filter.modality !== undefined)
      await this.page.getByTestId('search-modality').selectOption(filter.modality);
    if (filter.description !== undefined)
      await this.page.getByTestId('search-description').fill(filter.description);
    await this.page.getByTestId('search-submit').click();
  }

  empty(): Promise<string> {
    return text(this.page, 'studies-empty');
  }
}

/** Doctor app: one study (series, storage, access, sharing). */
export class StudyPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(studyId: string): Promise<this> {
    await this.page.goto(`${this.baseUrl}/studies/${studyId}`);
    return this;
  }

  async waitLoaded(): Promise<this> {
    await this.page.getByTestId('series-table').waitFor({ timeout: T });
    return this;
  }

  studyId(): string {
    return /\/studies\/([0-9a-f-]{36})/.exec(this.page.url())?.[1] ?? '';
  }

  error(): Promise<string> {
    return text(this.page, 'study-error');
  }

  async seriesCount(): Promise<number> {
    return this.page.getByTestId('series-row').count();
  }

  counts(): Promise<string> {
    return text(this.page, 'study-counts');
  }

  patient(): Promise<string> {
    return text(this.page, 'study-patient-name');
  }

  /** Creates a link (doctor or patient) and returns its URL as the page shows it. */
  async createLink(options: {
    kind: 'link' | 'patient';
    withIdentity: boolean;
    maxUses?: number;
  }): Promise<string> {
    await this.page.getByTestId(`link-kind-${options.kind}`).check();
    await this.page.getByTestId('link-identity').setChecked(options.withIdentity);
    await this.page.getByTestId('link-max-uses').fill(options.maxUses ? String(options.maxUses) : '');
    await this.page.getByTestId('link-create').click();
    await this.page
      .locator(`[data-testid="created-link"][data-kind="${options.kind}"]`)
      .waitFor({ timeout: T });
    await this.page.getByTestId('share-qr').locator('svg').waitFor({ timeout: T });
    return (await this.page.getByTestId('created-link-url').inputValue()).trim();
  }

  /** Clicks Copy and returns what the clipboard then holds. */
  async copyLink(): Promise<string> {
    await this.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await this.page.getByTestId('created-link-copy').click();
    await this.page.getByTestId('created-link-copy').filter({ hasText: 'Copied' }).waitFor({ timeout: T });
    return this.page.evaluate(() => navigator.clipboard.readText());
  }

  /** Finds a doctor in the directory by the start of their name and shares the study with them. */
  async shareWithDoctor(search: string, name: string, withIdentity: boolean): Promise<string> {
    await this.page.getByTestId('share-doctor-search').fill(search);
    await this.page.locator(`[data-testid="share-doctor-option"][data-name="${name}"]`).click({ timeout: T });
    await this.page.getByTestId('share-doctor-identity').setChecked(withIdentity);
    await this.page.getByTestId('share-doctor-submit').click();
    await this.page
      .locator(`[data-testid="access-row"][data-name="${name}"][data-via="user"]`)
      .waitFor({ timeout: T });
    return text(this.page, 'sharing-message');
  }

  async doctorOptions(search: string): Promise<string[]> {
    await this.page.getByTestId('share-doctor-search').fill(search);
    const results = this.page.locator(`[data-testid="share-doctor-results"][data-query="${search}"]`);
    await results.waitFor({ timeout: T });
    const rows = await results.getByTestId('share-doctor-option').all();
    return Promise.all(rows.map(async (r) => (await r.getAttribute('data-name')) ?? ''));
  }

  shareRow(kind: string, state: string) {
    return this.page.locator(`[data-testid="share-row"][data-kind="${kind}"][data-state="${state}"]`);
  }

  async revoke(kind: string): Promise<void> {
    await this.shareRow(kind, 'active').first().getByTestId('share-revoke').click();
    await this.shareRow(kind, 'revoked').first().waitFor({ timeout: T });
  }

  async accessNames(): Promise<string[]> {
    await this.page.getByTestId('access-row').first().waitFor({ timeout: T });
    const rows = await this.page.getByTestId('access-row').all();
    return Promise.all(rows.map(async (r) => (await r.getAttribute('data-name')) ?? ''));
  }

  async logActions(): Promise<string[]> {
    await this.page.getByTestId('access-log').locator('summary').click();
    const rows = await this.page.getByTestId('access-log-row').all();
    return Promise.all(rows.map(async (r) => (await r.getAttribute('data-action')) ?? ''));
  }
}

/** Doctor app: /s/<token>, which redeems the link and goes on to the study. */
export class RedeemPage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
  }

  error(): Promise<string> {
    return text(this.page, 'redeem-error');
  }
}
