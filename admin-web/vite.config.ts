// Four pages, one build: the buyer app at `/`, the staff scanner at `/staff/`, the seller
// console at `/seller/` and the admin dashboard at `/admin/`. The output in dist/ is committed and embedded in the picket binary
// (crate picket-web), so file names are content-hashed and the build must be reproducible:
// `scripts/test` rebuilds it and fails when the committed dist/ differs.
import { type Plugin, defineConfig, transformWithOxc } from "vite";
import preact from "@preact/preset-vite";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";

const picketUrl = (process.env.PICKET_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
/** Builds src/sw/sw.ts into an un-hashed `/sw.js` at the root (a service worker's scope is its
 * own path), with the list of every file of this build to precache and a version derived from
 * their contents, so the build stays reproducible and a new build replaces the old cache. */
function serviceWorker(): Plugin {
  const source = resolve(import.meta.dirname, "src/sw/sw.ts");
  const publicDir = resolve(import.meta.dirname, "public");
  return {
    name: "picket-service-worker",
    apply: "build",
    enforce: "post",
    async generateBundle(_options, bundle) {
      const hash = createHash("sha256");
      const files: string[] = [];
      for (const name of Object.keys(bundle).sort()) {
        const item = bundle[name];
        files.push(`/${name}`);
        hash.update(name);
        hash.update(item.type === "chunk" ? item.code : item.source);
      }
      for (const name of readdirSync(publicDir).sort()) {
        files.push(`/${name}`);
        hash.update(name);
        hash.update(readFileSync(resolve(publicDir, name)));
      }
      const version = hash.digest("hex").slice(0, 16);
      const transformed = await transformWithOxc(readFileSync(source, "utf8"), source, { lang: "ts" });
      // A classic worker script: the `export {}` that makes the source a module goes.
      const code = transformed.code
        .replace(/^export \{\};\n/m, "")
        .replace('"__PICKET_PRECACHE__"', JSON.stringify(JSON.stringify(files)))
        .replace("__PICKET_VERSION__", version);
      this.emitFile({ type: "asset", fileName: "sw.js", source: code });
    },
  };
}

export default defineConfig({
  plugins: [preact(), serviceWorker()],
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
        seller: resolve(import.meta.dirname, "seller/index.html"),
        admin: resolve(import.meta.dirname, "admin/index.html"),
      },
    },
  },
  server: {
    // `npm run dev` against a local `picket up`: PICKET_URL names it (default its default
    // listener, http://127.0.0.1:8080).
    proxy: {
      "/api": picketUrl,
      // The admin dashboard reads the gateway's health.
      "/healthz": picketUrl,
      "/ws": { target: picketUrl.replace(/^http/, "ws"), ws: true },
    },
  },
});
