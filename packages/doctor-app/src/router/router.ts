import { installSessionGuard, type Session } from '@medgrid/web-common';
import {
  createRouter,
  createWebHistory,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router';
import HomePage from '../pages/HomePage.vue';

// Sections not built yet share one lazily loaded placeholder, keeping the first bundle small.
const PlaceholderPage = () => import('../pages/PlaceholderPage.vue');

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: HomePage },
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('@medgrid/web-common/SignInPage.vue'),
    meta: { public: true },
  },
  { path: '/studies', name: 'studies', component: PlaceholderPage, meta: { title: 'nav.studies' } },
  { path: '/shared', name: 'shared', component: PlaceholderPage, meta: { title: 'nav.shared' } },
  { path: '/upload', name: 'upload', component: PlaceholderPage, meta: { title: 'nav.upload' } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('../pages/NotFoundPage.vue') },
];

export function createAppRouter(history: RouterHistory = createWebHistory(import.meta.env.BASE_URL)): Router {
  return createRouter({ history, routes });
}

/** Every route but /sign-in needs a session. */
export function installDoctorGuards(router: Router, session: Session): void {
  installSessionGuard(router, session);
}
