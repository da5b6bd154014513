import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The renderer's build (`npm run build:renderer`): `renderer/` to `dist/renderer/`, which
 * the gateway serves. No inline script or style ends up in index.html, so the gateway's
 * CSP (`script-src 'self'; style-src 'self'`) needs no exception.
 */
export default defineConfig({
  root: 'renderer',
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // Vite's module preload polyfill is an inline script: the CSP would block it.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
