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
  { path: '/studies', name: 'studies', component: PlaceholderPage, meta: { title: 'nav.studies' } },
  { path: '/shared', name: 'shared', component: PlaceholderPage, meta: { title: 'nav.shared' } },
  { path: '/upload', name: 'upload', component: PlaceholderPage, meta: { title: 'nav.upload' } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('../pages/NotFoundPage.vue') },
];

export function createAppRouter(history: RouterHistory = createWebHistory(import.meta.env.BASE_URL)): Router {
  return createRouter({ history, routes });
}
