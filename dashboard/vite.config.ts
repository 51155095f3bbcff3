// The dashboard's build: Vite with its built-in esbuild JSX (no React plugin: it does not install everywhere), base
// /dashboard/ because the controller serves the app there (and its page at / too, whose assets still load from
// /dashboard/assets/). `npm run dashboard:dev` proxies the API to a controller on 127.0.0.1:8000.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const controller = process.env.SKALDS_DASHBOARD_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': { target: controller, changeOrigin: false }, '/metrics': controller } },
  logLevel: 'warn',
})
