/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The dev server proxies the API to a local Switchboard (SWITCHBOARD_URL, default
// http://127.0.0.1:8080) so that the session cookie stays same-origin.
const target = process.env.SWITCHBOARD_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/dashboard/",
  // @switchboard/client is a link to ../client: resolve its imports (openapi-fetch) from here.
  resolve: { preserveSymlinks: true },
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", sourcemap: false, target: "es2022", chunkSizeWarningLimit: 400 },
  server: {
    proxy: {
      "/v1": { target, changeOrigin: false },
      "/connect": { target, changeOrigin: false },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.{ts,tsx}"],
    // Through Vite (with preserveSymlinks), not Node, so that openapi-fetch resolves from here.
    server: { deps: { inline: ["@switchboard/client"] } },
  },
});
