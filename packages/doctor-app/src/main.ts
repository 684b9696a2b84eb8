import { createGraphqlClient, createSession } from '@medgrid/web-common';
import urql from '@urql/vue';
import { createApp } from 'vue';
import AppShell from './app/AppShell.vue';
import { createDoctorI18n } from './i18n/i18n.js';
import { createAppRouter, installDoctorGuards } from './router/router.js';

const client = createGraphqlClient();
const session = createSession(client);
const router = createAppRouter();
installDoctorGuards(router, session);
session.startWatching();

createApp(AppShell).use(router).use(createDoctorI18n()).use(urql, client).use(session).mount('#app');
