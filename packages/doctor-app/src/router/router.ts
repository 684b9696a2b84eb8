import { installSessionGuard, type Session } from '@medgrid/web-common';
import {
  createRouter,
  createWebHistory,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router';
import HomePage from '../pages/HomePage.vue';
import ViewerRoute from '../viewer/ViewerRoute.vue';
import { prefetchViewer } from '../viewer/viewer.prefetch.js';

// Every section but the start page loads lazily, keeping the first bundle small.
const StudiesPage = () => import('../studies/StudiesPage.vue');

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: HomePage },
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('@medgrid/web-common/SignInPage.vue'),
    meta: { public: true },
  },
  { path: '/studies', name: 'studies', component: StudiesPage, props: { scope: 'mine' } },
  { path: '/shared', name: 'shared', component: StudiesPage, props: { scope: 'shared' } },
  {
    // Study ids are UUIDs; /studies/<StudyInstanceUID>/view is the viewer's route.
    path: '/studies/:id([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})',
    name: 'study',
    component: () => import('../studies/StudyPage.vue'),
    props: true,
  },
  { path: '/upload', name: 'upload', component: () => import('../upload/UploadPage.vue') },
  // Share links and patient links (the server's SPA fallback serves the app here).
  { path: '/s/:token', name: 'redeem', component: () => import('../redeem/RedeemPage.vue'), props: true },
  {
    // Cornerstone3D is large: the viewer is its own chunk, loaded only when a study is opened.
    path: '/studies/:studyUid/view',
    name: 'viewer',
    component: ViewerRoute,
    meta: { title: 'viewer.toolbar', fullBleed: true },
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('../pages/NotFoundPage.vue') },
];

export function createAppRouter(history: RouterHistory = createWebHistory(import.meta.env.BASE_URL)): Router {
  const router = createRouter({ history, routes });
  router.beforeEach(prefetchViewer);
  return router;
}

/** Every route but /sign-in needs a session. */
export function installDoctorGuards(router: Router, session: Session): void {
  installSessionGuard(router, session);
}
