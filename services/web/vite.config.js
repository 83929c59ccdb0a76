// Vite: builds src/ into dist/ (served by the nginx gateway, which also routes /api and
// /services to the services). JSX is compiled by Vite's own transformer with React's
// automatic runtime, so no React plugin is needed. `npm run dev` proxies the APIs to a
// gateway at TIZZA_GATEWAY (default http://127.0.0.1:8080).
import { defineConfig } from 'vite';

const gateway = process.env.TIZZA_GATEWAY || 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/api': gateway, '/services/': gateway } },
  test: { include: ['src/**/*.test.js'], environment: 'node' },
});
