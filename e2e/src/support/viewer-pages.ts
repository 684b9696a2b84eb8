import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { repoRoot } from './paths.js';

const T = 30_000;
export const corpusDir = process.env.MEDGRID_CORPUS_DIR ?? path.resolve(repoRoot, '../shared/corpus');

export const newUid = () => `2.25.${BigInt(`0x${randomBytes(15).toString('hex')}`).toString()}`;

/**
 * Corpus files rewritten (dcmtk's dcmodify, pixel data untouched) into one study: `values` maps a tag
 * "(gggg,eeee)" to its new value. Returns the rewritten bytes; the temporary copy is removed.
 */
export function rewrite(corpusFile: string, values: Record<string, string>): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medgrid-viewer-fixture-'));
  try {
    const file = path.join(dir, 'x.dcm');
    copyFileSync(path.join(corpusDir, corpusFile), file);
    const args = Object.entries(values).flatMap(([tag, v]) => ['-i', `${tag}=${v}`]);
    execFileSync('dcmodify', ['-nb', ...args, file], { stdio: 'pipe' });
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Width of a corpus image in mm (Columns x column spacing), read from its header with dcmtk's dcmdump: the
 * reference a measurement drawn on the fitted image is checked against.
 */
export function widthMm(corpusFile: string): number {
  const out = execFileSync(
    'dcmdump',
    ['+P', '0028,0030', '+P', '0028,0011', path.join(corpusDir, corpusFile)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const spacing = /\(0028,0030\) DS \[([^\]]+)\]/.exec(out)?.[1]?.split('\\').map(Number);
  const columns = Number(/\(0028,0011\) US (\d+)/.exec(out)?.[1]);
  if (!spacing?.[1] || !columns) throw new Error(`no Pixel Spacing or Columns in ${corpusFile}`);
  return columns * spacing[1];
}

/** multipart/related; type="application/dicom" body for STOW-RS. */
export function stowBody(files: Buffer[]): { body: Buffer; contentType: string } {
  const boundary = `viewer${randomBytes(8).toString('hex')}`;
  const parts = files.flatMap((f) => [
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    f,
    Buffer.from('\r\n'),
  ]);
  return {
    body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}

/**
 * Uploads through STOW-RS with the page's session cookie (same origin, as the app would) and returns the
 * de-identified Study Instance UID from the response's RetrieveURL.
 */
export async function stowWithSession(page: Page, baseUrl: string, files: Buffer[]): Promise<string> {
  const { body, contentType } = stowBody(files);
  const res = await page.request.post(`${baseUrl}/dicomweb/studies`, {
    headers: { 'content-type': contentType, accept: 'application/dicom+json' },
    data: body,
    timeout: 120_000,
  });
  const json = (await res.json()) as Record<string, { Value?: string[] }>;
  if (res.status() !== 200) throw new Error(`STOW-RS answered ${res.status()}: ${JSON.stringify(json)}`);
  const url = json['00081190']?.Value?.[0];
  if (!url) throw new Error(`no RetrieveURL in ${JSON.stringify(json)}`);
  return decodeURIComponent(url.split('/studies/')[1]!);
}

export interface PixelStats {
  /** Pixels that are not black. */
  lit: number;
  total: number;
  /** FNV-1a hash of the RGBA bytes: changes whenever the picture does. */
  hash: number;
}

/** One viewport pane of the viewer. */
export class ViewportPane {
  constructor(
    readonly page: Page,
    readonly root: Locator,
  ) {}

  async attr(name: string): Promise<string> {
    return (await this.root.getAttribute(name)) ?? '';
  }

  renderCount(): Promise<number> {
    return this.attr('data-render-count').then(Number);
  }

  imageIndex(): Promise<number> {
    return this.attr('data-image-index').then(Number);
  }

  /** Waits until the pane has rendered more than `after` times (Cornerstone IMAGE_RENDERED events). */
  async waitForRender(after = 0): Promise<number> {
    const handle = await this.root.elementHandle();
    await this.page.waitForFunction(
      ({ el, n }) => Number(el?.getAttribute('data-render-count')) > n,
      { el: handle, n: after },
      { timeout: T },
    );
    return this.renderCount();
  }

  /** Waits until every image of the series is loaded (the loading indicator is gone). */
  async waitForAllLoaded(): Promise<void> {
    await this.root.getByTestId('loading-indicator').waitFor({ state: 'detached', timeout: 120_000 });
  }

  async pixels(): Promise<PixelStats> {
    return this.root
      .locator('canvas')
      .first()
      .evaluate((c: HTMLCanvasElement) => {
        const ctx = c.getContext('2d');
        if (!ctx) throw new Error('no 2D context on the viewport canvas');
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        let hash = 0x811c9dc5;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i]! > 8 || data[i + 1]! > 8 || data[i + 2]! > 8) lit++;
          hash = Math.imul(hash ^ data[i]!, 16777619) >>> 0;
          hash = Math.imul(hash ^ data[i + 1]!, 16777619) >>> 0;
          hash = Math.imul(hash ^ data[i + 2]!, 16777619) >>> 0;
        }
        return { lit, total: data.length / 4, hash };
      });
  }

  text(testId: string): Promise<string> {
    return this.root
      .getByTestId(testId)
      .textContent()
      .then((t) => t?.trim() ?? '');
  }

  /** The element Cornerstone draws in; mouse gestures go here. */
  async box(): Promise<{ x: number; y: number; width: number; height: number }> {
    const b = await this.root.getByTestId('viewport-element').boundingBox();
    if (!b) throw new Error('viewport element not visible');
    return b;
  }

  /** A left-button drag from one point to another, given as fractions of the viewport. */
  async drag(from: [number, number], to: [number, number]): Promise<void> {
    const b = await this.box();
    const at = ([fx, fy]: [number, number]) => [b.x + b.width * fx, b.y + b.height * fy] as const;
    const [x0, y0] = at(from);
    const [x1, y1] = at(to);
    await this.page.mouse.move(x0, y0);
    await this.page.mouse.down();
    for (let i = 1; i <= 8; i++)
      await this.page.mouse.move(x0 + ((x1 - x0) * i) / 8, y0 + ((y1 - y0) * i) / 8);
    await this.page.mouse.up();
  }

  /**
   * A drag from the pane's centre by fractions of its shorter side: a fitted square image spans that side, so
   * `(0.2, 0.15)` stays inside the image whatever the pane's aspect.
   */
  async dragFromCentre(dx: number, dy: number): Promise<void> {
    const b = await this.box();
    const side = Math.min(b.width, b.height);
    await this.drag([0.5, 0.5], [0.5 + (dx * side) / b.width, 0.5 + (dy * side) / b.height]);
  }

  async wheel(deltaY: number): Promise<void> {
    const b = await this.box();
    await this.page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    await this.page.mouse.wheel(0, deltaY);
  }
}

/** The diagnostic viewer page (`/studies/:studyUid/view`). */
export class ViewerPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(studyUid: string): Promise<this> {
    await this.page.goto(`${this.baseUrl}/studies/${encodeURIComponent(studyUid)}/view`);
    await this.page.getByTestId('viewer-toolbar').waitFor({ timeout: T });
    return this;
  }

  pane(i = 0): ViewportPane {
    return new ViewportPane(this.page, this.page.getByTestId('viewport').nth(i));
  }

  paneCount(): Promise<number> {
    return this.page.getByTestId('viewport').count();
  }

  seriesItems(): Locator {
    return this.page.getByTestId('series-item');
  }

  /** Series panel entries whose label contains `text` (modality, number, description). */
  series(text: string | RegExp): Locator {
    return this.seriesItems().filter({ hasText: text });
  }

  async tool(name: string): Promise<void> {
    await this.page.getByTestId(`tool-${name}`).click();
  }

  async click(testId: string): Promise<void> {
    await this.page.getByTestId(testId).click();
  }

  /** Measurements whose drawing has ended and whose statistics are those of the final shape. */
  finalMeasurements(): Locator {
    return this.page.locator('[data-testid="measurement"][data-final="true"]');
  }

  measurements(): Locator {
    return this.page.getByTestId('measurement');
  }

  /** The last render count the page itself reports (window.__medgridViewer). */
  renders(): Promise<number> {
    return this.page.evaluate(() => window.__medgridViewer?.renders ?? 0);
  }
}

declare global {
  interface Window {
    __medgridViewer?: { renders: number; firstImageAt: number | null; cpuRendering?: boolean };
  }
}
