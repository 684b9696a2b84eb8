import type { Page } from 'playwright-core';

const T = 20_000;

/**
 * Reloads the page until `ready` says yes (each round waits for the page's own selectors, not a timer): the
 * worker fills the SEs and fails jobs in the background, and the admin pages do not poll by themselves.
 */
async function reloadUntil(
  page: Page,
  waitForPage: () => Promise<void>,
  ready: () => Promise<boolean>,
  what: string,
) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await waitForPage();
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`still not ${what} after 60 s`);
    await page.reload();
  }
}

export interface ChartBar {
  label: string;
  value: number;
  height: number;
}

/** Admin app: storage elements, charts, replication health. */
export class AdminStoragePage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/storage`);
    await this.waitFor();
    return this;
  }

  async waitFor(): Promise<void> {
    await this.page.getByTestId('se-row').first().waitFor({ timeout: T });
    await this.page.getByTestId('replication-health').waitFor({ timeout: T });
  }

  row(se: string) {
    return this.page.locator(`[data-testid="se-row"][data-se="${se}"]`);
  }

  async objects(se: string): Promise<number> {
    return Number((await this.row(se).getByTestId('se-objects').textContent())?.trim());
  }

  async bytes(se: string): Promise<string> {
    return ((await this.row(se).getByTestId('se-bytes').textContent()) ?? '').trim();
  }

  async status(se: string): Promise<string> {
    return ((await this.row(se).getByTestId('se-status').textContent()) ?? '').trim();
  }

  /** Waits (reloading) until the worker has stored at least `n` good replicas on the SE. */
  async waitForObjects(se: string, n: number): Promise<void> {
    await reloadUntil(
      this.page,
      () => this.waitFor(),
      async () => (await this.objects(se)) >= n,
      `${n} objects on ${se}`,
    );
  }

  async disable(se: string): Promise<string> {
    await this.row(se).getByTestId('se-disable').click();
    const msg = this.page.getByTestId('storage-message');
    await msg.waitFor({ timeout: T });
    await this.row(se).getByTestId('se-enable').waitFor({ timeout: T });
    return ((await msg.textContent()) ?? '').trim();
  }

  /** The bars of a chart (`chart-ingest`, `chart-per-se`) as drawn: label, value and drawn height. */
  async bars(chart: string): Promise<ChartBar[]> {
    const svg = this.page.getByTestId(chart).locator('svg');
    await svg.waitFor({ timeout: T });
    return svg.locator('[data-testid="chart-bar"]').evaluateAll((els) =>
      els.map((e) => ({
        label: e.getAttribute('data-label') ?? '',
        value: Number(e.getAttribute('data-value')),
        height: (e as SVGGraphicsElement).getBBox().height,
      })),
    );
  }

  async chartLabel(chart: string): Promise<string> {
    return (await this.page.getByTestId(chart).locator('svg').getAttribute('aria-label')) ?? '';
  }
}

/** Admin app: the storage job queue. */
export class AdminJobsPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/storage/jobs`);
    await this.waitFor();
    return this;
  }

  async waitFor(): Promise<void> {
    await this.page.getByTestId('failed-jobs').waitFor({ timeout: T });
    await this.page
      .locator('[data-testid="failed-job"], [data-testid="failed-empty"]')
      .first()
      .waitFor({ timeout: T });
  }

  async failed(): Promise<{ id: string; kind: string; reason: string }[]> {
    return this.page.locator('[data-testid="failed-job"]').evaluateAll((rows) =>
      rows.map((r) => ({
        id: r.getAttribute('data-job-id') ?? '',
        kind: r.getAttribute('data-kind') ?? '',
        reason: r.querySelector('[data-testid="job-reason"]')?.textContent?.trim() ?? '',
      })),
    );
  }

  /** Waits (reloading) until at least one failed job of the kind is listed. */
  async waitForFailed(kind: string): Promise<void> {
    await reloadUntil(
      this.page,
      () => this.waitFor(),
      async () => (await this.failed()).some((j) => j.kind === kind),
      `a failed ${kind} job listed`,
    );
  }

  async retry(id: string): Promise<string> {
    await this.page
      .locator(`[data-testid="failed-job"][data-job-id="${id}"]`)
      .getByTestId('job-retry')
      .click();
    const msg = this.page.getByTestId('jobs-message');
    await msg.waitFor({ timeout: T });
    return ((await msg.textContent()) ?? '').trim();
  }

  /** Waits (reloading) until the job is in neither the failed nor the pending list (it completed). */
  async waitUntilDone(id: string): Promise<void> {
    const sel = `[data-job-id="${id}"]`;
    await reloadUntil(
      this.page,
      () => this.waitFor(),
      async () => (await this.page.locator(sel).count()) === 0,
      `job ${id} completed`,
    );
  }
}

/** Admin app: Facilities and gateways (service accounts with roles and current certificate). */
export class AdminFacilitiesPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/facilities`);
    await this.page.getByTestId('account-row').first().waitFor({ timeout: T });
    return this;
  }

  /** Roles and current-certificate text of one service account, once its details have arrived. */
  async account(name: string): Promise<{ roles: string; certificate: string }> {
    const row = this.page.locator(`[data-testid="account-row"][data-name="${name}"]`);
    const roles = row.getByTestId('account-roles');
    await roles.filter({ hasText: /\S/ }).waitFor({ timeout: T });
    return {
      roles: (await roles.textContent())?.trim() ?? '',
      certificate: (await row.getByTestId('account-current-certificate').textContent())?.trim() ?? '',
    };
  }

  async names(): Promise<string[]> {
    return this.page
      .getByTestId('account-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name') ?? ''));
  }
}
