/**
 * Builds the dashboard (src/dashboard) into dist/dashboard, which the server serves at `/`
 * (src/http/dashboard.ts). Hashed file names under assets/ let the server cache them for a
 * year; the manifest marks a finished build.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  // The dashboard is a browser app: never pick up the server's environment.
  envDir: false,
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npm run dev:dashboard`: hot reload, API requests go to the Beacon on PORT (4000).
    proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } },
  },
});
