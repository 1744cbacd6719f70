// The admin dashboard in a real browser against a running picket: an admin (made with the
// operator token, the way the first admin is made) signs in, sees the ledger's leader for the
// partition `picket up` hosts and a sale on now, hides, shows again and deletes a buyer's
// question, and creates a venue-staff account and assigns it to the show; an admin suspends a
// seller (whose console then says so and cannot publish) and approves it again, and reads the
// sales on now and the operations figures. Every outcome is checked
// against the API as well as the page. Screenshots at desktop width go to the test's output.
import { type APIRequestContext, type Page, type TestInfo, expect, test } from "@playwright/test";
import { BASE_URL, DESKTOP, PASSWORD, bannerPng, memberToken, setupShow, signIn } from "./fixtures";

test.use({ viewport: DESKTOP, locale: "ko-KR", timezoneId: "Asia/Seoul" });

async function desktop(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}-desktop.png`), fullPage: true });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(request: APIRequestContext, method: string, path: string, token: string | null, body?: unknown): Promise<any> {
  const response = await request.fetch(`${BASE_URL}/api/v2${path}`, {
    method,
    headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    data: body,
  });
  const text = await response.text();
  if (!response.ok()) throw new Error(`${method} ${path}: ${response.status()} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

test("an admin sees the ledger leader, hides a post and creates a staff account", async ({ page, request }, testInfo) => {
  const show = await setupShow(request);
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const adminEmail = `admin-${unique}@example.com`;
  await api(request, "POST", "/admin/accounts", show.operatorToken, {
    account: { email: adminEmail, password: PASSWORD, name: "피켓 관리자" },
    role: "admin",
  });
  const buyer = await memberToken(request, `asker-${unique}@example.com`);
  const questionTitle = `광고 글 ${unique}`;
  const question = await api(request, "POST", `/shows/${show.showId}/questions`, buyer, { title: questionTitle, body: "싼 표 팝니다 010-0000-0000" });

  // A page of the dashboard without a session goes to sign-in; a member is refused.
  await page.goto("/admin/moderation");
  await expect(page).toHaveURL(/\/admin\/signin\?next=%2Fadmin%2Fmoderation/);
  await desktop(page, testInfo, "admin-signin");
  await page.getByLabel("이메일").fill(adminEmail);
  await page.getByLabel("비밀번호").fill(PASSWORD);
  await page.getByRole("button", { name: "로그인" }).click();
  await expect(page).toHaveURL(/\/admin\/moderation$/);

  // The overview: `picket up` hosts partition 0 in process, and its ledger (named after this
  // gateway) leads there with no standby; the gateway lists its connections. The page shows what
  // the API's platform route reports. The sale setupShow opened (a second in the past) is listed
  // as on sale, or as still being drawn (its pre-queue's draw need not have run yet).
  await page.getByRole("link", { name: "플랫폼 현황" }).click();
  const health = await (await request.get(`${BASE_URL}/healthz`)).json();
  const platform = await api(request, "GET", "/admin/platform", await signIn(request, adminEmail));
  expect(platform.transport).toBe("in_process");
  expect(platform.partitions[0].leader.node).toBe(health.gateway.id);
  expect(platform.partitions[0].standbys).toEqual([]);
  const partition = page.getByTestId("partition-0");
  await expect(partition.getByTestId("leader")).toContainText("리더");
  await expect(partition.getByTestId("leader-node")).toHaveText(health.gateway.id);
  await expect(partition.getByTestId("no-leader")).toHaveCount(0);
  await expect(page.getByTestId(`gateway-${health.gateway.id}`).getByTestId("gateway-connections")).toContainText(`/ ${health.gateway.connections_max.toLocaleString("ko-KR")}`);
  const saleRow = page.getByTestId(`sale-${show.performanceId}`);
  await expect(saleRow).toContainText(show.title);
  await expect(saleRow).toContainText(/판매 중|추첨 중/);
  await desktop(page, testInfo, "admin-overview");

  // Moderation: every post is listed, newest first; the admin hides the buyer's question (gone
  // for everyone, still listed here as hidden), shows it again, then deletes it for good.
  await page.getByRole("link", { name: "게시판 관리" }).click();
  const post = page.getByTestId("moderated-posts").getByTestId(`post-${question.id}`);
  await expect(post).toContainText(questionTitle);
  await expect(post).toContainText(show.title);
  await post.getByRole("button", { name: "숨기기" }).click();
  await expect(post.getByTestId("post-hidden")).toBeVisible();
  await desktop(page, testInfo, "admin-moderation");
  const questions = async () => (await api(request, "GET", `/shows/${show.showId}/questions`, null)).items.map((p: { id: string }) => p.id);
  expect(await questions()).not.toContain(String(question.id));
  await post.getByRole("button", { name: "다시 보이기" }).click();
  await expect(post.getByTestId("post-hidden")).toHaveCount(0);
  expect(await questions()).toContain(String(question.id));
  await post.getByRole("button", { name: "삭제" }).click();
  await post.getByTestId("confirm-delete").click();
  await expect(post).toHaveCount(0);
  expect(await questions()).not.toContain(String(question.id));

  // Staff: a venue-staff account, assigned to the show; it signs in and may scan that show.
  await page.getByRole("link", { name: "스태프 계정" }).click();
  const staffEmail = `staff-${unique}@example.com`;
  await page.getByLabel("이름").fill("입장 스태프");
  await page.getByLabel("로그인 이메일").fill(staffEmail);
  await page.getByLabel("비밀번호 (8자 이상)").fill(PASSWORD);
  await page.getByRole("button", { name: "계정 만들기" }).click();
  await expect(page.getByTestId("created-account")).toContainText(staffEmail);
  await page.getByLabel("배정할 공연").selectOption(show.showId);
  await page.getByRole("button", { name: "배정" }).click();
  await expect(page.getByTestId("assigned")).toContainText(show.title);
  await desktop(page, testInfo, "admin-staff");
  const staffToken = await signIn(request, staffEmail);
  const assigned = await api(request, "GET", "/staff/shows", staffToken);
  expect(assigned.items.map((s: { id: string }) => s.id)).toContain(show.showId);
});

test("an admin suspends a seller, who cannot publish, approves it again, and reads sales and operations", async ({ browser, page, request }, testInfo) => {
  const show = await setupShow(request);
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const adminEmail = `admin-ops-${unique}@example.com`;
  await api(request, "POST", "/admin/accounts", show.operatorToken, {
    account: { email: adminEmail, password: PASSWORD, name: "피켓 관리자" },
    role: "admin",
  });
  const company = await api(request, "GET", "/companies/mine", show.sellerToken);
  expect(company.approval).toBe("approved");
  // A draft of the seller's, to publish later (same venue, one performance).
  const published = await api(request, "GET", `/shows/${show.showId}`, null);
  const draft = await api(request, "POST", "/shows", show.sellerToken, {
    title: `두 번째 공연 ${unique}`, category: "concert", venue_id: published.venue_id, description: "", age_rating: "all",
    running_minutes: 90, grades: [{ code: "R", price_won: 88_000, sections: ["A", "B"] }],
  });
  const startsAtMs = Date.now() + 30 * 24 * 3_600_000;
  await api(request, "POST", `/shows/${draft.id}/performances`, show.sellerToken, { starts_at_ms: startsAtMs, sale_open_at_ms: startsAtMs - 7 * 24 * 3_600_000 });
  // Its banner, as every seller's show has (the buyer app's home page shows it once published).
  const banner = await request.fetch(`${BASE_URL}/api/v2/shows/${draft.id}/banner`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${show.sellerToken}`, "Content-Type": "image/png" },
    data: bannerPng(unique),
  });
  expect(banner.ok()).toBe(true);

  // A 404 the operations page counts.
  expect((await request.get(`${BASE_URL}/api/v2/shows/1`)).status()).toBe(404);

  await page.goto("/admin/sellers");
  await page.getByLabel("이메일").fill(adminEmail);
  await page.getByLabel("비밀번호").fill(PASSWORD);
  await page.getByRole("button", { name: "로그인" }).click();
  await expect(page).toHaveURL(/\/admin\/sellers$/);
  const row = page.getByTestId(`company-${company.id}`);
  await expect(row).toContainText(company.name);
  await row.getByTestId("suspend").click();
  await expect(row.getByTestId("company-approval")).toContainText("정지됨");
  expect((await api(request, "GET", "/companies/mine", show.sellerToken)).approval).toBe("suspended");
  await desktop(page, testInfo, "admin-sellers");

  // The API refuses the suspended company's publish with its code, and the console says why.
  const refused = await request.post(`${BASE_URL}/api/v2/shows/${draft.id}/publish`, { headers: { Authorization: `Bearer ${show.sellerToken}` } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).code).toBe("company_not_approved");
  const sellerContext = await browser.newContext({ viewport: DESKTOP, locale: "ko-KR", timezoneId: "Asia/Seoul" });
  await sellerContext.addInitScript((token) => {
    localStorage.setItem("picket.credential", JSON.stringify({ kind: "member", token }));
  }, show.sellerToken);
  const seller = await sellerContext.newPage();
  await seller.goto(`/seller/shows/${draft.id}`);
  await expect(seller.getByTestId("approval-banner")).toContainText("판매자 자격이 정지되었습니다");
  await expect(seller.getByTestId("publish-blocked")).toContainText("공개할 수 없습니다");
  await expect(seller.getByTestId("publish")).toBeDisabled();
  await desktop(seller, testInfo, "seller-suspended");

  // Approved again: the banner is gone and publishing works.
  await row.getByTestId("approve").click();
  await expect(row.getByTestId("company-approval")).toContainText("승인됨");
  await seller.reload();
  await expect(seller.getByTestId("approval-banner")).toHaveCount(0);
  await seller.getByTestId("publish").click();
  await expect(seller.getByTestId("published-notice")).toBeVisible();
  await sellerContext.close();

  // Sales on now: the setup's open sale and the new show's pre-queue, with their company.
  await page.getByRole("link", { name: "판매 현황" }).click();
  const sale = page.getByTestId(`admin-sale-${show.performanceId}`);
  await expect(sale).toContainText(show.title);
  await expect(sale).toContainText(company.name);
  await expect(sale.getByTestId("admin-sale-status")).toContainText(/판매 중|추첨 중/);
  const listed = await api(request, "GET", "/admin/sales", await signIn(request, adminEmail));
  expect(listed.items.map((s: { performance: string }) => s.performance)).toContain(show.performanceId);
  await desktop(page, testInfo, "admin-sales");

  // Operations: the figures /metrics has — the 404s counted by code, the refund backlog, the
  // reconciliation not run yet (it runs hourly).
  await page.getByRole("link", { name: "운영 지표" }).click();
  await expect(page.getByTestId("http-problems-code-company_not_approved")).toBeVisible();
  await expect(page.getByTestId("http-problems-code-not_found")).toBeVisible();
  await expect(page.getByTestId("refunds-pending")).toHaveText(/^\d+$/);
  await expect(page.getByTestId("reconciliation-none")).toBeVisible();
  const metrics = await (await request.get(`${BASE_URL}/metrics`, { headers: { Authorization: `Bearer ${show.operatorToken}` } })).text();
  expect(metrics).toMatch(/picket_api_problems_total\{code="company_not_approved"\} [1-9]/);
  expect(metrics).toMatch(/picket_refunds_pending \d+/);
  await desktop(page, testInfo, "admin-operations");
});

test("a member's session is not an admin's", async ({ page, request }) => {
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const email = `member-${unique}@example.com`;
  await memberToken(request, email);
  await page.goto("/admin/signin");
  await page.getByLabel("이메일").fill(email);
  await page.getByLabel("비밀번호").fill(PASSWORD);
  await page.getByRole("button", { name: "로그인" }).click();
  await expect(page.getByRole("heading", { name: "관리자 계정이 아닙니다" })).toBeVisible();
  // The API refuses the member as well: the page's refusal is not the only one.
  const token = await signIn(request, email);
  const response = await request.post(`${BASE_URL}/api/v2/posts/1/hide`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status()).toBe(403);
});
