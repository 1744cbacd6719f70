// The staff scanner at /staff/ in a real browser against a real `picket up`: signing in (and its
// errors), picking the performance and gate, refusing forged and foreign codes online and
// offline, admitting the QR code a buyer's page shows and then refusing it as used, and an
// offline scan uploaded when the network is back, with the conflict of an earlier scan of the
// same ticket reported. Code images go in through the scanner's picture input, which decodes
// them by the same path as camera frames.

import { expect, test, type Browser, type Page, type TestInfo } from "@playwright/test";
import qrcode from "qrcode-generator";
import { setupShow, type ShowSetup } from "./fixtures";
import { queueAndBook } from "./steps/booking";
import { openTicketQr, signUp } from "./steps/shop";
import { openScanner, scanImage } from "./steps/staff";
import { MESSAGES } from "../src/lib/errors";
import { lang } from "../src/lib/i18n";

// The scanner's default language is Korean; the browser is told so as a Korean phone would.
test.use({ locale: "ko-KR" });
// Messages compared in Korean, the page's language.
lang.value = "ko";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** Saves the page at phone and desktop widths (the screenshots), phone last. */
async function screenshots(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: testInfo.outputPath(`${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: testInfo.outputPath(`${name}-phone.png`), fullPage: true });
}

/** `text` drawn as a QR code (error correction M, as tickets are) and photographed as a PNG. */
async function qrPng(browser: Browser, text: string): Promise<Buffer> {
  const qr = qrcode(0, "M");
  qr.addData(text, /^[0-9A-Z $%*+\-./:]*$/.test(text) ? "Alphanumeric" : "Byte");
  qr.make();
  const page = await browser.newPage();
  try {
    await page.setContent(`<body style="margin:0;background:#fff">${qr.createSvgTag(8, 4)}</body>`);
    return await page.locator("svg").screenshot();
  } finally {
    await page.close();
  }
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Uint8Array): string {
  let text = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += BASE32[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) text += BASE32[(buffer << (5 - bits)) & 31];
  return text;
}

/**
 * A code of the right shape (docs/protocol.md, "The code") for `performance` and `ticket` at the
 * current step, whose seal and MAC are made up: no ticket's key signed it.
 */
function madeUpCode(performance: bigint, ticket: bigint): string {
  const payload = new Uint8Array(40);
  const view = new DataView(payload.buffer);
  view.setBigUint64(0, performance);
  view.setBigUint64(8, ticket);
  view.setUint32(17, Math.floor(Date.now() / 15_000));
  for (let i = 21; i < 40; i++) payload[i] = (i * 37) & 0xff;
  return `PK1R${base32(payload)}`;
}

test.describe("staff scanner", () => {
  test("sign-in errors show their messages", async ({ page, request }, testInfo) => {
    const setup = await setupShow(request, { staff: true });
    await page.setViewportSize(PHONE);
    await page.goto("/staff/");
    await expect(page.getByRole("heading", { name: "직원 로그인" })).toBeVisible();
    await screenshots(page, testInfo, "staff-sign-in");

    // A wrong password: the server's wrong_credentials, as the page's message for it.
    await page.locator("#staff-email").fill(setup.staff!.email);
    await page.locator("#staff-password").fill("not the password");
    await page.locator("form button[type=submit]").click();
    const alert = page.getByTestId("sign-in-error");
    await expect(alert).toBeVisible();
    // The message errors.ts has for the code (the server's own detail until it has one).
    if (MESSAGES.wrong_credentials) await expect(alert).toHaveText(MESSAGES.wrong_credentials[0]);
    await expect(alert).not.toContainText("wrong_credentials");

    // A member's account signs in but is not venue staff: told so, and left signed out.
    const member = { email: `member-${Date.now()}@example.com`, password: "correct horse battery" };
    const created = await request.post("/api/v2/accounts", { data: { ...member, name: "관객" } });
    expect(created.status()).toBe(201);
    await page.locator("#staff-email").fill(member.email);
    await page.locator("#staff-password").fill(member.password);
    await page.locator("form button[type=submit]").click();
    await expect(alert).toContainText("직원 계정이 아닙니다");
    await expect(page.getByRole("heading", { name: "직원 로그인" })).toBeVisible();
    expect(await page.evaluate(() => localStorage.getItem("picket.staff.session"))).toBeNull();

    // English through the header's switch.
    await page.getByRole("button", { name: "Switch to English" }).click();
    await expect(page.getByRole("heading", { name: "Staff sign-in" })).toBeVisible();
    await expect(alert).toContainText("not a venue-staff account");
  });

  test("forged, foreign and unreadable codes are refused online and offline", async ({ page, context, browser, request }, testInfo) => {
    const setup = await setupShow(request, { staff: true });
    await page.setViewportSize(PHONE);

    // The gate pick, photographed before openScanner goes through it.
    await page.goto("/staff/");
    await page.locator("#staff-email").fill(setup.staff!.email);
    await page.locator("#staff-password").fill(setup.staff!.password);
    await page.locator("form button[type=submit]").click();
    await page.getByRole("button", { name: setup.title, exact: true }).click();
    await page.getByTestId(`pick-performance-${setup.performanceId}`).click();
    await expect(page.getByTestId("pick-gate").first()).toBeVisible();
    await screenshots(page, testInfo, "staff-gate-pick");
    await page.evaluate(() => localStorage.removeItem("picket.staff.session"));
    await openScanner(page, setup);

    const performance = BigInt(setup.performanceId);
    const garbage = await qrPng(browser, "HELLO, I AM NOT A TICKET");
    const madeUp = await qrPng(browser, madeUpCode(performance, 1n));
    const foreign = await qrPng(browser, madeUpCode(performance + 1n, 1n));

    let result = await scanImage(page, garbage);
    await expect(result).toHaveAttribute("data-outcome", "forged");
    await expect(result).toHaveAttribute("data-offline", "false");
    await expect(result).toContainText("유효하지 않은 코드");
    await screenshots(page, testInfo, "staff-refused");

    result = await scanImage(page, madeUp);
    await expect(result).toHaveAttribute("data-outcome", "forged");
    result = await scanImage(page, foreign);
    await expect(result).toHaveAttribute("data-outcome", "wrong_performance");
    await expect(result).toContainText("다른 공연의 티켓");

    // A picture with no QR code in it.
    const blank = await page.locator("header").screenshot();
    result = await scanImage(page, blank);
    await expect(result).toHaveAttribute("data-outcome", "unreadable");

    // Offline the same codes get the same answers, from the verified manifest, and nothing is
    // queued (nothing was admitted).
    await context.setOffline(true);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-online", "false");
    result = await scanImage(page, garbage);
    await expect(result).toHaveAttribute("data-outcome", "forged");
    await expect(result).toHaveAttribute("data-offline", "true");
    result = await scanImage(page, foreign);
    await expect(result).toHaveAttribute("data-outcome", "wrong_performance");
    result = await scanImage(page, madeUp);
    await expect(result).toHaveAttribute("data-outcome", "forged");
    await expect(page.getByTestId("pending")).toHaveAttribute("data-count", "0");
    await screenshots(page, testInfo, "staff-offline-refused");
    await context.setOffline(false);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-online", "true", { timeout: 15_000 });
  });

  /** A buyer (own context) who booked one seat of `setup` and shows the ticket's QR code. */
  async function buyerShowingQr(browser: Browser, setup: ShowSetup) {
    const buyerContext = await browser.newContext({ viewport: PHONE });
    const buyer = await buyerContext.newPage();
    const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    await signUp(buyer, { email: `buyer-${stamp}@example.com`, password: "correct horse battery", name: "김관객", interests: ["musical"] });
    await queueAndBook(buyer, setup, { seats: 1 });
    const qr = await openTicketQr(buyer);
    return { buyerContext, qr };
  }

  test("admits the QR the buyer's page shows, then refuses it as already used", async ({ page, browser, request }, testInfo) => {
    const setup = await setupShow(request, { staff: true, seats: 10 });
    const { buyerContext, qr } = await buyerShowingQr(browser, setup);
    await page.setViewportSize(PHONE);
    await openScanner(page, setup);

    let result = await scanImage(page, await qr.screenshot());
    await expect(result).toHaveAttribute("data-outcome", "admitted");
    await expect(result).toHaveAttribute("data-offline", "false");
    await expect(result).toContainText("입장 확인");
    await screenshots(page, testInfo, "staff-admitted");

    // The same ticket again (a fresh code of it): the door names when it came in.
    result = await scanImage(page, await qr.screenshot());
    await expect(result).toHaveAttribute("data-outcome", "already_used");
    await expect(result).toContainText("이미 입장한 티켓");
    await screenshots(page, testInfo, "staff-already-used");

    // Offline too, this device's own book remembers the admission.
    await page.context().setOffline(true);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-online", "false");
    result = await scanImage(page, await qr.screenshot());
    await expect(result).toHaveAttribute("data-outcome", "already_used");
    await expect(result).toHaveAttribute("data-offline", "true");
    await expect(page.getByTestId("pending")).toHaveAttribute("data-count", "0");
    await page.context().setOffline(false);
    await buyerContext.close();
  });

  test("an offline scan syncs when back online, and the conflict of an earlier scan shows", async ({ page, browser, request }, testInfo) => {
    const setup = await setupShow(request, { staff: true, seats: 10 });
    const { buyerContext, qr } = await buyerShowingQr(browser, setup);
    await page.setViewportSize(PHONE);
    await openScanner(page, setup);
    // A second scanner at another door, online all along.
    const otherContext = await browser.newContext({ viewport: PHONE });
    const other = await otherContext.newPage();
    await openScanner(other, setup);

    await page.context().setOffline(true);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-online", "false");

    // The other door admits the ticket first; this one, offline, cannot know and admits it too.
    const code = await qr.screenshot();
    const first = await scanImage(other, code);
    await expect(first).toHaveAttribute("data-outcome", "admitted");
    const result = await scanImage(page, code);
    await expect(result).toHaveAttribute("data-outcome", "admitted");
    await expect(result).toHaveAttribute("data-offline", "true");
    await expect(page.getByTestId("pending")).toHaveAttribute("data-count", "1");
    await expect(page.getByTestId("connection")).toContainText("오프라인");
    await screenshots(page, testInfo, "staff-offline");

    // Back online: the queue is uploaded and the server's conflict shows, the online entry kept.
    await page.context().setOffline(false);
    await expect(page.getByTestId("pending")).toHaveAttribute("data-count", "0", { timeout: 20_000 });
    const conflict = page.getByTestId("conflict");
    await expect(conflict).toHaveCount(1);
    await expect(conflict).toContainText("두 번 입장");
    await expect(conflict).toContainText("온라인 스캔");
    await expect(conflict).toContainText("이 기기");
    await expect(page.getByTestId("door-counters")).toContainText("충돌 1");
    await screenshots(page, testInfo, "staff-conflict");
    await otherContext.close();
    await buyerContext.close();
  });
});
