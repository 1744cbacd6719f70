// Booking through the buyer app as a person would: the performance's booking page, the queue,
// the seat map, checkout, the sandbox provider's payment page with a test card, and back to the
// app's confirmation. Shared by every spec that needs a booking (web-common.md's interface).

import { expect, type Page } from "@playwright/test";
import type { ShowSetup } from "../fixtures";

/** The sandbox's card that is approved at confirm (docs/payments.md, "test cards"). */
export const APPROVED_CARD = "4330 0000 0000 0001";
/** The sandbox's card that the provider declines at confirm. */
export const DECLINED_CARD = "4330 0000 0000 0019";

/** The admission may come after a long line; the sale's defaults admit several a second. */
const ADMISSION_TIMEOUT_MS = 90_000;

export async function queueAndBook(
  page: Page,
  setup: ShowSetup,
  opts: { seats: number; guest?: { name: string; phone: string } },
): Promise<{ bookingNumber: string }> {
  await openBooking(page, setup);
  await waitForAdmission(page);
  await pickSeats(page, opts.seats);
  await holdAndCheckout(page);
  if (opts.guest) await fillGuest(page, opts.guest);
  await payOnSandbox(page, APPROVED_CARD);
  return { bookingNumber: await confirmedBookingNumber(page) };
}

/** The show page's "예매하기 / Book" link target for the performance. */
export async function openBooking(page: Page, setup: ShowSetup): Promise<void> {
  await page.goto(`/performances/${setup.performanceId}/book`);
  await expect(page.getByTestId("book-title")).toHaveText(setup.title);
}

export async function waitForAdmission(page: Page): Promise<void> {
  await expect(page.getByTestId("admitted")).toBeVisible({ timeout: ADMISSION_TIMEOUT_MS });
  await expect(page.getByTestId("seat-map")).toBeVisible();
}

/** Clicks `count` seats on sale, the first ones in the map's order; returns their seat ids. */
export async function pickSeats(page: Page, count: number): Promise<number[]> {
  const free = page.locator('[data-testid="seat-map"] [data-state="free"]');
  await expect(free.first()).toBeVisible();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const seat = free.first();
    ids.push(Number(await seat.getAttribute("data-seat")));
    await seat.click();
    await expect(page.locator(`[data-seat="${ids[i]}"]`)).toHaveAttribute("data-state", "selected");
  }
  return ids;
}

/** Holds the picked seats and waits for the server's breakdown. */
export async function holdAndCheckout(page: Page): Promise<void> {
  await page.getByTestId("hold-seats").click();
  await expect(page.getByTestId("breakdown")).toBeVisible();
}

export async function fillGuest(page: Page, guest: { name: string; phone: string }): Promise<void> {
  await page.locator("#guest-name").fill(guest.name);
  await page.locator("#guest-phone").fill(guest.phone);
}

/** Pays on the sandbox provider's checkout page with `card`, which sends the browser back. */
export async function payOnSandbox(page: Page, card: string): Promise<void> {
  await page.getByTestId("pay").click();
  const cardField = page.locator("#cardNumber");
  await expect(cardField).toBeVisible();
  await cardField.fill(card);
  await page.locator('form[action="/checkout"] button[type="submit"]').click();
  await page.waitForURL(/\/booking\/return/);
}

/** The booking number the app's confirmation shows once the booking is listed: a guest's
 *  `P` and ten digits, or a member's booking id (members' bookings have no separate number). */
export async function confirmedBookingNumber(page: Page): Promise<string> {
  await expect(page.getByTestId("booking-confirmed")).toBeVisible({ timeout: 30_000 });
  const number = page.getByTestId("booking-number");
  await expect(number).toHaveText(/^(P[0-9]{10}|[0-9]{1,20})$/, { timeout: 20_000 });
  return (await number.textContent())!.trim();
}
