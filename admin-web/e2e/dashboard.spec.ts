// The seller's live dashboard (`/seller/shows/:id/dashboard`), in Chromium against a real
// `picket up`: a buyer books through the buyer app in another browser context while the
// seller's dashboard is open, and the booking shows there over the WebSocket (no polling; the
// time it took is printed, the aim is under 2 s); the seller pauses the queue on the dashboard
// and a buyer joining the queue sees "paused"; the settlement's CSV downloads; the seat map's
// legend counts the buyer's seats as held, then sold once paid. Screenshots at desktop width.

import { expect, test, type Browser, type Page } from "@playwright/test";
import { DESKTOP, setupShow, type ShowSetup } from "./fixtures";
import { APPROVED_CARD, confirmedBookingNumber, fillGuest, holdAndCheckout, openBooking, payOnSandbox, pickSeats, waitForAdmission } from "./steps/booking";

/** The aim: a booking reaches the seller's dashboard within this. Tests never fail on
 * timing alone (a loaded CI machine is not a benchmark): the time is measured, printed and
 * attached to the report, and what is asserted is that the update came over the socket. */
const LIVE_AIM_MS = 2_000;

async function sellerDashboard(browser: Browser, setup: ShowSetup): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: "ko-KR" });
  // The seller's session, kept as the console keeps it (`saveCredential`, kind "member").
  await context.addInitScript((token) => {
    localStorage.setItem("picket.credential", JSON.stringify({ kind: "member", token }));
  }, setup.sellerToken);
  const page = await context.newPage();
  await page.goto(`/seller/shows/${setup.showId}/dashboard`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(setup.title);
  await expect(page.getByTestId("dash-bookings")).toHaveText("0", { timeout: 15_000 });
  return page;
}

test("a buyer's booking appears on the seller's live dashboard, over the WebSocket", async ({ browser, page: buyer, request }, testInfo) => {
  const setup = await setupShow(request, { seats: 20 });
  const seller = await sellerDashboard(browser, setup);
  await expect(seller.getByTestId("dash-commission")).toHaveText("0원");
  await expect(seller.getByTestId("left-VIP")).toHaveText("10");
  await expect(seller.getByTestId("seat-map")).toBeVisible();
  await expect(seller.getByTestId("seats-f")).toHaveText("20");
  await expect(seller.getByTestId("seats-h")).toHaveText("0");
  await expect(seller.getByTestId("seats-s")).toHaveText("0");
  await seller.screenshot({ path: testInfo.outputPath("dashboard-before-desktop.png"), fullPage: true });

  // The dashboard asks nothing over HTTP while it waits: the booking must come over the socket.
  const polled: string[] = [];
  seller.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/")) polled.push(request.url());
  });
  await openBooking(buyer, setup);
  await waitForAdmission(buyer);
  await pickSeats(buyer, 2);
  await holdAndCheckout(buyer);
  // Held, not paid yet: the seller's map counts the two seats as held.
  await expect(seller.getByTestId("seats-h")).toHaveText("2", { timeout: 15_000 });
  await expect(seller.getByTestId("seats-f")).toHaveText("18");
  await expect(seller.getByTestId("seats-s")).toHaveText("0");
  await seller.screenshot({ path: testInfo.outputPath("dashboard-held-desktop.png"), fullPage: true });
  await fillGuest(buyer, { name: "김관객", phone: "010-1234-5678" });
  await payOnSandbox(buyer, APPROVED_CARD);
  await confirmedBookingNumber(buyer);
  // The buyer's page says "confirmed" only after the ledger committed the booking.
  const confirmedAt = Date.now();
  await expect(seller.getByTestId("dash-bookings")).toHaveText("1", { timeout: 15_000 });
  const tookMs = Date.now() - confirmedAt;
  console.log(`the booking reached the seller's dashboard ${tookMs} ms after the buyer's page confirmed it (aim: under ${LIVE_AIM_MS} ms)`);
  testInfo.annotations.push({ type: "dashboard latency", description: `${tookMs} ms (aim: under ${LIVE_AIM_MS} ms)` });
  expect(polled, "the dashboard's update came over the WebSocket, not by polling").toEqual([]);
  await expect(seller.getByTestId("dash-sales")).toHaveText("320,000원");
  await expect(seller.getByTestId("dash-net")).toHaveText("320,000원");
  await expect(seller.getByTestId("left-VIP")).toHaveText("8");
  await expect(seller.getByTestId("queue-status")).toHaveText("판매 중");
  await expect(seller.getByTestId("charts")).toBeVisible();
  // Paid: the two seats are sold now, none held.
  await expect(seller.getByTestId("seats-s")).toHaveText("2");
  await expect(seller.getByTestId("seats-h")).toHaveText("0");
  await expect(seller.getByTestId("seats-f")).toHaveText("18");
  await seller.screenshot({ path: testInfo.outputPath("dashboard-live-desktop.png"), fullPage: true });

  // The settlement's CSV, with the seller's session.
  const download = seller.waitForEvent("download");
  await seller.getByTestId("settlement-csv").click();
  const csv = await download;
  expect(csv.suggestedFilename()).toBe(`settlement-${setup.showId}.csv`);
  const text = await (await csv.createReadStream()).toArray();
  const rows = Buffer.concat(text).toString("utf8").trim().split("\n");
  expect(rows[0]).toBe("performance,starts_at_ms,bookings,sales_won,refunds_won,cancellation_fees_won,booking_fees_won,platform_commission_won,net_payable_won");
  expect(rows[1].split(",").slice(2)).toEqual(["1", "320000", "0", "0", "0", "0", "320000"]);
  await seller.context().close();
});

test("the seller pauses the queue and a buyer's queue page shows paused", async ({ browser, page: buyer, request }, testInfo) => {
  const setup = await setupShow(request, { seats: 20 });
  const seller = await sellerDashboard(browser, setup);
  // The sale is open, but nobody has joined yet: its (empty) pre-queue is drawn when the first
  // buyer arrives, so the dashboard says "drawing" until then.
  await seller.getByTestId("queue-pause").click();
  await expect(seller.getByTestId("queue-pause")).toHaveText("입장 재개", { timeout: 10_000 });

  await openBooking(buyer, setup);
  await expect(buyer.getByTestId("queue-status")).toHaveAttribute("data-status", "paused", { timeout: 15_000 });
  await expect(seller.getByTestId("queue-status")).toHaveText("일시 중지", { timeout: 10_000 });
  await expect(buyer.getByTestId("admitted")).toHaveCount(0);
  await seller.screenshot({ path: testInfo.outputPath("dashboard-paused-desktop.png"), fullPage: true });
  await buyer.setViewportSize(DESKTOP);
  await buyer.screenshot({ path: testInfo.outputPath("buyer-queue-paused-desktop.png"), fullPage: true });

  // Resumed: the waiting buyer is admitted.
  await seller.getByTestId("queue-pause").click();
  await expect(seller.getByTestId("queue-status")).toHaveText("판매 중", { timeout: 10_000 });
  await expect(buyer.getByTestId("admitted")).toBeVisible({ timeout: 30_000 });
  await seller.context().close();
});
