import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext } from './support/browser.js';
import {
  AuditLogPage,
  CertificatesPage,
  type Credential,
  DoctorHomePage,
  developmentAccounts,
  GroupsPage,
  MembersPage,
  removeDownloads,
  SignInPage,
} from './support/identity-pages.js';
import { artifactName } from './support/paths.js';
import { type RunningSystem, startSystem } from './support/system.js';

/** A page in its own context (own cookies and IndexedDB) that stays open across steps. */
interface Actor {
  context: BrowserContext;
  page: Page;
  errors: Error[];
}

describe('certificate sign-in and the admin app against the running system', { timeout: 300_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  let accounts: ReturnType<typeof developmentAccounts>;
  let admin: Actor;
  let doctor: Actor;
  let newDoctor: Credential & { serial: string };
  const doctorName = 'Olena E2E';
  const doctorGroup = '/medgrid/dev-clinic/radiology';
  const actors: Actor[] = [];

  async function actor(): Promise<Actor> {
    const context = await newContext(browser);
    const page = await context.newPage();
    const a: Actor = { context, page, errors: [] };
    page.on('pageerror', (e) => a.errors.push(e));
    actors.push(a);
    return a;
  }

  /** Runs a step; on failure screenshots every open page. */
  async function step(label: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      for (const a of actors)
        if (a.errors.length) throw new Error(`uncaught page errors: ${a.errors.join('; ')}`);
    } catch (error) {
      for (const [i, a] of actors.entries())
        await a.page
          .screenshot({ path: artifactName(`${label}-${i}`, 'png'), fullPage: true })
          .catch(() => {});
      throw error;
    }
  }

  before(async () => {
    system = await startSystem();
    console.log(`# medgrid ready in ${system.readyMs} ms at ${system.baseUrl}`);
    accounts = developmentAccounts(system.dataDir);
    browser = await launchBrowser();
    admin = await actor();
    doctor = await actor();
  });

  after(async () => {
    await browser?.close();
    removeDownloads();
    if (system) {
      system.saveLog('identity-system');
      await system.stop().catch(() => system.kill());
    }
  });

  it('a wrong password is explained; the administrator signs in with the development PKCS#12', async () => {
    await step('admin-sign-in', async () => {
      await admin.page.goto(`${system.baseUrl}/admin/`);
      const signIn = await new SignInPage(admin.page).waitFor();
      await signIn.submit(accounts.admin, { password: 'not-the-password' });
      assert.equal(await signIn.error(), 'The password is wrong, or the file is damaged.');
      await signIn.signIn(accounts.admin);
      assert.match(
        (await admin.page.getByTestId('home-welcome').textContent()) ?? '',
        /Development Administrator/,
      );
      assert.match((await admin.page.getByTestId('main-nav').textContent()) ?? '', /Certificates/);
    });
  });

  it('the administrator issues a certificate with a server-generated key and downloads the PKCS#12 once', async () => {
    await step('admin-issue', async () => {
      const certificates = await new CertificatesPage(admin.page, system.baseUrl).open();
      newDoctor = await certificates.issueForNewAccount(doctorName, 'e2e-clinic');
      assert.match(newDoctor.serial, /^[0-9a-f]+$/);
      assert.ok(newDoctor.password.length >= 16);
      assert.equal(
        await admin.page.getByTestId('issued-password').count(),
        0,
        'the password is gone once dismissed',
      );
      assert.equal(await certificates.status(newDoctor.serial), 'valid');
    });
  });

  it('the new doctor signs into the doctor app, asks to join; the request shows in the queue and is approved', async () => {
    await step('doctor-membership', async () => {
      await doctor.page.goto(`${system.baseUrl}/`);
      await new SignInPage(doctor.page).signIn(newDoctor);
      const home = new DoctorHomePage(doctor.page);
      await doctor.page.getByTestId('membership-none').waitFor();
      await home.requestMembership(doctorGroup);
      await home.membership('REQUESTED').waitFor();

      const queue = await new MembersPage(admin.page, system.baseUrl).open(true);
      assert.equal(await queue.status(doctorName), 'requested');
      await queue.approve(doctorName);
      assert.equal(await queue.row(doctorName).count(), 0, 'approved requests leave the queue');
      const members = await new MembersPage(admin.page, system.baseUrl).open(false);
      assert.equal(await members.status(doctorName), 'active');

      await doctor.page.reload();
      await home.membership('ACTIVE').waitFor({ timeout: 20_000 });
    });
  });

  it('switching to Ukrainian translates the admin pages', async () => {
    await step('admin-ukrainian', async () => {
      const certificates = await new CertificatesPage(admin.page, system.baseUrl).open();
      await admin.page.getByTestId('lang-uk').click();
      await admin.page.waitForFunction(() => document.documentElement.lang === 'uk');
      assert.equal(await admin.page.getByTestId('page-title').textContent(), 'Сертифікати');
      assert.equal(await certificates.status(newDoctor.serial), 'чинний');
      assert.match((await admin.page.getByTestId('crl-status').textContent()) ?? '', /Наступне оновлення/);
      assert.match((await admin.page.getByTestId('sign-out').textContent()) ?? '', /Вийти/);
      await new MembersPage(admin.page, system.baseUrl).open(true);
      assert.equal(await admin.page.getByTestId('page-title').textContent(), 'Заявки на членство');
      await admin.page.getByTestId('lang-en').click();
      await admin.page.waitForFunction(() => document.documentElement.lang === 'en');
      assert.equal(await admin.page.getByTestId('page-title').textContent(), 'Membership requests');
    });
  });

  it("revoking the certificate ends the doctor's open session within 60 s, and it cannot sign in again", async () => {
    await step('revoke', async () => {
      const certificates = await new CertificatesPage(admin.page, system.baseUrl).open();
      const before = Number(await admin.page.getByTestId('crl-revoked-count').textContent());
      await certificates.revoke(newDoctor.serial, 'KEY_COMPROMISE');
      const revokedAt = Date.now();
      assert.equal(await certificates.status(newDoctor.serial), 'revoked');
      assert.equal(Number(await admin.page.getByTestId('crl-revoked-count').textContent()), before + 1);

      // The doctor did nothing: the open page notices by itself.
      const signIn = new SignInPage(doctor.page);
      assert.match(await signIn.notice(60_000), /Your session has ended/);
      assert.ok(Date.now() - revokedAt < 60_000);
      await signIn.submit(newDoctor);
      assert.equal(
        await signIn.error(),
        'This certificate has been revoked. Ask your administrator for a new one.',
      );
    });
  });

  it('the audit log finds the revocation by user, action and date, and exports it as CSV', async () => {
    await step('audit', async () => {
      const audit = await new AuditLogPage(admin.page, system.baseUrl).open();
      const today = new Date().toISOString().slice(0, 10);
      const actions = await audit.search(
        { actor: 'Development Administrator', action: 'certificate.', from: today, to: today },
        'certificate.revoke',
      );
      assert.ok(
        actions.every((a) => a.startsWith('certificate.')),
        actions.join(', '),
      );
      assert.ok(actions.includes('certificate.issue'));
      const csv = await audit.exportCsv();
      const lines = csv.trimEnd().split('\r\n');
      assert.equal(lines[0], 'at,actor,action,target,ip,details');
      assert.equal(lines.length, actions.length + 1);
      assert.ok(
        lines.some((l) => l.includes('"certificate.revoke"') && l.includes(newDoctor.serial)),
        csv,
      );
    });
  });

  it('the administrator creates a group and makes a member its manager', async () => {
    await step('groups', async () => {
      const groups = await new GroupsPage(admin.page, system.baseUrl).open();
      await groups.create('/medgrid/dev-clinic', 'e2e-ward');
      assert.equal(
        await groups.assignRole(
          `${doctorName} (e2e-clinic)`,
          '/medgrid/dev-clinic/e2e-ward',
          'GROUP_MANAGER',
        ),
        'Done.',
      );
    });
  });

  it('a doctor without an administrative role cannot open the admin app, through the UI or the GraphQL API', async () => {
    await step('doctor-refused', async () => {
      const devDoctor = await actor();
      await devDoctor.page.goto(`${system.baseUrl}/`);
      // Remember this device: the second sign-in needs no file.
      await new SignInPage(devDoctor.page).signIn(accounts.doctor, { remember: true });
      await devDoctor.page.getByTestId('sign-out').click();
      await devDoctor.page.getByTestId('sign-in-remembered').click();
      await devDoctor.page.getByTestId('session-name').waitFor();

      await devDoctor.page.goto(`${system.baseUrl}/admin/certificates`);
      await devDoctor.page.getByTestId('refused').waitFor();
      assert.equal(await devDoctor.page.getByTestId('page-title').textContent(), 'Administrators only');
      assert.equal((await devDoctor.page.getByTestId('main-nav').textContent())?.trim(), '');
      const answer = await devDoctor.page.evaluate(async () => {
        const res = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ certificates(first: 5) { edges { node { serial } } } }' }),
        });
        return (await res.json()) as { data: unknown; errors?: { extensions?: { code?: string } }[] };
      });
      assert.equal(answer.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.equal(answer.data, null);
    });
  });

  it('publishing a new AUP makes every member re-accept it, the administrator included', async () => {
    await step('aup', async () => {
      const page = admin.page;
      await page.goto(`${system.baseUrl}/admin/policy`);
      await page.getByTestId('aup-form').waitFor();
      const tomorrow = new Date(Date.now() + 86_400_000);
      const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000)
        .toISOString()
        .slice(0, 16);
      await page.getByTestId('aup-text').fill('E2E: use MedGrid for patient care and teaching only.');
      await page.getByTestId('aup-accept-by').fill(local);
      await page.getByTestId('aup-publish').click();
      assert.match(
        (await page.getByTestId('aup-version').textContent({ timeout: 20_000 })) ?? '',
        /Version 1/,
      );

      // The administrator's own roles wait for the new AUP: the app asks for it, then opens again.
      await page.goto(`${system.baseUrl}/admin/certificates`);
      await page.getByTestId('refused').waitFor();
      assert.match((await page.getByTestId('refused-reason').textContent()) ?? '', /version 1/);
      await page.getByTestId('aup-accept').click();
      await page.getByTestId('home-welcome').waitFor();
      await new CertificatesPage(page, system.baseUrl).open();
    });
  });

  it('a suspended member is refused', async () => {
    await step('suspended', async () => {
      const members = await new MembersPage(admin.page, system.baseUrl).open(false);
      await members.suspend('Development Doctor', 'e2e: audit pending');
      assert.equal(await members.status('Development Doctor'), 'suspended');

      const suspended = await actor();
      await suspended.page.goto(`${system.baseUrl}/`);
      await new SignInPage(suspended.page).signIn(accounts.doctor);
      const refused = await suspended.page.getByTestId('access-refused').textContent({ timeout: 20_000 });
      assert.match(refused ?? '', /suspended/);
      const answer = await suspended.page.evaluate(async () => {
        const res = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ voGroups { path } }' }),
        });
        return (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      });
      assert.equal(answer.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    });
  });
});
