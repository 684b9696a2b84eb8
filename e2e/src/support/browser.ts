import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { artifactName } from './paths.js';

// Debian's Chromium; never a downloaded browser.
export const chromiumPath = '/usr/bin/chromium';
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Playwright gives each launch a fresh temporary --user-data-dir and removes it on close. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    timeout: 60_000,
  });
}

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** A fresh context (own storage) that refuses every request leaving the machine. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
  await context.route('**/*', (route) =>
    isLoopback(route.request().url()) ? route.continue() : route.abort('blockedbyclient'),
  );
  return context;
}

/**
 * Runs `fn` with a new page in a new context. On failure the page is screenshotted into e2e/artifacts/;
 * uncaught page errors fail the run too.
 */
export async function withPage(
  browser: Browser,
  label: string,
  fn: (page: Page, context: BrowserContext) => Promise<void>,
): Promise<void> {
  const context = await newContext(browser);
  const page = await context.newPage();
  const pageErrors: Error[] = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  try {
    await fn(page, context);
    if (pageErrors.length > 0) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);
  } catch (error) {
    const file = artifactName(label, 'png');
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { screenshot: file });
  } finally {
    await context.close();
  }
}

/** Page object for the shell both apps share (header, nav, language switcher, footer version). */
export class AppShellPage {
  constructor(
    readonly page: Page,
    readonly url: string,
  ) {}

  async open(): Promise<this> {
    await this.page.goto(this.url);
    return this;
  }

  /** The version shown in the footer, once loaded. */
  async serverVersion(): Promise<string> {
    const el = this.page.getByTestId('server-version');
    await el.waitFor({ timeout: 15_000 });
    return (await el.textContent())?.trim() ?? '';
  }

  async serverVersionError(): Promise<string> {
    const el = this.page.getByTestId('server-version-error');
    await el.waitFor({ timeout: 15_000 });
    return (await el.textContent())?.trim() ?? '';
  }

  async switchLanguage(code: 'uk' | 'en'): Promise<void> {
    await this.page.getByTestId(`lang-${code}`).click();
    await this.page.waitForFunction((lang) => document.documentElement.lang === lang, code);
  }

  text(testId: string): Promise<string> {
    return this.page
      .getByTestId(testId)
      .textContent()
      .then((t) => t?.trim() ?? '');
  }

  htmlLang(): Promise<string | null> {
    return this.page.locator('html').getAttribute('lang');
  }
}
