import { shallowRef } from 'vue';
import type { RouteLocationNormalized } from 'vue-router';
import { loadStudy, type ViewerStudy } from './dicomweb.client.js';

/** The viewer's chunk (Cornerstone3D); one import, shared by the route and the prefetch. */
export const loadViewerPage = () => import('./ViewerPage.vue');

let pending: { uid: string; study: Promise<ViewerStudy> } | null = null;
let firstObject: { imageId: string; bytes: Promise<ArrayBuffer | null> } | null = null;

/**
 * The server-rendered first image of the study being opened, shown by the route while the viewer's chunk (about
 * 4 MB of Cornerstone) loads and evaluates; the interactive image replaces it.
 */
export const preview = shallowRef<{ uid: string; url: string } | null>(null);

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
  if (to.name !== 'viewer') return;
  void loadViewerPage();
  const uid = String(to.params.studyUid);
  if (pending?.uid === uid) return;
  const study = loadStudy(uid);
  study.then(
    (s) => {
      prefetchFirstObject(s);
      const url = s.series[0]?.renderedUrl;
      preview.value = url ? { uid, url: `${url}?size=512` } : null;
    },
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
