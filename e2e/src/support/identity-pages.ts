import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';

/** A PKCS#12 file and its password, as the development accounts or the admin app hand them out. */
export interface Credential {
  p12Path: string;
  password: string;
}

/** The development administrator and doctor that `medgrid start` creates on its first development start. */
export function developmentAccounts(dataDir: string): { admin: Credential; doctor: Credential } {
  const text = readFileSync(path.join(dataDir, 'development', 'accounts.txt'), 'utf8');
  const find = (who: string): Credential => {
    const m = new RegExp(`development ${who}: (\\S+) password (\\S+)`).exec(text);
    if (!m?.[1] || !m[2]) throw new Error(`no development ${who} in accounts.txt:\n${text}`);
    return { p12Path: m[1], password: m[2] };
  };
  return { admin: find('administrator'), doctor: find('doctor') };
}

const T = 20_000;

// Downloads (PKCS#12 files, CSV exports) go into one temporary folder, removed by removeDownloads().
let downloads: string | undefined;
function downloadPath(name: string): string {
  downloads ??= mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-downloads-'));
  return path.join(downloads, name);
}
export function removeDownloads(): void {
  if (downloads) rmSync(downloads, { recursive: true, force: true });
  downloads = undefined;
}

/** The shared certificate sign-in page (both apps). */
export class SignInPage {
  constructor(readonly page: Page) {}

  async waitFor(): Promise<this> {
    await this.page.getByTestId('sign-in-form').waitFor({ timeout: T });
    return this;
  }

  /** Fills the form and submits; does not wait for the outcome. */
  async submit(
    credential: Credential,
    options: { remember?: boolean; password?: string } = {},
  ): Promise<void> {
    await this.waitFor();
    await this.page.getByTestId('sign-in-file').setInputFiles(credential.p12Path);
    await this.page.getByTestId('sign-in-password').fill(options.password ?? credential.password);
    if (options.remember) await this.page.getByTestId('sign-in-remember').check();
    await this.page.getByTestId('sign-in-submit').click();
  }

  /** Signs in and waits until the app shows the signed-in user. */
  async signIn(credential: Credential, options: { remember?: boolean } = {}): Promise<void> {
    await this.submit(credential, options);
    await this.page.getByTestId('session-name').waitFor({ timeout: T });
  }

  async error(): Promise<string> {
    const el = this.page.getByTestId('sign-in-error');
    await el.waitFor({ timeout: T });
    return (await el.textContent())?.trim() ?? '';
  }

  async notice(timeout = T): Promise<string> {
    const el = this.page.getByTestId('sign-in-notice');
    await el.waitFor({ timeout });
    return (await el.textContent())?.trim() ?? '';
  }
}

/** Admin app: certificates. */
export class CertificatesPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/certificates`);
    await this.page.getByTestId('crl-number').waitFor({ timeout: T });
    return this;
  }

  /** Issues a certificate with a server-generated key for a new account; downloads the PKCS#12. */
  async issueForNewAccount(name: string, facility: string): Promise<Credential & { serial: string }> {
    await this.page.getByTestId('issue-user-new').check();
    await this.page.getByTestId('issue-name').fill(name);
    await this.page.getByTestId('issue-facility').fill(facility);
    await this.page.getByTestId('issue-mode-server').check();
    await this.page.getByTestId('issue-submit').click();
    const password = (
      (await this.page.getByTestId('issued-password').textContent({ timeout: T })) ?? ''
    ).trim();
    const message = (await this.page.getByTestId('issued-message').textContent()) ?? '';
    const serial = /([0-9a-f]{8,})/.exec(message)?.[1] ?? '';
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout: T }),
      this.page.getByTestId('download-p12').click(),
    ]);
    const p12Path = downloadPath(download.suggestedFilename());
    await download.saveAs(p12Path);
    await this.page.getByTestId('issued-dismiss').click();
    return { p12Path, password, serial };
  }

  row(serial: string) {
    return this.page.locator(`[data-testid="certificate-row"][data-serial="${serial}"]`);
  }

  async revoke(serial: string, reason: string): Promise<void> {
    await this.row(serial).getByTestId('certificate-revoke').click();
    await this.page.getByTestId('revoke-reason').selectOption(reason);
    await this.page.getByTestId('revoke-confirm').click();
    await this.page.getByTestId('certificates-message').waitFor({ timeout: T });
  }

  async status(serial: string): Promise<string> {
    return (
      (await this.row(serial).getByTestId('certificate-status').textContent({ timeout: T })) ?? ''
    ).trim();
  }
}

/** Admin app: members and the request queue. */
export class MembersPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(queue: boolean): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/${queue ? 'requests' : 'members'}`);
    await this.page.getByTestId('members-table').waitFor({ timeout: T });
    return this;
  }

  row(userName: string) {
    return this.page.locator(`[data-testid="member-row"][data-user-name="${userName}"]`);
  }

  async approve(userName: string): Promise<void> {
    await this.row(userName).getByTestId('member-approve').click({ timeout: T });
    await this.page.getByTestId('members-message').waitFor({ timeout: T });
  }

  async suspend(userName: string, reason: string): Promise<void> {
    await this.row(userName).getByTestId('member-suspend').click({ timeout: T });
    await this.row(userName).getByTestId('member-reason').fill(reason);
    await this.row(userName).getByTestId('member-reason-confirm').click();
    await this.page.getByTestId('members-message').waitFor({ timeout: T });
  }

  async status(userName: string): Promise<string> {
    return ((await this.row(userName).getByTestId('member-status').textContent({ timeout: T })) ?? '').trim();
  }
}

/** Doctor app: the membership panel on the start page. */
export class DoctorHomePage {
  constructor(readonly page: Page) {}

  async requestMembership(groupPath: string): Promise<void> {
    await this.page.getByTestId('membership-group').fill(groupPath);
    await this.page.getByTestId('membership-request').click();
    await this.page.getByTestId('membership-message').waitFor({ timeout: T });
  }

  membership(status: string) {
    return this.page.locator(`[data-testid="my-membership"][data-status="${status}"]`);
  }
}

/** Admin app: group tree and role assignment. */
export class GroupsPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/groups`);
    await this.page.locator('[data-testid="group-node"][data-path="/medgrid"]').waitFor({ timeout: T });
    return this;
  }

  node(path: string) {
    return this.page.locator(`[data-testid="group-node"][data-path="${path}"]`);
  }

  async create(parent: string, name: string): Promise<void> {
    await this.page.getByTestId('group-parent').selectOption(parent);
    await this.page.getByTestId('group-name').fill(name);
    await this.page.getByTestId('group-create').click();
    await this.node(`${parent}/${name}`).waitFor({ timeout: T });
  }

  /** `userLabel` as the list shows it: "Name (facility)". */
  async assignRole(userLabel: string, groupPath: string, role: string): Promise<string> {
    await this.page.getByTestId('role-user').selectOption({ label: userLabel });
    await this.page.getByTestId('role-group').selectOption(groupPath);
    await this.page.getByTestId('role-role').selectOption(role);
    await this.page.getByTestId('role-assign').click();
    return ((await this.page.getByTestId('groups-message').textContent({ timeout: T })) ?? '').trim();
  }
}

/** Admin app: audit log. */
export class AuditLogPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(`${this.baseUrl}/admin/audit`);
    await this.page.getByTestId('audit-form').waitFor({ timeout: T });
    return this;
  }

  /** Searches and returns the action column once the table shows `expectAction`. */
  async search(
    filter: { actor?: string; action?: string; from?: string; to?: string },
    expectAction: string,
  ) {
    if (filter.actor) await this.page.getByTestId('audit-actor').fill(filter.actor);
    if (filter.action) await this.page.getByTestId('audit-action').fill(filter.action);
    if (filter.from) await this.page.getByTestId('audit-from').fill(filter.from);
    if (filter.to) await this.page.getByTestId('audit-to').fill(filter.to);
    await this.page.getByTestId('audit-search').click();
    await this.page
      .getByTestId('audit-action-cell')
      .filter({ hasText: expectAction })
      .first()
      .waitFor({ timeout: T });
    return this.page.getByTestId('audit-action-cell').allTextContents();
  }

  async exportCsv(): Promise<string> {
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout: T }),
      this.page.getByTestId('audit-export').click(),
    ]);
    const file = downloadPath(download.suggestedFilename());
    await download.saveAs(file);
    return readFileSync(file, 'utf8');
  }
}
