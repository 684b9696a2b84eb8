import urql from '@urql/vue';
import { createApp } from 'vue';
import AppShell from './app/AppShell.vue';
import { createGraphqlClient } from './graphql/client.js';
import { createAppI18n } from './i18n/i18n.js';
import { createAppRouter } from './router/router.js';

createApp(AppShell)
  .use(createAppRouter())
  .use(createAppI18n())
  .use(urql, createGraphqlClient())
  .mount('#app');
