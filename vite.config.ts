import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is built with relative asset URLs (`base: './'`): the web host serves it below a per-launch
// token path (`/t/<token>/`), and Electron serves it from app://labdeck/.
export default defineConfig({
  root: 'renderer',
  base: './',
  cacheDir: '../.cache/vite-renderer',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
});
