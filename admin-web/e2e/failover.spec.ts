// The admin dashboard during a ledger failover, in a real browser against Picket deployed as
// processes: `picket-stack` (tests/src/bin/picket-stack.rs; `PICKET_STACK_BIN`, default
// ../target/debug/picket-stack, given `PICKET_BIN`) starts PostgreSQL, NATS and Redis, a
// `picket ledger` node leading partition 0 and one `picket up` gateway that stands by for it.
// An admin signs in on that gateway and sees the `picket ledger` node lead partition 0 with the
// gateway's node as its standby; the test kills the leader (SIGKILL), and the page shows the
// standby leading and the dead node gone. Node ids are `gw-<pid>-…` (the process's id first), so
// the page's rows are matched to processes by pid. The stack is stopped (stdin closed, then
// SIGTERM, then SIGKILL) whatever the outcome.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { resolve } from "node:path";
import { type APIRequestContext, expect, test } from "@playwright/test";
import { DESKTOP, PASSWORD } from "./fixtures";

test.use({ viewport: DESKTOP, locale: "ko-KR", timezoneId: "Asia/Seoul" });

interface Stack {
  url: string;
  leader_pid: number;
  gateway_pid: number;
  operator_token: string;
  lease_ms: number;
}

const STACK_BIN = process.env.PICKET_STACK_BIN ?? resolve(import.meta.dirname, "../../target/debug/picket-stack");
const PICKET_BIN = process.env.PICKET_BIN ?? resolve(import.meta.dirname, "../../target/debug/picket");
/** PostgreSQL, NATS, Redis and two picket processes start in this long at most. */
const STACK_START_MS = 90_000;
/** The stack stops this long after stdin closes before it is sent SIGTERM, then SIGKILL. */
const STACK_STOP_MS = 10_000;

let child: ChildProcessWithoutNullStreams | null = null;

function startStack(): Promise<Stack> {
  const stack = spawn(STACK_BIN, [], { env: { ...process.env, PICKET_BIN, RUST_LOG: process.env.RUST_LOG ?? "warn" } });
  child = stack;
  let stderr = "";
  stack.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`picket-stack did not start in ${STACK_START_MS} ms: ${stderr}`)), STACK_START_MS);
    const lines = createInterface({ input: stack.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        done(JSON.parse(line) as Stack);
      } catch (error) {
        fail(new Error(`picket-stack printed ${line}: ${String(error)}`));
      }
    });
    stack.once("exit", (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`picket-stack exited (${code ?? signal}) before it was up: ${stderr}`));
    });
  });
}

async function stopStack(): Promise<void> {
  const stack = child;
  child = null;
  if (!stack || stack.exitCode !== null || stack.signalCode !== null) return;
  const exited = new Promise<void>((done) => stack.once("exit", () => done()));
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((done) => setTimeout(() => done(false), ms))]);
  stack.stdin.end();
  if (await within(STACK_STOP_MS)) return;
  stack.kill("SIGTERM");
  if (await within(STACK_STOP_MS)) return;
  stack.kill("SIGKILL");
  await exited;
}

test.afterEach(async () => {
  await stopStack();
});

async function call(request: APIRequestContext, url: string, method: string, path: string, token: string | null, body?: unknown): Promise<unknown> {
  const response = await request.fetch(`${url}/api/v2${path}`, {
    method,
    headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    data: body,
  });
  const text = await response.text();
  if (!response.ok()) throw new Error(`${method} ${path}: ${response.status()} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

test("the admin dashboard shows the standby taking over when the ledger leader is killed", async ({ page, request }, testInfo) => {
  test.setTimeout(STACK_START_MS + 90_000);
  const stack = await startStack();
  const adminEmail = `failover-admin-${Date.now().toString(36)}@example.com`;
  await call(request, stack.url, "POST", "/admin/accounts", stack.operator_token, {
    account: { email: adminEmail, password: PASSWORD, name: "장애 조치 관리자" },
    role: "admin",
  });

  await page.goto(`${stack.url}/admin/signin`);
  await page.getByLabel("이메일").fill(adminEmail);
  await page.getByLabel("비밀번호").fill(PASSWORD);
  await page.getByRole("button", { name: "로그인" }).click();
  await expect(page).toHaveURL(/\/admin\/$/);

  // Over NATS: the `picket ledger` node leads partition 0, the gateway's node stands by.
  await expect(page.getByTestId("transport")).toContainText("NATS");
  const partition = page.getByTestId("partition-0");
  const leaderNode = partition.getByTestId("leader-node");
  await expect(leaderNode).toHaveText(new RegExp(`^gw-${stack.leader_pid}-`));
  const standby = partition.locator(`[data-testid^="standby-gw-${stack.gateway_pid}-"]`);
  await expect(standby).toHaveCount(1);
  await expect(standby.getByTestId("standby-lag")).toContainText("뒤처짐");
  await expect(page.getByTestId("gateways").locator(`[data-testid^="gateway-gw-${stack.gateway_pid}-"]`)).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath("admin-failover-before-desktop.png"), fullPage: true });

  // The leader dies without a word: its partition is taken over after the lease, and its last
  // status goes stale on the board.
  process.kill(stack.leader_pid, "SIGKILL");
  await expect(leaderNode).toHaveText(new RegExp(`^gw-${stack.gateway_pid}-`), { timeout: 30_000 });
  await expect(partition.locator(`[data-testid^="standby-gw-${stack.leader_pid}-"]`)).toHaveCount(0, { timeout: 30_000 });
  await expect(partition.getByTestId("no-leader")).toHaveCount(0);
  // The page agrees with the API.
  const session = (await call(request, stack.url, "POST", "/sessions", null, { email: adminEmail, password: PASSWORD })) as { token: string };
  const platform = (await call(request, stack.url, "GET", "/admin/platform", session.token)) as {
    partitions: { leader: { node: string; epoch: number } | null; standbys: unknown[] }[];
  };
  expect(platform.partitions[0].leader?.node).toMatch(new RegExp(`^gw-${stack.gateway_pid}-`));
  expect(platform.partitions[0].leader?.epoch).toBeGreaterThanOrEqual(2);
  await page.screenshot({ path: testInfo.outputPath("admin-failover-desktop.png"), fullPage: true });
});
