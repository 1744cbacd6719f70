// The staff scanner's steps, shared by specs: sign the show's staff in at /staff/, pick the
// performance and a gate, and feed a code image to the scanner through its picture input (the
// same decoder path as camera frames).

import { expect, type Locator, type Page } from "@playwright/test";
import type { ShowSetup } from "../fixtures";

/** Signs `setup.staff` in at /staff/, picks the show, `setup.performanceId` and the first gate. */
export async function openScanner(page: Page, setup: ShowSetup): Promise<void> {
  if (!setup.staff) throw new Error("setupShow(…, { staff: true }) makes the staff account the scanner signs in with");
  await page.goto("/staff/");
  await page.locator("#staff-email").fill(setup.staff.email);
  await page.locator("#staff-password").fill(setup.staff.password);
  await page.locator("form button[type=submit]").click();
  await page.getByRole("button", { name: setup.title, exact: true }).click();
  await page.getByTestId(`pick-performance-${setup.performanceId}`).click();
  await page.getByTestId("pick-gate").first().click();
  await expect(page.getByTestId("scan-result")).toBeVisible();
  // Online, with the performance's signed list verified and kept: ready to scan either way.
  await expect(page.getByTestId("connection")).toHaveAttribute("data-online", "true", { timeout: 15_000 });
  await expect(page.getByTestId("manifest-state")).toHaveAttribute("data-state", "ready", { timeout: 15_000 });
}

/**
 * Feeds a code image (PNG, or any image the browser opens) to the scanner and waits for its
 * answer: the result element, whose `data-outcome` is the typed result code.
 */
export async function scanImage(page: Page, png: Buffer): Promise<Locator> {
  const result = page.getByTestId("scan-result");
  const before = Number((await result.getAttribute("data-seq")) ?? "0");
  await page.getByTestId("scan-file").setInputFiles({ name: "code.png", mimeType: "image/png", buffer: png });
  // An answer within the stream's time-out, or decided offline after it.
  await expect(result).not.toHaveAttribute("data-seq", String(before), { timeout: 15_000 });
  return result;
}
