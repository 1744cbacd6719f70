// Drawing a venue in the seller console's seat-map editor as a seller would: grids of seats
// clicked onto the canvas, one section each, the front row of the first painted into a "VIP"
// section (the format prices whole sections: the show form then gives VIP its grade), the
// venue's name and address, save. The page must be signed in as a seller (the console's frame
// sends anyone else to sign in).

import { expect, type Page } from "@playwright/test";

/** Each drawn section: a grid of `ROWS` rows of `PER_ROW` seats, 10 units apart in a row and
 * 12 between rows (the editor's defaults). */
export const ROWS = 3;
export const PER_ROW = 8;
export const PITCH = 10;
export const ROW_PITCH = 12;
/** Screen pixels between the grids' first seats (a grid is 70 units wide). */
const GRID_GAP_PX = 200;

/** The section names drawVenue makes: "A", "B", … then "VIP" (the painted front row). */
export function drawnSectionNames(sections: number): string[] {
  return [...Array.from({ length: sections }, (_, i) => String.fromCharCode(65 + i)), "VIP"];
}

/** Where each grid's first seat went, in layout units (what the API must have). */
export interface DrawnGrid {
  section: string;
  x: number;
  y: number;
}

/** The canvas's view: layout → screen is `layout × scale + (tx, ty)`. */
export async function canvasView(page: Page): Promise<{ scale: number; tx: number; ty: number; left: number; top: number }> {
  const canvas = page.getByTestId("editor-canvas");
  const box = (await canvas.boundingBox())!;
  const [scale, tx, ty] = await Promise.all(["data-scale", "data-tx", "data-ty"].map(async (name) => Number(await canvas.getAttribute(name))));
  return { scale, tx, ty, left: box.x, top: box.y };
}

/** Sets a labelled number or text field in the editor's panel. */
async function fill(page: Page, label: string | RegExp, value: string | number): Promise<void> {
  await page.getByLabel(label, { exact: typeof label === "string" }).fill(String(value));
}

/** Draws `sections` grids side by side (sections A, B, …) on /seller/venues/new. */
export async function drawSections(page: Page, sections: number): Promise<DrawnGrid[]> {
  if (!Number.isInteger(sections) || sections < 1 || sections > 4) throw new Error(`drawSections: 1 to 4 sections, got ${sections}`);
  await page.goto("/seller/venues/new");
  const canvas = page.getByTestId("editor-canvas");
  await expect(canvas).toHaveAttribute("data-seats", "0");
  await page.getByRole("button", { name: /^(격자|Grid)$/ }).click();
  await fill(page, /^(열 수|Rows)$/, ROWS);
  await fill(page, /^(열당 좌석|Seats per row)$/, PER_ROW);
  const drawn: DrawnGrid[] = [];
  for (let i = 0; i < sections; i++) {
    const name = drawnSectionNames(sections)[i];
    if (i > 0) await page.getByTestId("add-section").click();
    // The new section is the one seats go into; its name is the next letter.
    await expect(page.getByLabel(/^(넣을 구역|Into section)$/)).toHaveValue(String(i));
    await expect(page.locator(`[data-section="${name}"]`)).toBeVisible();
    const view = await canvasView(page);
    const sx = 80 + i * GRID_GAP_PX, sy = 80;
    await page.mouse.click(view.left + sx, view.top + sy);
    drawn.push({ section: name, x: Math.round((sx - view.tx) / view.scale), y: Math.round((sy - view.ty) / view.scale) });
    await expect(canvas).toHaveAttribute("data-seats", String((i + 1) * ROWS * PER_ROW));
  }
  return drawn;
}

/** Adds a "VIP" section and paints the first grid's front row into it with the brush. */
export async function paintFrontRow(page: Page, first: DrawnGrid): Promise<void> {
  await page.getByTestId("add-section").click();
  const names = page.locator(".section-name");
  await names.last().fill("VIP");
  await names.last().press("Enter");
  await names.last().blur();
  await page.getByRole("button", { name: /^(구역 칠하기|Paint sections)$/ }).click();
  await page.getByLabel(/^(칠할 구역|Paint into section)$/).selectOption({ label: "VIP" });
  const view = await canvasView(page);
  const at = (x: number) => ({ x: view.left + x * view.scale + view.tx, y: view.top + first.y * view.scale + view.ty });
  const from = at(first.x), to = at(first.x + (PER_ROW - 1) * PITCH);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let step = 1; step <= 10; step++) await page.mouse.move(from.x + ((to.x - from.x) * step) / 10, from.y);
  await page.mouse.up();
  await expect(page.locator('[data-section="VIP"] .count')).toHaveText(new RegExp(`^${PER_ROW}`));
}

/** Names the venue, saves it and waits for its page: the new venue's id. */
export async function saveVenue(page: Page, name: string): Promise<string> {
  await fill(page, /^(공연장 이름|Venue name)$/, name);
  await page.getByLabel(/^(지역|Region)$/).selectOption("seoul");
  await fill(page, /^(주소|Address)$/, "서울특별시 송파구 올림픽로 424");
  await page.getByTestId("editor-save").click();
  await expect(page.getByTestId("venue-saved")).toBeVisible();
  const id = /\/seller\/venues\/(\d+)/.exec(page.url())?.[1];
  if (!id) throw new Error(`saveVenue: no venue id in ${page.url()}`);
  return id;
}

/** Draws `opts.sections` sections of rows, paints the front row of the first into "VIP",
 * saves: the venue's id. */
export async function drawVenue(page: Page, opts: { sections: number; name?: string }): Promise<string> {
  const drawn = await drawSections(page, opts.sections);
  await paintFrontRow(page, drawn[0]);
  return saveVenue(page, opts.name ?? `피켓 홀 ${Date.now().toString(36)}`);
}
