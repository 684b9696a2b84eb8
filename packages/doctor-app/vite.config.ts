import { precompressAssets, preloadLazyRoute } from '@medgrid/web-common/build';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

// Dev server forwards API paths to a running MedGrid server (see README).
const server = `http://127.0.0.1:${process.env.MEDGRID_PORT ?? '8080'}`;
const proxy = Object.fromEntries(['/graphql', '/dicomweb', '/auth'].map((path) => [path, server]));

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // The viewer is the page most often opened straight from a link; its chunk is most of the app's code.
    preloadLazyRoute({ chunk: 'ViewerPage', path: /^\/studies\/[^/]+\/view\/?$/ }),
    precompressAssets(),
  ],
  define: {
    // Composition API only: lets Vue and vue-i18n drop their legacy code paths.
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  server: { proxy },
  preview: { proxy },
  test: { environment: 'happy-dom' },
});
