import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export default defineConfig({
  plugins: [sveltekit()],
  // The library reads the API origin from VITE_API: empty means the page's own origin, where the
  // embedded server answers the UI's API beside its pages.
  define: { 'import.meta.env.VITE_API': JSON.stringify('') },
  cacheDir: path.join(root, 'node_modules/.vite/clearway-ui'),
  logLevel: 'warn',
  build: { chunkSizeWarningLimit: 2048, rolldownOptions: { checks: { pluginTimings: false } } },
});
