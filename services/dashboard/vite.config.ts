/// <reference types="vitest/config" />
// The dashboard's build and its component tests. `npm run dev` proxies the API to a gateway started by
// `make up` (STOREPLANE_GATEWAY_URL overrides it), so the page and the API share one origin as in production.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const gateway = process.env.STOREPLANE_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The CSP allows no inline script: Vite must not inline its module preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { proxy: { "/api": gateway } },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});
