/**
 * Render events for tests and benchmarks: Cornerstone's IMAGE_RENDERED counted per viewport (also on the
 * pane's `data-render-count`), the time of the first rendered image, and a `medgrid:image-rendered` window
 * event, so browser tests wait on renders instead of sleeping.
 */
export interface RenderProbe {
  renders: number;
  /** performance.now() (ms since navigation start) of the first rendered image. */
  firstImageAt: number | null;
  byViewport: Record<string, number>;
  /** performance.now() of the paint of the server-rendered preview (Element Timing), if one was shown. */
  previewAt?: number | null;
  /** Cornerstone renders on the CPU (no GPU, or a software WebGL rasteriser: see preferCpuRendering). */
  cpuRendering?: boolean;
}

declare global {
  interface Window {
    __medgridViewer?: RenderProbe;
  }
}

export function renderProbe(): RenderProbe {
  window.__medgridViewer ??= { renders: 0, firstImageAt: null, byViewport: {} };
  return window.__medgridViewer;
}

export function recordRender(viewportId: string, imageIndex: number): number {
  const p = renderProbe();
  p.renders++;
  const count = (p.byViewport[viewportId] ?? 0) + 1;
  p.byViewport[viewportId] = count;
  if (p.firstImageAt === null) {
    p.firstImageAt = performance.now();
    performance.mark('medgrid-first-image');
  }
  window.dispatchEvent(
    new CustomEvent('medgrid:image-rendered', { detail: { viewportId, imageIndex, count } }),
  );
  return count;
}

/** A performance mark the benchmark reads to split the time to the first image into its steps. */
export function mark(step: string): void {
  performance.mark(`medgrid-${step}`);
}

/** The viewer could not show its first image (study or pane failed): anything waiting on a render stops. */
export function reportViewerFailure(): void {
  window.dispatchEvent(new CustomEvent('medgrid:viewer-failed'));
}
