import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The staff console: one bundled page served by the hub from dashboards/console/dist.
 * No CDN and no inline script (the hub sends CSP default-src 'self'), so it works offline on a LAN.
 */
export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': { target: process.env.CAREHUB_HUB_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
});
