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
    path: '/certificates',
    name: 'certificates',
    component: PlaceholderPage,
    meta: { title: 'nav.certificates' },
  },
  { path: '/membership', name: 'membership', component: PlaceholderPage, meta: { title: 'nav.membership' } },
  { path: '/storage', name: 'storage', component: PlaceholderPage, meta: { title: 'nav.storage' } },
  { path: '/audit', name: 'audit', component: PlaceholderPage, meta: { title: 'nav.audit' } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('../pages/NotFoundPage.vue') },
];

export function createAppRouter(history: RouterHistory = createWebHistory(import.meta.env.BASE_URL)): Router {
  return createRouter({ history, routes });
}
