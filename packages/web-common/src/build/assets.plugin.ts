import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|wasm|map)$/;

/**
 * Writes `.br` and `.gz` next to every compressible build output, once, at build time: the server sends them
 * as they are (`preCompressed`) instead of compressing megabytes of viewer code on each request.
 */
export function precompressAssets(minBytes = 1024): Plugin {
  let outDir = 'dist';
  return {
    name: 'medgrid:precompress',
    apply: 'build',
    configResolved(c) {
      outDir = path.resolve(c.root, c.build.outDir);
    },
    writeBundle(_options, bundle) {
      for (const file of Object.keys(bundle)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const abs = path.join(outDir, file);
        const raw = readFileSync(abs);
        if (raw.length < minBytes) continue;
        writeFileSync(`${abs}.gz`, gzipSync(raw, { level: 9 }));
        writeFileSync(
          `${abs}.br`,
          brotliCompressSync(raw, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 10,
              [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
            },
          }),
        );
      }
    },
  };
}

/**
 * For a lazily loaded route opened directly (a bookmark, a shared link, a reload), starts downloading its chunk
 * and the chunk's static imports from index.html, while the entry script is still loading, instead of after
 * the router has resolved the route. Other pages load nothing extra.
 */
export function preloadLazyRoute(opts: { chunk: string; path: RegExp }): Plugin {
  let base = '/';
  return {
    name: 'medgrid:preload-lazy-route',
    apply: 'build',
    configResolved(c) {
      base = c.base;
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return;
        const entry = Object.values(bundle).find(
          (c) => c.type === 'chunk' && c.facadeModuleId?.endsWith(`/${opts.chunk}.vue`),
        );
        if (!entry || entry.type !== 'chunk') throw new Error(`no lazy chunk for ${opts.chunk}`);
        const files = new Set<string>();
        const visit = (name: string) => {
          const c = bundle[name];
          if (!c || c.type !== 'chunk' || files.has(c.fileName) || c.isEntry) return;
          files.add(c.fileName);
          for (const i of c.imports) visit(i);
        };
        visit(entry.fileName);
        // Already preloaded by the entry's own tags.
        const hrefs = JSON.stringify([...files].map((f) => base + f).filter((h) => !html.includes(`"${h}"`)));
        return [
          {
            tag: 'script',
            injectTo: 'head-prepend',
            children: `if(${opts.path}.test(location.pathname))for(const h of ${hrefs}){const l=document.createElement('link');l.rel='modulepreload';l.crossOrigin='';l.href=h;document.head.appendChild(l)}`,
          },
        ];
      },
    },
  };
}
