import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { AppShellPage, launchBrowser, withPage } from './support/browser.js';
import { graphqlVersion, type RunningSystem, startSystem } from './support/system.js';

describe('doctor and admin apps against the running system', { timeout: 300_000 }, () => {
  let system: RunningSystem | undefined;
  let browser: Browser | undefined;
  let version = '';
  let stopped = false;

  before(async () => {
    system = await startSystem();
    console.log(`# medgrid ready in ${system.readyMs} ms at ${system.baseUrl}`);
    version = await graphqlVersion(system.baseUrl);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (system && !stopped) {
      system.saveLog('system-after-failure');
      system.kill();
    }
  });

  it('the server answers `query { version }` over GraphQL', () => {
    assert.match(version, /^\d+\.\d+\.\d+/);
  });

  it('the doctor app shows the server version', async () => {
    await withPage(browser!, 'doctor-version', async (page) => {
      const app = await new AppShellPage(page, `${system!.baseUrl}/`).open();
      assert.equal(await app.serverVersion(), version);
      assert.equal(await app.text('product-name'), 'MedGrid');
      // Without a session the app opens on the certificate sign-in page.
      assert.equal(await app.text('page-title'), 'Sign in with your certificate');
      assert.equal(await app.htmlLang(), 'en');
    });
  });

  it('the doctor app switches to Ukrainian and keeps it after a reload', async () => {
    await withPage(browser!, 'doctor-ukrainian', async (page) => {
      const app = await new AppShellPage(page, `${system!.baseUrl}/`).open();
      await app.serverVersion();
      await app.switchLanguage('uk');
      assert.equal(await app.text('page-title'), 'Вхід за сертифікатом');
      assert.match(await app.text('sign-in-submit'), /Увійти/);
      assert.equal(await app.htmlLang(), 'uk');
      await page.reload();
      assert.equal(await app.serverVersion(), version);
      assert.equal(await app.text('page-title'), 'Вхід за сертифікатом');
      assert.equal(await app.htmlLang(), 'uk');
    });
  });

  it('the apps use automatic persisted queries: after a reload only the hash of a known query is sent', async () => {
    await withPage(browser!, 'doctor-persisted-queries', async (page) => {
      const bodies: { query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } }[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/graphql') && r.method() === 'POST')
          bodies.push(JSON.parse(r.postData() ?? '{}'));
      });
      const app = await new AppShellPage(page, `${system!.baseUrl}/`).open();
      assert.equal(await app.serverVersion(), version);
      bodies.length = 0;
      await page.reload();
      assert.equal(await app.serverVersion(), version);
      assert.ok(bodies.length > 0, 'the reloaded page sent GraphQL requests');
      for (const b of bodies) {
        assert.match(b.extensions?.persistedQuery?.sha256Hash ?? '', /^[0-9a-f]{64}$/);
        assert.equal(b.query, undefined, 'the server already knows every query of this page: no text sent');
      }
    });
  });

  it('the doctor app shows an error state when GraphQL is unreachable', async () => {
    await withPage(browser!, 'doctor-graphql-down', async (page) => {
      await page.route('**/graphql', (route) => route.abort('connectionrefused'));
      const app = await new AppShellPage(page, `${system!.baseUrl}/`).open();
      assert.equal(await app.serverVersionError(), 'The server cannot be reached.');
      assert.equal(await page.getByTestId('server-version').count(), 0);
    });
  });

  it('the admin app shows the server version and "Administration"', async () => {
    await withPage(browser!, 'admin-version', async (page) => {
      const app = await new AppShellPage(page, `${system!.baseUrl}/admin/`).open();
      assert.equal(await app.serverVersion(), version);
      assert.equal(await app.text('app-section'), 'Administration');
      assert.equal(await app.text('page-title'), 'Sign in with your certificate');
    });
  });

  it('the admin app switches to Ukrainian', async () => {
    await withPage(browser!, 'admin-ukrainian', async (page) => {
      const app = await new AppShellPage(page, `${system!.baseUrl}/admin/`).open();
      await app.serverVersion();
      await app.switchLanguage('uk');
      assert.equal(await app.text('app-section'), 'Адміністрування');
      assert.equal(await app.text('page-title'), 'Вхід за сертифікатом');
      await app.switchLanguage('en');
      assert.equal(await app.text('app-section'), 'Administration');
    });
  });

  it('deep links load the right app (SPA fallback)', async () => {
    await withPage(browser!, 'deep-links', async (page) => {
      // Signed out, a deep link lands on that app's sign-in page, which returns to it afterwards.
      const doctor = await new AppShellPage(page, `${system!.baseUrl}/studies`).open();
      assert.equal(await doctor.text('page-title'), 'Sign in with your certificate');
      assert.equal(new URL(page.url()).searchParams.get('redirect'), '/studies');
      assert.equal(await doctor.serverVersion(), version);
      // A viewer address asks for its preview before any JS (index.html); signed out, that fails and nothing
      // is left covering the sign-in page.
      const viewer = await new AppShellPage(page, `${system!.baseUrl}/studies/1.2.3.4/view`).open();
      assert.equal(await viewer.text('page-title'), 'Sign in with your certificate');
      await page.waitForFunction(() => !document.getElementById('medgrid-early-preview'));
      await page.getByTestId('sign-in-submit').click({ trial: true });
      const admin = await new AppShellPage(page, `${system!.baseUrl}/admin/certificates`).open();
      assert.equal(await admin.text('page-title'), 'Sign in with your certificate');
      assert.equal(new URL(page.url()).pathname, '/admin/sign-in');
      assert.equal(new URL(page.url()).searchParams.get('redirect'), '/certificates');
      assert.equal(await admin.text('app-section'), 'Administration');
    });
  });

  it('stops on SIGINT and leaves no process behind', async () => {
    const report = await system!.stop();
    stopped = true;
    console.log(`# medgrid stopped in ${report.stopMs} ms; ${report.seen.length} processes watched`);
    // The system runs at least the server, the worker and the gateway under `medgrid start`.
    assert.ok(report.seen.length >= 4, `only saw ${report.seen.join(', ')}`);
    assert.deepEqual(report.leftovers, []);
    assert.ok(
      report.exitCode === 0 || report.exitCode === 130 || report.signal === 'SIGINT',
      `exit code ${report.exitCode}, signal ${report.signal}`,
    );
  });
});
