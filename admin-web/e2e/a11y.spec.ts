// Accessibility of the main pages, checked by axe-core (a checker no one here wrote) in Chromium:
// no serious or critical violation (missing labels, names, contrast, ARIA misuse) on the buyer
// app's browse and show pages, the sign-in and sign-up forms, the staff scanner's sign-in, the
// seller console's sign-in and the admin dashboard's sign-in.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { setupShow } from "./fixtures";

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

test("the main pages have no serious accessibility violations", async ({ page, request }) => {
  const setup = await setupShow(request, {});
  const pages: [string, string][] = [
    ["/", "h1"],
    [`/shows/${setup.showId}`, "h1"],
    ["/signin", "form"],
    ["/signup", "form"],
    ["/staff/", "form"],
    ["/seller/signin", "form"],
    ["/admin/signin", "form"],
  ];
  const found: string[] = [];
  for (const [path, ready] of pages) {
    await page.goto(path);
    await expect(page.locator(ready).first()).toBeVisible();
    for (const violation of await seriousViolations(page)) found.push(`${path}: ${violation}`);
  }
  expect(found).toEqual([]);
});
