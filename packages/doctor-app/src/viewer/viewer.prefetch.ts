import type { RouteLocationNormalized } from 'vue-router';
import { loadStudy, type ViewerStudy } from './dicomweb.client.js';

/** The viewer's chunk (Cornerstone3D); one import, shared by the route and the prefetch. */
export const loadViewerPage = () => import('./ViewerPage.vue');

let pending: { uid: string; study: Promise<ViewerStudy> } | null = null;

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
  study.catch(() => {}); // a signed-out visitor gets 401 here; the viewer asks again after sign-in
  pending = { uid, study };
}

/** The prefetched study if there is one (asked again when the prefetch failed), else a fresh query. */
export function takeStudy(uid: string): Promise<ViewerStudy> {
  const p = pending?.uid === uid ? pending.study.catch(() => loadStudy(uid)) : loadStudy(uid);
  pending = null;
  return p;
}
