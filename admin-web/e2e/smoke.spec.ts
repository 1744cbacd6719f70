// The two pages load from the real `picket up` (the UI embedded in the binary) at a phone's and
// a desktop's width with nothing going wrong in the console, Korean by default with English a
// tap away, and a path the app does not know shows its not-found page.

import { expect, test, type Page } from "@playwright/test";
import { DESKTOP, PHONE, screenshots } from "./fixtures";

/** The buyer app's first load, everything the page fetches, as sent (gzipped): issue 16's aim. */
const FIRST_LOAD_BYTES_MAX = 300 * 1024;

/** Console errors, uncaught exceptions and failed requests of `page`, as they happen. */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => errors.push(`exception: ${error.message}`));
  page.on("requestfailed", (request) => errors.push(`failed: ${request.url()} ${request.failure()?.errorText ?? ""}`));
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return errors;
}

for (const [width, size] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
  test(`the buyer app and the scanner load at ${width} width without errors`, async ({ page }) => {
    await page.setViewportSize(size);
    const errors = watchForErrors(page);

    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", "ko");
    await expect(page.getByRole("link", { name: "Picket" })).toBeVisible();
    await expect(page.locator("main")).toBeVisible();
    // Let the home page's banners finish first: leaving while they load would abort them, and
    // an abort the test caused is no fault of the page's.
    await page.waitForLoadState("networkidle");

    await page.goto("/staff/");
    await expect(page.locator("html")).toHaveAttribute("lang", "ko");
    await expect(page.locator("main")).toBeVisible();
    await expect(page).toHaveTitle(/Picket/);

    // Nothing scrolls sideways on a phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.waitForLoadState("networkidle");
    expect(errors).toEqual([]);
  });
}

test("the buyer app opens in Korean and the header's toggle switches it to English and back", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await expect(page.getByRole("navigation", { name: "주 메뉴" })).toBeAttached();
  await screenshots(page, testInfo, "home");

  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("navigation", { name: "Main menu" })).toBeAttached();
  await screenshots(page, testInfo, "home-en");

  // The choice is kept on the device.
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByRole("button", { name: "한국어로 보기" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  expect(errors).toEqual([]);
});

test("a path the app does not know shows the not-found page, in the page's language", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const response = await page.goto("/no-such-page/at-all");
  // The server hands every client route the app; the app decides it is unknown.
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1, name: "페이지를 찾을 수 없습니다" })).toBeVisible();
  await screenshots(page, testInfo, "not-found");
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  // Its way out leads home.
  await page.getByRole("main").getByRole("link").first().click();
  await expect(page).toHaveURL(/\/$/);
  expect(errors).toEqual([]);
});

test("the scanner's page is served at /staff/ and /staff redirects there", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await page.goto("/staff");
  await expect(page).toHaveURL(/\/staff\/$/);
  await expect(page.locator("main")).toBeVisible();
  await screenshots(page, testInfo, "staff");
  expect(errors).toEqual([]);
});

test("the buyer app's first load is under 300 KB as sent", async ({ page }, testInfo) => {
  const responses: Promise<number>[] = [];
  page.on("requestfinished", (request) => {
    responses.push(request.sizes().then((sizes) => sizes.responseBodySize));
  });
  await page.goto("/");
  await page.waitForLoadState("networkidle");
  const sizes = await Promise.all(responses);
  const total = sizes.reduce((sum, bytes) => sum + bytes, 0);
  // A page that loaded nothing would pass for the wrong reason.
  expect(sizes.length).toBeGreaterThanOrEqual(2);
  expect(total).toBeGreaterThan(1_000);
  testInfo.annotations.push({ type: "first load", description: `${sizes.length} files, ${total} bytes as sent` });
  console.log(`buyer app first load: ${sizes.length} files, ${(total / 1024).toFixed(1)} KB as sent`);
  expect(total).toBeLessThanOrEqual(FIRST_LOAD_BYTES_MAX);
});
