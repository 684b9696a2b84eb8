import { installSessionGuard, type Me, type Session } from '@medgrid/web-common';
import {
  createRouter,
  createWebHistory,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router';
import HomePage from '../pages/HomePage.vue';

const ADMIN_ROLES = ['VO_ADMIN', 'CA_OPERATOR', 'GROUP_MANAGER'];

/** Administrative roles count only while the membership is active (the server's policy says the same). */
export function isAdministrator(me: Me | null): boolean {
  return !!me && me.access === 'ACTIVE' && me.roles.some((r) => ADMIN_ROLES.includes(r.role));
}

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: HomePage },
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('@medgrid/web-common/SignInPage.vue'),
    meta: { public: true },
  },
  {
    path: '/refused',
    name: 'refused',
    component: () => import('../pages/RefusedPage.vue'),
    meta: { anyone: true },
  },
  { path: '/certificates', name: 'certificates', component: () => import('../pages/CertificatesPage.vue') },
  { path: '/accounts', name: 'accounts', component: () => import('../pages/AccountsPage.vue') },
  {
    path: '/facilities',
    name: 'facilities',
    component: () => import('../pages/AccountsPage.vue'),
    props: { services: true },
  },
  { path: '/members', name: 'members', component: () => import('../pages/MembersPage.vue') },
  {
    path: '/requests',
    name: 'requests',
    component: () => import('../pages/MembersPage.vue'),
    props: { queue: true },
  },
  { path: '/groups', name: 'groups', component: () => import('../pages/GroupsPage.vue') },
  { path: '/policy', name: 'policy', component: () => import('../pages/PolicyPage.vue') },
  { path: '/audit', name: 'audit', component: () => import('../pages/AuditPage.vue') },
  { path: '/storage', name: 'storage', component: () => import('../pages/StoragePage.vue') },
  { path: '/storage/jobs', name: 'storage-jobs', component: () => import('../pages/StorageJobsPage.vue') },
  { path: '/storage/scans', name: 'storage-scans', component: () => import('../pages/StorageScansPage.vue') },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('../pages/NotFoundPage.vue') },
];

export function createAppRouter(history: RouterHistory = createWebHistory(import.meta.env.BASE_URL)): Router {
  return createRouter({ history, routes });
}

/** Sign-in for every route but /sign-in; then administrators only (others see /refused). */
export function installAdminGuards(router: Router, session: Session): void {
  installSessionGuard(router, session);
  router.beforeEach((to) => {
    if (to.meta.public || to.meta.anyone) return true;
    return isAdministrator(session.me.value) ? true : { name: 'refused' };
  });
}
