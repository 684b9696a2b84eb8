import { shallowRef } from 'vue';
import type { RouteLocationNormalized } from 'vue-router';
import { loadStudy, type ViewerStudy } from './dicomweb.client.js';
import { mark } from './render-probe.js';

/**
 * The early preview that index.html put on the page for this study, while it is loading or shown (null once it
 * failed or was adopted).
 */
function earlyBox(uid: string): HTMLElement | null {
  const box = document.getElementById('medgrid-early-preview');
  return box && box.dataset.study === uid && !('failed' in box.dataset) ? box : null;
}

/** Takes index.html's early preview image of this study off the page, for the route to show in its place. */
export function takeEarlyPreview(uid: string): HTMLImageElement | null {
  const box = earlyBox(uid);
  const img = box?.querySelector('img') ?? null;
  box?.remove();
  return img;
}

/**
 * Resolves once the early preview has been painted, has failed, or after `capMs`: evaluating the viewer's chunk
 * holds the main thread for several hundred ms, and a preview that arrives meanwhile is not painted until it ends.
 */
function earlyPreviewPainted(capMs: number): Promise<void> {
  const img = document.querySelector<HTMLImageElement>('#medgrid-early-preview img');
  if (!img) return Promise.resolve();
  const painted = (img.complete ? Promise.resolve() : img.decode())
    .catch(() => undefined)
    .then(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))));
  return Promise.race([painted, new Promise<void>((r) => setTimeout(r, capMs))]);
}

let chunkGate: Promise<void> | null = null;
/** The viewer's chunk (Cornerstone3D); one import, shared by the route and the prefetch. */
export const loadViewerPage = () => {
  chunkGate ??= earlyPreviewPainted(400).then(() => mark('chunk-import'));
  return chunkGate
    .then(() => import('./ViewerPage.vue'))
    .then((m) => {
      mark('chunk-evaluated');
      return m;
    });
};

let pending: { uid: string; study: Promise<ViewerStudy> } | null = null;
let firstObject: { imageId: string; bytes: Promise<ArrayBuffer | null> } | null = null;

/**
 * The server-rendered first image of the study being opened, shown by the route while the viewer's chunk (about
 * 4 MB of Cornerstone) loads and evaluates; the interactive image replaces it.
 */
export const preview = shallowRef<{ uid: string; url: string } | null>(null);

/** The server's rendering of the image the viewer opens on (as index.html asks for it); 406 when none. */
export const previewUrlOf = (uid: string) =>
  `/dicomweb/studies/${encodeURIComponent(uid)}/thumbnail?size=512&first=only`;

/**
 * The object the viewer shows first (first series, first slice), fetched as soon as QIDO-RS has named it, while
 * the viewer's chunk is still loading. Single-frame only: a multi-frame object may be large and is streamed
 * by frame. Failure is not an error here; the viewer's own loader asks again.
 */
function prefetchFirstObject(study: ViewerStudy): void {
  const series = study.series[0];
  const imageId = series?.imageIds[0];
  if (!series || !imageId || series.multiframe || !imageId.startsWith('wadouri:')) return;
  const bytes = fetch(imageId.slice('wadouri:'.length), { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.arrayBuffer() : null))
    .catch(() => null);
  firstObject = { imageId, bytes };
}

/**
 * Router hook: on the way to the viewer, start downloading its chunk and the study's QIDO-RS queries while the
 * session guard and the chunk's evaluation run, instead of one after the other. Small: no Cornerstone here.
 */
export function prefetchViewer(to: RouteLocationNormalized): void {
  if (to.name !== 'viewer') {
    // Sent elsewhere (sign-in, say) before the viewer's route took index.html's preview: it must not stay on top.
    document.getElementById('medgrid-early-preview')?.remove();
    return;
  }
  void loadViewerPage();
  const uid = String(to.params.studyUid);
  if (pending?.uid === uid) return;
  const study = loadStudy(uid);
  // Opened straight from its address, index.html already asked for this image; inside the app, ask now (the
  // server picks the slice the viewer opens on, so there is no need to wait for QIDO-RS).
  preview.value = earlyBox(uid) ? null : { uid, url: previewUrlOf(uid) };
  study.then(
    (s) => prefetchFirstObject(s),
    () => {}, // a signed-out visitor gets 401 here; the viewer asks again
  );
  pending = { uid, study };
}

/** The prefetched bytes of `imageId` if it is the object prefetched (once), else null. */
export function takeFirstObject(imageId: string | undefined): Promise<ArrayBuffer | null> {
  const f = firstObject;
  firstObject = null;
  return f && f.imageId === imageId ? f.bytes : Promise.resolve(null);
}

/** The prefetched study if there is one (asked again when the prefetch failed), else a fresh query. */
export function takeStudy(uid: string): Promise<ViewerStudy> {
  const p = pending?.uid === uid ? pending.study.catch(() => loadStudy(uid)) : loadStudy(uid);
  pending = null;
  return p;
}
