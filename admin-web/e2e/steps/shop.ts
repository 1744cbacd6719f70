// The shop's steps other specs reuse (agreed in the web brief): sign up, open the newest
// booking's QR ticket, look a guest booking up. They drive the UI as a buyer would, by labels
// and test ids, in whichever language the page is in.
import { type Locator, type Page, expect } from "@playwright/test";

export async function signUp(page: Page, opts: { email: string; password: string; name: string; interests: string[] }): Promise<void> {
  await page.goto("/signup");
  await page.locator("#su-email").fill(opts.email);
  await page.locator("#su-password").fill(opts.password);
  await page.locator("#su-name").fill(opts.name);
  // Interests are the API's codes: categories (`concert`) or regions (`seoul`).
  for (const code of opts.interests) {
    await page.locator(`input[name="categories"][value="${code}"], input[name="regions"][value="${code}"]`).check();
  }
  await page.locator('form button[type="submit"]').click();
  // Signed in: the header offers the member's pages.
  await expect(page.getByTestId("nav-inbox")).toBeVisible();
}

export async function openTicketQr(page: Page): Promise<Locator> {
  await page.goto("/me/bookings");
  // Newest first: the first booking, then its first ticket still valid.
  await page.getByTestId("booking").first().getByRole("link").first().click();
  await page.getByTestId("open-ticket").first().click();
  const qr = page.getByTestId("ticket-qr");
  await expect(qr).toBeVisible();
  return qr;
}

export async function lookUpGuestBooking(page: Page, bookingNumber: string, phone: string): Promise<void> {
  await page.goto("/guest");
  await page.locator("#g-number").fill(bookingNumber);
  await page.locator("#g-phone").fill(phone);
  await page.locator('form button[type="submit"]').click();
  await expect(page.getByTestId("guest-booking")).toContainText(bookingNumber.toUpperCase());
}
