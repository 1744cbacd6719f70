// End-to-end tests of the buyer app and the staff scanner in Debian's Chromium, against a real
// `picket up` (the binary named by PICKET_BIN, default ../target/debug/picket) that this config
// starts on a free loopback port with a fresh data directory. `scripts/test` builds the binary
// and runs `npx playwright test` here; e2e/fixtures.ts reads the URL and the data directory (the
// operator token is in it) from the environment set below.
//
// The config is evaluated again in every worker process; the workers inherit the environment of
// the runner, so the port and directory picked once here are the ones every spec sees.

import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** A port the kernel has just said is free on 127.0.0.1 (asked synchronously: configs are not async). */
function freePort(): string {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim();
}

process.env.PICKET_E2E_PORT ??= freePort();
if (!process.env.PICKET_E2E_DATA_DIR) {
  // Made here, in the runner (workers inherit it): removed when the runner exits, after the
  // server has stopped.
  const dataDir = mkdtempSync(join(tmpdir(), "picket-e2e-"));
  process.env.PICKET_E2E_DATA_DIR = dataDir;
  process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }));
}
process.env.PICKET_E2E_URL ??= `http://127.0.0.1:${process.env.PICKET_E2E_PORT}`;

const baseURL = process.env.PICKET_E2E_URL;
const picketBin = process.env.PICKET_BIN ?? resolve(import.meta.dirname, "../target/debug/picket");
const chromium = process.env.PICKET_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  // A 2-core machine: the server, Chromium and the specs share it.
  workers: 2,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    headless: true,
    locale: "ko-KR",
    timezoneId: "Asia/Seoul",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    // Playwright adds --no-sandbox, --disable-background-networking, --disable-sync and
    // --disable-component-update itself; QUIC probes only fail on a machine without a network.
    launchOptions: { executablePath: chromium, args: ["--disable-quic"] },
  },
  // One project at a phone's width (buyers are on phones): a spec saves its screenshots at
  // phone and desktop widths with `screenshots()` from e2e/fixtures.ts, so no flow runs twice.
  projects: [{ name: "chromium", use: { browserName: "chromium", viewport: { width: 390, height: 844 } } }],
  webServer: {
    command: `"${picketBin}" up --data-dir "${process.env.PICKET_E2E_DATA_DIR}" --listen 127.0.0.1:${process.env.PICKET_E2E_PORT}`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: { RUST_LOG: process.env.RUST_LOG ?? "warn" },
  },
});
