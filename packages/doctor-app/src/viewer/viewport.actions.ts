import type { Types } from '@cornerstonejs/core';
import { voiRangeOf } from './wl-presets.js';

/** View operations on one stack viewport (toolbar buttons and keyboard shortcuts share them). */
export function scrollBy(vp: Types.IStackViewport, delta: number): Promise<string> | undefined {
  const n = vp.getImageIds().length;
  if (!n) return undefined;
  const next = Math.min(n - 1, Math.max(0, vp.getCurrentImageIdIndex() + delta));
  if (next === vp.getCurrentImageIdIndex()) return undefined;
  return vp.setImageIdIndex(next);
}

export function scrollTo(vp: Types.IStackViewport, index: number): Promise<string> | undefined {
  return scrollBy(vp, index - vp.getCurrentImageIdIndex());
}

export function rotateBy(vp: Types.IStackViewport, degrees: number): void {
  const rotation = (((vp.getRotation() + degrees) % 360) + 360) % 360;
  vp.setViewPresentation({ rotation });
  vp.render();
}

export function flip(vp: Types.IStackViewport, direction: 'horizontal' | 'vertical'): void {
  const camera = vp.getCamera();
  if (direction === 'horizontal') vp.setCamera({ flipHorizontal: !camera.flipHorizontal });
  else vp.setCamera({ flipVertical: !camera.flipVertical });
  vp.render();
}

export function invert(vp: Types.IStackViewport): void {
  vp.setProperties({ invert: !vp.getProperties().invert });
  vp.render();
}

export function zoomBy(vp: Types.IStackViewport, factor: number): void {
  vp.setZoom(vp.getZoom() * factor);
  vp.render();
}

export function applyWindow(vp: Types.IStackViewport, window: number, level: number): void {
  vp.setProperties({ voiRange: voiRangeOf(window, level) });
  vp.render();
}

export function reset(vp: Types.IStackViewport): void {
  vp.resetProperties();
  vp.resetCamera();
  vp.render();
}
