// Two pages, one build: the buyer app at `/` and the staff scanner at `/staff/`. The output in
// dist/ is committed and embedded in the picket binary (crate picket-web), so file names are
// content-hashed and the build must be reproducible: `scripts/test` rebuilds it and fails when
// the committed dist/ differs.
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";
import { resolve } from "node:path";

const picketUrl = (process.env.PICKET_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    rollupOptions: {
      input: {
        buyer: resolve(import.meta.dirname, "index.html"),
        staff: resolve(import.meta.dirname, "staff/index.html"),
      },
    },
  },
  server: {
    // `npm run dev` against a local `picket up`: PICKET_URL names it (default its default
    // listener, http://127.0.0.1:8080).
    proxy: {
      "/api": picketUrl,
      "/ws": { target: picketUrl.replace(/^http/, "ws"), ws: true },
    },
  },
});
