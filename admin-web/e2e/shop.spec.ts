// The buyer's shop in a real browser against a running picket: browse and search, the show
// page, signing up with interests and the interest alert in the inbox, the rotating QR ticket
// (a new code every 15 s, still there offline), cancelling, and a guest's lookup. Screenshots
// of each page at phone and desktop widths go to the test's output directory.
import { type Page, type TestInfo, expect, test } from "@playwright/test";
import { BASE_URL, setupShow } from "./fixtures";
import { queueAndBook } from "./steps/booking";
import { lookUpGuestBooking, openTicketQr, signUp } from "./steps/shop";
import { rotatingCode } from "../src/lib/ticket-code";
import { CATEGORIES, REGIONS } from "../src/buyer/shop/taxonomy";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const PASSWORD = "correct-horse-battery";

async function screenshots(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  for (const [width, size] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: testInfo.outputPath(`${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(PHONE);
}

function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

// A phone in Korea: the app starts in Korean (its header switches to English).
test.use({ viewport: PHONE, locale: "ko-KR", timezoneId: "Asia/Seoul" });

test("the app's ticket code is the protocol's worked example", async () => {
  // docs/protocol.md "Ticket codes" → "Example" (tickets/core/tests/format.rs checks the same).
  const code = await rotatingCode(
    {
      performance: "77",
      ticket: "844424930132969",
      generation: 1,
      macKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      seal: "a0a1a2a3a4a5a6a7a8",
    },
    1764036007000,
  );
  expect(code).toBe("PK1RAAAAAAAAAAAE2AADAAAAAAAD5EAQOATYMCQKDIVDUSS2NJ5ICZXG6U6GDODOGBHN");
});

test("the app's categories and regions are the API's", async ({ request }) => {
  const document = await (await request.get(`${BASE_URL}/api/openapi.json`)).json();
  const params = document.paths["/api/v2/shows"].get.parameters as { name: string; schema: { enum: string[] } }[];
  expect(Object.keys(CATEGORIES).sort()).toEqual([...params.find((p) => p.name === "category")!.schema.enum].sort());
  expect(Object.keys(REGIONS).sort()).toEqual([...params.find((p) => p.name === "region")!.schema.enum].sort());
});

test("browse, search and the show page", async ({ page, request }, testInfo) => {
  const title = unique("검색용 공연");
  const setup = await setupShow(request, { title });
  await page.goto("/");
  await expect(page.getByTestId("show-card").filter({ hasText: title })).toBeVisible();
  await screenshots(page, testInfo, "home");

  // Title words find it and nothing else; a region it is not in finds nothing.
  await page.locator("#q").fill(title);
  await page.locator('form[role="search"] button[type="submit"]').click();
  await expect(page).toHaveURL(/q=/);
  await expect(page.getByTestId("show-card")).toHaveCount(1);
  await expect(page.getByTestId("show-card")).toContainText(title);
  await page.locator("#region").selectOption("jeju");
  await page.locator('form[role="search"] button[type="submit"]').click();
  await expect(page.getByTestId("show-card")).toHaveCount(0);

  await page.goto("/");
  await page.getByTestId("show-card").filter({ hasText: title }).getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/shows/${setup.showId}$`));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
  const performance = page.getByTestId("performance").first();
  await expect(performance).toContainText(/\d{1,3}(,\d{3})*원/);
  await expect(performance.getByRole("link")).toHaveAttribute("href", `/performances/${setup.performanceId}/book`);
  // The cancellation rule is the server's schedule in words, closing time included.
  await expect(page.getByTestId("cancellation-rule")).toContainText("공연 전날");
  await screenshots(page, testInfo, "show");

  // English on the header's switch, prices in won either way.
  await page.locator(".lang-toggle").click();
  await expect(page.getByTestId("cancellation-rule")).toContainText("day before the show");
  await expect(performance).toContainText(/₩\d{1,3}(,\d{3})*/);
});

test("sign up with interests, then the inbox shows the alert for a matching show", async ({ page, request }, testInfo) => {
  await page.goto("/signup");
  await screenshots(page, testInfo, "signup");
  // Every category named and no region: any newly published show matches.
  await signUp(page, { email: `${unique("fan")}@example.com`, password: PASSWORD, name: "김관객", interests: Object.keys(CATEGORIES) });
  const title = unique("관심 공연");
  await setupShow(request, { title });
  await expect(async () => {
    await page.goto("/inbox");
    await expect(page.getByTestId("inbox-item").filter({ hasText: title })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  const alert = page.getByTestId("inbox-item").filter({ hasText: title });
  await expect(alert).toHaveAttribute("data-kind", "interest_alert");
  await expect(page.getByTestId("unread-count")).toBeVisible();
  await screenshots(page, testInfo, "inbox");
  // Marking it read takes it off the count.
  const before = Number(await page.getByTestId("unread-count").textContent());
  await alert.getByRole("button").click();
  if (before > 1) await expect(page.getByTestId("unread-count")).toHaveText(String(before - 1));
  else await expect(page.getByTestId("unread-count")).toHaveCount(0);
});

test("the rotating QR ticket: a new code every 15 s, checked by the door, shown offline; then cancel", async ({ page, context, request }, testInfo) => {
  await page.clock.install({ time: Date.now() });
  const setup = await setupShow(request, {});
  await signUp(page, { email: `${unique("buyer")}@example.com`, password: PASSWORD, name: "이예매", interests: [] });
  await queueAndBook(page, setup, { seats: 1 });

  await page.goto("/me/bookings");
  await expect(page.getByTestId("booking").first()).toBeVisible();
  await screenshots(page, testInfo, "my-bookings");

  const qr = await openTicketQr(page);
  const first = await qr.getAttribute("data-code");
  expect(first).toMatch(/^PK1R[A-Z2-7]{64}$/);
  await screenshots(page, testInfo, "ticket");
  // The door verifies the code the page made: its MAC and seal are right (a wrong one is
  // `forged`); the doors of a performance days away are simply not open yet.
  const scan = await request.post(`${BASE_URL}/api/v2/performances/${setup.performanceId}/scans`, {
    headers: { Authorization: `Bearer ${setup.sellerToken}` },
    data: { code: first, gate: 0, direction: "entry", proof_checked: false },
  });
  expect(scan.status()).toBe(200);
  expect((await scan.json()).result).toBe("not_yet_open");

  await page.clock.fastForward(15_000);
  await expect(qr).not.toHaveAttribute("data-code", first!);
  const second = await qr.getAttribute("data-code");
  expect(second).toMatch(/^PK1R[A-Z2-7]{64}$/);

  // No network at the venue: the installed app opens the ticket from the device.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const url = page.url();
  await context.setOffline(true);
  await page.reload();
  await expect(page).toHaveURL(url);
  await expect(page.getByTestId("offline")).toBeVisible();
  await expect(page.getByTestId("ticket-qr")).toHaveAttribute("data-code", /^PK1R[A-Z2-7]{64}$/);
  await page.clock.fastForward(15_000);
  await expect(page.getByTestId("ticket-qr")).not.toHaveAttribute("data-code", second!);
  await context.setOffline(false);

  // Cancel it: the fee that applies now is the server's, the refund its answer.
  await page.goto("/me/bookings");
  await page.getByTestId("booking").first().getByRole("link").first().click();
  await expect(page.getByTestId("fee-now").first()).toBeVisible();
  await page.getByTestId("booking-ticket").first().getByRole("checkbox").check();
  await page.getByRole("button", { name: /선택한 1매 취소|Cancel 1 selected/ }).click();
  await page.getByTestId("confirm-cancel").click();
  await expect(page.getByTestId("cancelled")).toBeVisible();
});

test("a guest books and looks the booking up on another device", async ({ page, browser, request }, testInfo) => {
  const setup = await setupShow(request, {});
  const phone = "010-5555-0101";
  const { bookingNumber } = await queueAndBook(page, setup, { seats: 1, guest: { name: "박손님", phone } });
  const other = await browser.newContext({ viewport: PHONE, locale: "ko-KR", baseURL: testInfo.project.use.baseURL });
  const otherPage = await other.newPage();
  await lookUpGuestBooking(otherPage, bookingNumber, phone);
  await expect(otherPage.getByTestId("guest-ticket")).toHaveCount(1);
  await screenshots(otherPage, testInfo, "guest-lookup");
  // A wrong phone finds nothing, with the message for `not_found`.
  await otherPage.locator("#g-phone").fill("010-0000-0000");
  await otherPage.locator('form button[type="submit"]').click();
  await expect(otherPage.getByRole("alert")).toBeVisible();
  await other.close();
});
