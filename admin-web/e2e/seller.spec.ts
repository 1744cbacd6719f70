// The seller console in a real browser against a running picket: a company signs up, draws a
// venue of several sections in the seat-map editor (and paints its front row as a VIP section),
// registers a show on it through the wizard (grades painted onto the sections), is brought back to the field the API refused (422), saves the
// draft, uploads a banner with a preview, publishes, then posts a notice and answers a buyer's
// question on the board. Screenshots of each page at desktop width go to the test's output.
import { type APIRequestContext, type Page, type TestInfo, expect, test } from "@playwright/test";
import { BASE_URL, DESKTOP, PASSWORD, bannerPng, businessNumber, memberToken, signIn } from "./fixtures";
import { drawVenue, drawnSectionNames } from "./steps/editor";

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

test("a company signs up, draws its venue in the editor, registers a show step by step, publishes it and runs its board", async ({ page, request }, testInfo) => {
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const email = `console-${unique}@example.com`;
  const title = `피켓 콘솔 뮤지컬 ${unique}`;

  // A page of the console without a session goes to sign-in, which leads to sign-up.
  await page.goto("/seller/shows/new");
  await expect(page).toHaveURL(/\/seller\/signin\?next=/);
  await page.getByRole("link", { name: "판매자 가입" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("판매자(기획사) 가입");

  // A wrong business number is refused at its field; the rest of the form stays as typed.
  await page.getByLabel("회사명").fill(`피켓 콘솔 ${unique}`);
  await page.getByLabel("사업자등록번호").fill("123-45-67890");
  await page.getByLabel("대표 이메일").fill(email);
  await page.getByLabel("대표 전화번호").fill("051-123-4567");
  await page.getByLabel("담당자 이름").fill("김기획");
  await page.getByLabel("로그인 이메일").fill(email);
  await page.getByLabel("비밀번호 (8자 이상)").fill(PASSWORD);
  await page.getByRole("button", { name: "가입하기" }).click();
  const numberError = page.locator('[data-field-error="company.business_number"]');
  await expect(numberError).toContainText("check digit");
  await expect(page.getByLabel("사업자등록번호")).toHaveAttribute("aria-invalid", "true");
  await desktop(page, testInfo, "seller-signup-422");
  await page.getByLabel("사업자등록번호").fill(businessNumber());
  await page.getByRole("button", { name: "가입하기" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("내 공연");
  await expect(page.getByTestId("seller-company")).toHaveText(`피켓 콘솔 ${unique}`);
  await expect(page.getByText("아직 등록한 공연이 없습니다")).toBeVisible();

  // The company's venue, drawn in the seat-map editor: three sections of seats and the first
  // one's front row painted into a VIP section.
  const sellerToken = await signIn(request, email);
  const venueId = await drawVenue(page, { sections: 3, name: `센텀 홀 ${unique}` });
  const venue = await api(request, "GET", `/venues/${venueId}`, sellerToken);
  expect(venue.layout.sections.map((s: { name: string }) => s.name).sort()).toEqual([...drawnSectionNames(3)].sort());
  await page.goto("/seller/");
  await expect(page.getByTestId("my-venues")).toContainText(`센텀 홀 ${unique}`);
  await desktop(page, testInfo, "seller-my-shows-empty");

  // The wizard, step by step. The running time is left at 0: the API refuses it at the end.
  await page.getByRole("link", { name: "+ 새 공연 등록" }).click();
  await expect(page.getByRole("heading", { level: 2 })).toHaveText("기본 정보");
  await page.getByLabel("공연명").fill(title);
  await page.getByLabel("장르").selectOption("musical");
  await page.getByLabel("관람 등급").selectOption("7+");
  await page.getByLabel("공연 시간 (분)").fill("0");
  await page.getByLabel("공연 소개").fill("부산에서 처음 올리는 창작 뮤지컬.\n인터미션 15분.");
  await desktop(page, testInfo, "seller-wizard-basics");
  await page.getByTestId("next-step").click();

  await expect(page.getByRole("heading", { level: 2 })).toHaveText("공연장 · 좌석 등급");
  await page.getByTestId("venue-choice").check();
  // The picked venue starts with one grade over all of it; a second grade takes the VIP section.
  await expect(page.getByTestId("grade-code-0")).toHaveValue("R");
  await page.getByTestId("grade-price-0").fill("90000");
  await page.getByRole("button", { name: "+ 등급 추가" }).click();
  await page.getByTestId("grade-code-1").fill("VIP");
  await page.getByTestId("grade-price-1").fill("130000");
  await page.getByTestId("grades").locator("tbody tr").nth(1).getByLabel("VIP 구역").check();
  await expect(page.getByTestId("grades").locator("tbody tr").nth(0).getByLabel("VIP 구역")).not.toBeChecked();
  await page.getByLabel("1인 최대 매수 (회차당)").fill("2");
  await desktop(page, testInfo, "seller-wizard-venue");
  await page.getByTestId("next-step").click();

  await expect(page.getByRole("heading", { level: 2 })).toHaveText("회차 · 판매");
  await page.getByTestId("add-performance").click();
  await expect(page.getByTestId("performance-1")).toBeVisible();
  await page.getByLabel("초당 입장 인원").fill("50");
  await page.getByLabel("동시 예매 최대 인원").fill("500");
  await desktop(page, testInfo, "seller-wizard-schedule");
  await page.getByTestId("next-step").click();

  await expect(page.getByRole("heading", { level: 2 })).toHaveText("할인 · 쿠폰");
  await page.getByTestId("add-coupon").click();
  await page.getByTestId("coupon-0").getByLabel("쿠폰 코드 (영문, 숫자, -)").fill("busan-3000");
  await page.getByTestId("coupon-0").getByLabel("할인 값").fill("3000");
  await desktop(page, testInfo, "seller-wizard-offers");
  await page.getByTestId("next-step").click();

  // The Korean standard for a musical is filled in: 4,000원 a ticket until 10 days before.
  await expect(page.getByRole("heading", { level: 2 })).toHaveText("취소 수수료");
  await expect(page.getByTestId("flat-fee")).toHaveValue("4000");
  await expect(page.getByTestId("fees-origin")).toContainText("한국 표준");
  await expect(page.getByTestId("fee-summary")).toContainText("공연 9~7일 전: 티켓 가격의 10%");
  await desktop(page, testInfo, "seller-wizard-fees");
  await page.getByTestId("next-step").click();

  await expect(page.getByRole("heading", { level: 2 })).toHaveText("입장 · 양도");
  await page.getByLabel(/입장 게이트/).fill("1층 정문\n2층 입구");
  await page.getByTestId("transfers").check();
  await page.getByLabel("양도 마감: 공연 시작 몇 분 전").fill("120");
  await page.getByLabel(/인쇄용\(고정\) 티켓/).check();
  await desktop(page, testInfo, "seller-wizard-door");
  await page.getByTestId("next-step").click();

  await expect(page.getByTestId("review")).toContainText(title);
  await desktop(page, testInfo, "seller-wizard-review");
  await page.getByTestId("save-show").click();

  // The API's 422 brings the seller back to the step with the field, the message under it.
  await expect(page.getByRole("heading", { level: 2 })).toHaveText("기본 정보");
  const runningError = page.locator('[data-field-error="running_minutes"]');
  await expect(runningError).toContainText("1 to 600");
  await expect(page.getByLabel("공연 시간 (분)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("form-error")).toHaveText("표시된 항목을 확인해 주세요.");
  await desktop(page, testInfo, "seller-wizard-422");
  await page.getByLabel("공연 시간 (분)").fill("150");
  await page.locator('[data-step="review"]').click();
  await page.getByTestId("save-show").click();

  // The saved draft: banner with a preview, then publishing.
  await expect(page).toHaveURL(/\/seller\/shows\/\d+\?saved=1$/);
  const showId = new URL(page.url()).pathname.split("/").pop()!;
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
  await expect(page.getByTestId("show-status")).toHaveText("초안");
  await expect(page.getByTestId("performances").locator("tbody tr")).toHaveCount(2);
  await page.getByTestId("banner-file").setInputFiles({ name: "banner.png", mimeType: "image/png", buffer: bannerPng(unique) });
  await expect(page.getByTestId("banner-preview")).toBeVisible();
  await page.getByTestId("banner-upload").click();
  await expect(page.getByTestId("banner-saved")).toBeVisible();
  await desktop(page, testInfo, "seller-show-draft");
  await page.getByTestId("publish").click();
  await expect(page.getByTestId("published-notice")).toBeVisible();
  await expect(page.getByTestId("show-status")).toHaveText("판매 공개");
  await desktop(page, testInfo, "seller-show-published");

  // What was registered is what the API now serves.
  const show = await api(request, "GET", `/shows/${showId}`, sellerToken);
  expect(show.status).toBe("published");
  expect(show.region).toBe(venue.region);
  expect(show.running_minutes).toBe(150);
  expect(show.per_buyer_limit).toBe(2);
  expect(show.grades).toEqual([
    { code: "R", price_won: 90000, sections: drawnSectionNames(3).filter((name) => name !== "VIP"), zones: [] },
    { code: "VIP", price_won: 130000, sections: ["VIP"], zones: [] },
  ]);
  expect(show.performances).toHaveLength(2);
  expect(show.door).toMatchObject({ transfer_until_minutes_before_start: 120, static_tickets: true, gates: [{ gate: 1, label: "1층 정문" }, { gate: 2, label: "2층 입구" }] });
  expect(show.coupons).toMatchObject([{ code: "BUSAN-3000", amount_won: 3000 }]);
  const standard = await api(request, "GET", "/cancellation-fees/standard?category=musical", null);
  expect(show.cancellation).toEqual(standard);
  const sale = await api(request, "GET", `/sales/${show.performances[0].id}`, null);
  expect(sale.settings).toMatchObject({ admit_per_sec: 50, active_max: 500, seat_limit: 2 });
  const banner = await request.get(`${BASE_URL}/api/v2/shows/${showId}/banner`);
  expect(banner.status()).toBe(200);
  expect(Buffer.compare(await banner.body(), bannerPng(unique))).toBe(0);

  // My shows lists it, published.
  await page.getByRole("link", { name: "내 공연" }).click();
  const row = page.locator(`[data-show-id="${showId}"]`);
  await expect(row.getByTestId("show-status")).toHaveText("판매 공개");
  await desktop(page, testInfo, "seller-my-shows");

  // The board: a buyer's question waits; the seller posts a notice and answers.
  const buyer = await memberToken(request, `buyer-${unique}@example.com`);
  await api(request, "POST", `/shows/${showId}/questions`, buyer, { title: "휠체어석 문의", body: "휠체어석이 있나요?" });
  await row.getByRole("link", { name: "게시판" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("게시판");
  await expect(page.getByTestId("questions")).toContainText("휠체어석이 있나요?");
  const notice = page.getByTestId("notice-form");
  // An empty notice is refused at its fields.
  await notice.getByRole("button", { name: "공지 올리기" }).click();
  await expect(notice.locator('[data-field-error="title"]')).toBeVisible();
  await notice.getByLabel("제목").fill("공연장 주차 안내");
  await notice.getByLabel("내용").fill("센텀 홀 지하 주차장은 3시간 무료입니다.");
  await notice.getByRole("button", { name: "공지 올리기" }).click();
  await expect(page.getByTestId("notices")).toContainText("공연장 주차 안내");
  const question = page.getByTestId("questions").locator("li").first();
  await question.getByTestId("answer-text").fill("네, 1층 A구역 옆에 휠체어석 4석이 있습니다.");
  await question.getByTestId("answer-submit").click();
  await expect(question.getByTestId("answer")).toContainText("휠체어석 4석");
  await desktop(page, testInfo, "seller-board");
  const answered = await api(request, "GET", `/shows/${showId}/questions`, null);
  expect(answered.items[0].answer).toBe("네, 1층 A구역 옆에 휠체어석 4석이 있습니다.");
  const notices = await api(request, "GET", `/shows/${showId}/notices`, null);
  expect(notices.items[0]).toMatchObject({ title: "공연장 주차 안내", body: "센텀 홀 지하 주차장은 3시간 무료입니다." });

  // English through the header's switch.
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Board");
  await expect(page.getByRole("link", { name: "New show" })).toBeVisible();
  await desktop(page, testInfo, "seller-board-en");
});
