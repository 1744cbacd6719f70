// The seat-map editor in the seller console: a seller draws a venue of several sections on the
// canvas, paints the front row into a VIP section, undoes and redoes the paint, saves, reloads
// and sees the same map; the buyers' view of the venue (`GET /api/v2/venues/{id}`, what the
// buyer's seat map draws) has every seat where it was clicked. Then a 50,000-seat stadium:
// every seat drawn, the time per frame of panning and painting measured in the page and
// printed (a figure, not a pass/fail: timing depends on the machine), saved through the API
// and read back seat for seat. Then blocked and wheelchair seats: marked on a selection
// (undoable), saved in place (PUT) while nothing is published, refused in place once a
// performance is (saved as a new venue instead), and drawn so on the buyer's seat map.

import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { BASE_URL, DESKTOP, PASSWORD, SALE_DEFAULTS, bannerPng, businessNumber, memberToken, operatorTokenOf, signIn } from "./fixtures";
import { waitForAdmission } from "./steps/booking";
import { PER_ROW, PITCH, ROW_PITCH, ROWS, canvasView, drawSections, paintFrontRow, saveVenue, type DrawnGrid } from "./steps/editor";

/** A new company's seller, signed in on `page` (the console keeps the session like a member's). */
async function signedInSeller(page: Page, request: APIRequestContext): Promise<string> {
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const email = `editor-${unique}@example.com`;
  const response = await request.post(`${BASE_URL}/api/v2/companies`, {
    data: {
      account: { email, password: PASSWORD, name: "좌석 담당" },
      company: { name: `피켓 공연장 ${unique}`, business_number: businessNumber(), contact_email: email, contact_phone: "02-555-0100" },
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  const token = await signIn(request, email);
  await page.addInitScript((value) => localStorage.setItem("picket.credential", value), JSON.stringify({ kind: "member", token }));
  return token;
}

interface ApiVenue {
  name: string;
  layout: { sections: { name: string; rows: { name: string; seats: { number: number; x: number; y: number; blocked?: boolean; wheelchair?: boolean }[] }[] }[]; zones: unknown[] };
  seats: { id: number; section: string; row: string; number: number; blocked?: boolean; wheelchair?: boolean }[];
}

/** What the status line says (seats · sections · selected), e.g. "좌석 72석 · 구역 4개 · 선택 0석". */
const status = (page: Page) => page.getByTestId("editor-status");

test("a seller draws sections, paints VIP, undoes and redoes, saves; reloaded and as buyers see it, the seats are where they were drawn", async ({ page, request }, testInfo) => {
  await page.setViewportSize(DESKTOP);
  await signedInSeller(page, request);
  const drawn = await drawSections(page, 3);
  const total = 3 * ROWS * PER_ROW;
  await expect(status(page)).toContainText(`좌석 ${total}석`);

  await paintFrontRow(page, drawn[0]);
  const vipCount = page.locator('[data-section="VIP"] .count');
  const aCount = page.locator('[data-section="A"] .count');
  await expect(aCount).toHaveText(`${(ROWS - 1) * PER_ROW}석`);
  await page.screenshot({ path: testInfo.outputPath("editor-painted-desktop.png"), fullPage: true });

  // Undo takes the whole stroke back, redo paints it again.
  await page.getByTestId("editor-undo").click();
  await expect(vipCount).toHaveText("0석");
  await expect(aCount).toHaveText(`${ROWS * PER_ROW}석`);
  await page.getByTestId("editor-redo").click();
  await expect(vipCount).toHaveText(`${PER_ROW}석`);
  // The keyboard does the same on the canvas.
  await page.getByTestId("editor-canvas").focus();
  await page.keyboard.press("Control+z");
  await expect(vipCount).toHaveText("0석");
  await page.keyboard.press("Control+Shift+z");
  await expect(vipCount).toHaveText(`${PER_ROW}석`);

  const venueName = `피켓 아레나 ${Date.now().toString(36)}`;
  const venueId = await saveVenue(page, venueName);
  await page.screenshot({ path: testInfo.outputPath("editor-saved-desktop.png"), fullPage: true });

  // Reloaded from the API: the same seats in the same sections.
  await page.reload();
  await expect(page.getByTestId("editor-canvas")).toHaveAttribute("data-seats", String(total));
  await expect(status(page)).toContainText(`좌석 ${total}석 · 구역 4개`);
  await expect(page.locator('[data-section="VIP"] .count')).toHaveText(`${PER_ROW}석`);
  await expect(page.locator('[data-section="A"] .count')).toHaveText(`${(ROWS - 1) * PER_ROW}석`);
  await expect(page.locator('[data-section="C"] .count')).toHaveText(`${ROWS * PER_ROW}석`);
  await expect(page.getByLabel(/^(공연장 이름|Venue name)$/)).toHaveValue(venueName);

  // As buyers get it: every seat at the layout position of the click that placed it.
  const venue = (await (await request.get(`${BASE_URL}/api/v2/venues/${venueId}`)).json()) as ApiVenue;
  expect(venue.name).toBe(venueName);
  expect(venue.layout.sections.map((s) => s.name)).toEqual(["A", "B", "C", "VIP"]);
  const expected = new Map<string, { x: number; y: number }>();
  drawn.forEach((grid, g) => {
    for (let r = 0; r < ROWS; r++) {
      for (let i = 0; i < PER_ROW; i++) {
        // The first grid's front row was painted into VIP: same rows and numbers, same place.
        const section = g === 0 && r === 0 ? "VIP" : grid.section;
        expected.set(`${section}/${r + 1}/${i + 1}`, { x: grid.x + i * PITCH, y: grid.y + r * ROW_PITCH });
      }
    }
  });
  const actual = new Map<string, { x: number; y: number }>();
  for (const section of venue.layout.sections) {
    for (const row of section.rows) for (const seat of row.seats) actual.set(`${section.name}/${row.name}/${seat.number}`, { x: seat.x, y: seat.y });
  }
  expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  expect(venue.seats).toHaveLength(total);
  // The grids really are apart: the sections do not overlap.
  expect(drawn[1].x - drawn[0].x).toBeGreaterThan((PER_ROW - 1) * PITCH);
});

test("a 50,000-seat stadium: every seat drawn; frame times of panning and painting measured", async ({ page, request }, testInfo) => {
  test.setTimeout(180_000);
  await page.setViewportSize(DESKTOP);
  await signedInSeller(page, request);
  await page.goto("/seller/venues/new");
  const canvas = page.getByTestId("editor-canvas");
  await expect(canvas).toHaveAttribute("data-seats", "0");
  await page.getByRole("button", { name: /^(격자|Grid)$/ }).click();
  await page.getByLabel(/^(열 수|Rows)$/).fill("200");
  await page.getByLabel(/^(열당 좌석|Seats per row)$/).fill("250");
  await page.getByTestId("place-button").click();
  await expect(canvas).toHaveAttribute("data-seats", "50000");
  await canvas.focus();
  await page.keyboard.press("0");
  // Fitted: every one of the 50,000 seats is inside the view and was drawn.
  await expect(canvas).toHaveAttribute("data-seats-drawn", "50000");
  await page.screenshot({ path: testInfo.outputPath("editor-stadium-desktop.png"), fullPage: true });
  // A second section for the stroke to paint seats into (the new section is the brush's).
  await page.getByTestId("add-section").click();
  await expect(page.locator('[data-section="B"] .count')).toHaveText("0석");

  // In the page: a pan (arrow keys) and a paint stroke (pointer events), one step a frame; for
  // each frame the editor's own drawing time (data-frame-ms) and the time from the event to the
  // next frame after it (performance.now()).
  const figures = await page.evaluate(async () => {
    const el = document.querySelector<HTMLCanvasElement>('[data-testid="editor-canvas"]')!;
    const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return { frames: values.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
    };
    const run = async (steps: number, act: (i: number) => void) => {
      const draw: number[] = [], latency: number[] = [];
      for (let i = 0; i < steps; i++) {
        const started = performance.now();
        act(i);
        // The editor asked for its frame during `act`, before this callback: when this one runs,
        // the editor's has drawn.
        await nextFrame();
        latency.push(performance.now() - started);
        draw.push(Number(el.dataset.frameMs));
      }
      return { draw: summary(draw), eventToFrame: summary(latency) };
    };
    el.focus();
    const pan = await run(60, (i) => el.dispatchEvent(new KeyboardEvent("keydown", { key: i % 20 < 10 ? "ArrowRight" : "ArrowLeft", bubbles: true })));
    const drawnAfterPan = Number(el.dataset.seatsDrawn);
    (document.querySelector('[data-tool="paint"]') as HTMLButtonElement).click();
    await nextFrame();
    const rect = el.getBoundingClientRect();
    const y = rect.top + rect.height / 2;
    const pointer = (type: string, x: number) => el.dispatchEvent(new PointerEvent(type, { pointerId: 1, pointerType: "mouse", button: 0, buttons: 1, clientX: x, clientY: y, bubbles: true }));
    pointer("pointerdown", rect.left + 40);
    const paint = await run(60, (i) => pointer("pointermove", rect.left + 40 + i * ((rect.width - 80) / 60)));
    pointer("pointerup", rect.right - 40);
    await nextFrame();
    return { pan, paint, drawnAfterPan, seats: Number(el.dataset.seats) };
  });
  const line = (name: string, f: { draw: { p50: number; p95: number; max: number; frames: number }; eventToFrame: { p50: number; p95: number } }) =>
    `${name}: ${f.draw.frames} frames, drawing p50 ${f.draw.p50.toFixed(1)} ms, p95 ${f.draw.p95.toFixed(1)} ms, max ${f.draw.max.toFixed(1)} ms; event to frame p50 ${f.eventToFrame.p50.toFixed(1)} ms, p95 ${f.eventToFrame.p95.toFixed(1)} ms`;
  const report = [`50,000-seat stadium (${figures.seats} seats, ${figures.drawnAfterPan} drawn after the pan)`, line("pan", figures.pan), line("paint", figures.paint)].join("\n");
  console.log(report);
  await testInfo.attach("editor-50k-frames.txt", { body: report, contentType: "text/plain" });
  expect(figures.seats).toBe(50_000);
  // The stroke across the stadium painted seats into B, as one undo step.
  await expect(page.locator('[data-section="B"] .count')).not.toHaveText("0석");
  await page.getByTestId("editor-undo").click();
  await expect(page.locator('[data-section="B"] .count')).toHaveText("0석");
  await expect(page.locator('[data-section="A"] .count')).toHaveText("50,000석");

  // Saved through the API (section B is empty, so it is left out) and read back: 200 rows of
  // 250, each seat where the grid put it (the grid's first seat at the origin, 10 apart, rows
  // 12 apart), in the order the editor holds them.
  const venueId = await saveVenue(page, `피켓 스타디움 ${Date.now().toString(36)}`);
  const venue = (await (await request.get(`${BASE_URL}/api/v2/venues/${venueId}`)).json()) as ApiVenue;
  expect(venue.seats).toHaveLength(50_000);
  expect(venue.layout.sections.map((s) => s.name)).toEqual(["A"]);
  const rows = venue.layout.sections[0].rows;
  expect(rows).toHaveLength(200);
  const expected = Array.from({ length: 200 }, (_, r) => ({
    name: String(r + 1),
    seats: Array.from({ length: 250 }, (_, i) => ({ number: i + 1, x: i * PITCH, y: r * ROW_PITCH })),
  }));
  expect(rows).toEqual(expected);
  // And the editor opens it again whole.
  await page.reload();
  await expect(canvas).toHaveAttribute("data-seats", "50000");
});

/** Clicks the seat of `grid` at row `r` (0 is the front), seat `i` (0 is the leftmost) with the
 * select tool; `add` keeps what was selected. */
async function clickSeat(page: Page, grid: DrawnGrid, r: number, i: number, add = false): Promise<void> {
  const view = await canvasView(page);
  const x = view.left + (grid.x + i * PITCH) * view.scale + view.tx;
  const y = view.top + (grid.y + r * ROW_PITCH) * view.scale + view.ty;
  if (add) await page.keyboard.down("Shift");
  await page.mouse.click(x, y);
  if (add) await page.keyboard.up("Shift");
}

test("blocked and wheelchair seats: marked and undone in the editor, saved in place until the venue is on sale, and shown on the buyer's map", async ({ page, request, browser }, testInfo) => {
  test.setTimeout(180_000);
  await page.setViewportSize(DESKTOP);
  const sellerToken = await signedInSeller(page, request);
  const [grid] = await drawSections(page, 1);
  await page.getByRole("button", { name: /^(선택|Select)$/ }).click();
  const blockButton = page.getByTestId("sel-blocked");
  const wheelchairButton = page.getByTestId("sel-wheelchair");

  // Front row, seats 2 and 3: blocked (one undo step, undone and redone).
  await clickSeat(page, grid, 0, 1);
  await clickSeat(page, grid, 0, 2, true);
  await expect(status(page)).toContainText("선택 2석");
  await expect(blockButton).toHaveAttribute("aria-pressed", "false");
  await blockButton.click();
  await expect(blockButton).toHaveAttribute("aria-pressed", "true");
  await page.getByTestId("editor-undo").click();
  await expect(blockButton).toHaveAttribute("aria-pressed", "false");
  await page.getByTestId("editor-redo").click();
  await expect(blockButton).toHaveAttribute("aria-pressed", "true");
  // Second row, seat 1: a wheelchair seat.
  await clickSeat(page, grid, 1, 0);
  await expect(status(page)).toContainText("선택 1석");
  await wheelchairButton.click();
  await expect(wheelchairButton).toHaveAttribute("aria-pressed", "true");
  await page.screenshot({ path: testInfo.outputPath("editor-blocked-wheelchair-desktop.png"), fullPage: true });

  const venueId = await saveVenue(page, `피켓 소극장 ${Date.now().toString(36)}`);
  const read = async () => (await (await request.get(`${BASE_URL}/api/v2/venues/${venueId}`)).json()) as ApiVenue;
  let venue = await read();
  const flags = (v: ApiVenue) => v.layout.sections[0].rows.map((row) => row.seats.map((s) => (s.blocked ? "X" : s.wheelchair ? "W" : ".")).join(""));
  expect(flags(venue)).toEqual([".XX.....", "W.......", "........"]);
  expect(venue.seats.filter((s) => s.blocked).map((s) => s.id)).toEqual([1, 2]);
  expect(venue.seats.filter((s) => s.wheelchair).map((s) => s.id)).toEqual([PER_ROW]);

  // Opened again from the console's list of the company's venues, and changed in place: seat 3
  // of the front row unblocked, saved with PUT (the venue keeps its id).
  await page.goto("/seller/");
  await page.getByTestId("my-venues").getByTestId("edit-venue").first().click();
  await expect(page).toHaveURL(new RegExp(`/seller/venues/${venueId}$`));
  await expect(page.getByTestId("editor-canvas")).toHaveAttribute("data-seats", String(ROWS * PER_ROW));
  await page.getByRole("button", { name: /^(선택|Select)$/ }).click();
  await clickSeat(page, grid, 0, 2);
  await expect(blockButton).toHaveAttribute("aria-pressed", "true");
  await blockButton.click();
  await page.getByTestId("editor-save").click();
  await expect(page.getByTestId("editor-saved")).toHaveAttribute("data-venue-id", venueId);
  venue = await read();
  expect(flags(venue)).toEqual([".X......", "W.......", "........"]);

  // A show on it, published, its sale open now.
  const now = Date.now();
  const call = async (method: string, path: string, token: string, body: unknown, expected: number) => {
    const response = await request.fetch(`${BASE_URL}/api/v2${path}`, { method, headers: { Authorization: `Bearer ${token}` }, data: body });
    const text = await response.text();
    expect(response.status(), `${method} ${path}: ${text.slice(0, 300)}`).toBe(expected);
    return text ? JSON.parse(text) : null;
  };
  const title = `휠체어석 공연 ${now.toString(36)}`;
  const show = await call("POST", "/shows", sellerToken, {
    title, category: "concert", venue_id: venueId, description: "", age_rating: "all", running_minutes: 90,
    grades: [{ code: "R", price_won: 50_000, sections: ["A"] }],
  }, 201);
  const performance = await call("POST", `/shows/${show.id}/performances`, sellerToken, {
    starts_at_ms: Math.ceil((now + 20 * 86_400_000) / 3_600_000) * 3_600_000, sale_open_at_ms: now + 3_600_000,
  }, 201);
  // Its banner, as every seller's show has (the buyer app's home page shows it once published).
  const banner = await request.fetch(`${BASE_URL}/api/v2/shows/${show.id}/banner`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${sellerToken}`, "Content-Type": "image/png" },
    data: bannerPng(title),
  });
  expect(banner.ok()).toBe(true);
  await call("POST", `/shows/${show.id}/publish`, sellerToken, undefined, 200);
  await call("PUT", `/sales/${performance.id}`, operatorTokenOf(), { ...SALE_DEFAULTS, open_at_ms: Date.now() - 1_000 }, 200);

  // Now the seats are on sale: saving in place is refused, and the editor offers a new venue.
  await page.reload();
  await expect(page.getByTestId("editor-canvas")).toHaveAttribute("data-seats", String(ROWS * PER_ROW));
  await page.getByRole("button", { name: /^(선택|Select)$/ }).click();
  await clickSeat(page, grid, 2, 7);
  await wheelchairButton.click();
  await page.getByTestId("editor-save").click();
  await expect(page.getByTestId("venue-in-use")).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /공연이 공개된 공연장|A published performance uses this venue/ })).toBeVisible();
  expect(flags(await read())).toEqual([".X......", "W.......", "........"]);
  await page.getByTestId("editor-save").click();
  await page.waitForURL((url) => /\/seller\/venues\/\d+$/.test(url.pathname) && !url.pathname.endsWith(`/${venueId}`));
  await expect(page.getByTestId("venue-saved")).toBeVisible();
  const copyId = /\/seller\/venues\/(\d+)/.exec(page.url())?.[1];
  expect(copyId).toBeTruthy();
  expect(copyId).not.toBe(venueId);
  const copy = (await (await request.get(`${BASE_URL}/api/v2/venues/${copyId}`)).json()) as ApiVenue;
  expect(flags(copy)).toEqual([".X......", "W.......", ".......W"]);

  // The buyer's map: the blocked seat is drawn as never sold and cannot be picked; the
  // wheelchair seat is marked and named so; the legend lists both.
  const buyer = await browser.newPage({ viewport: DESKTOP });
  const token = await memberToken(request, `wheel-${now.toString(36)}@example.com`);
  await buyer.addInitScript((value) => localStorage.setItem("picket.credential", value), JSON.stringify({ kind: "member", token }));
  await buyer.goto(`/performances/${performance.id}/book`);
  await expect(buyer.getByTestId("book-title")).toHaveText(title);
  await waitForAdmission(buyer);
  const blocked = buyer.locator('[data-seat="1"]');
  await expect(blocked).toHaveAttribute("data-state", "blocked");
  await expect(blocked).toHaveAttribute("aria-disabled", "true");
  await expect(blocked).toHaveAttribute("aria-label", /판매하지 않는 좌석|not for sale/);
  await blocked.click({ force: true });
  await expect(blocked).toHaveAttribute("data-state", "blocked");
  const wheelchair = buyer.locator(`[data-seat="${PER_ROW}"]`);
  await expect(wheelchair).toHaveAttribute("data-state", "free");
  await expect(wheelchair).toHaveAttribute("data-wheelchair", "1");
  await expect(wheelchair).toHaveAttribute("aria-label", /^(휠체어석|Wheelchair seat), /);
  await expect(buyer.locator('[data-seat="2"]')).toHaveAttribute("data-state", "free");
  await expect(buyer.getByTestId("legend-wheelchair")).toBeVisible();
  await expect(buyer.getByTestId("legend-blocked")).toBeVisible();
  await wheelchair.click();
  await expect(wheelchair).toHaveAttribute("data-state", "selected");
  await buyer.screenshot({ path: testInfo.outputPath("buyer-blocked-wheelchair-desktop.png"), fullPage: true });
  await buyer.close();
});

test("arcs, lines, numbering right to left, a standing zone and the keyboard; saved as drawn", async ({ page, request }, testInfo) => {
  await page.setViewportSize(DESKTOP);
  await signedInSeller(page, request);
  await page.goto("/seller/venues/new");
  const canvas = page.getByTestId("editor-canvas");
  await expect(canvas).toHaveAttribute("data-seats", "0");

  // Two arc rows around a focus, numbered right to left.
  await page.getByRole("button", { name: /^(곡선 열|Arc)$/ }).click();
  await page.getByLabel(/^(열 수|Rows)$/).fill("2");
  await page.getByLabel(/^(첫 열 반지름|First row radius)$/).fill("60");
  await page.getByLabel(/^(펼친 각도\(°\)|Sweep \(°\))$/).fill("90");
  await page.getByLabel(/^(번호 방향|Numbering direction)$/).selectOption("rtl");
  let view = await canvasView(page);
  const focus = { sx: 300, sy: 60 };
  await page.mouse.click(view.left + focus.sx, view.top + focus.sy);
  const focusAt = { x: Math.round((focus.sx - view.tx) / view.scale), y: Math.round((focus.sy - view.ty) / view.scale) };
  const arcSeats = Number(await canvas.getAttribute("data-seats"));
  expect(arcSeats).toBeGreaterThan(10);

  // A straight row dragged out in a second section.
  await page.getByTestId("add-section").click();
  await page.getByRole("button", { name: /^(직선 열|Line)$/ }).click();
  await page.getByLabel(/^(첫 열 이름|First row)$/).fill("가");
  await page.getByLabel(/^(번호 방향|Numbering direction)$/).selectOption("ltr");
  view = await canvasView(page);
  const lineFrom = { sx: 200, sy: 400 };
  const lineLength = 90; // layout units: 10 seats 10 apart
  await page.mouse.move(view.left + lineFrom.sx, view.top + lineFrom.sy);
  await page.mouse.down();
  await page.mouse.move(view.left + lineFrom.sx + (lineLength * view.scale) / 2, view.top + lineFrom.sy, { steps: 3 });
  await page.mouse.move(view.left + lineFrom.sx + lineLength * view.scale, view.top + lineFrom.sy, { steps: 3 });
  await page.mouse.up();
  await expect(canvas).toHaveAttribute("data-seats", String(arcSeats + 10));
  const lineAt = { x: Math.round((lineFrom.sx - view.tx) / view.scale), y: Math.round((lineFrom.sy - view.ty) / view.scale) };

  // The keyboard: select everything, delete it, undo.
  await canvas.focus();
  await page.keyboard.press("Control+a");
  await expect(status(page)).toContainText(`선택 ${arcSeats + 10}석`);
  await page.keyboard.press("Delete");
  await expect(canvas).toHaveAttribute("data-seats", "0");
  await page.keyboard.press("Control+z");
  await expect(canvas).toHaveAttribute("data-seats", String(arcSeats + 10));
  await page.keyboard.press("Escape");
  await expect(status(page)).toContainText("선택 0석");

  await page.getByTestId("add-zone").click();
  await page.getByLabel(/^(정원|Capacity)$/).fill("500");
  await page.getByLabel(/^(정원|Capacity)$/).press("Tab");
  await page.screenshot({ path: testInfo.outputPath("editor-arcs-desktop.png"), fullPage: true });
  const venueId = await saveVenue(page, `피켓 원형극장 ${Date.now().toString(36)}`);

  const venue = (await (await request.get(`${BASE_URL}/api/v2/venues/${venueId}`)).json()) as ApiVenue;
  expect(venue.layout.zones).toEqual([{ name: "스탠딩 1", capacity: 500 }]);
  const [arc, line] = venue.layout.sections;
  expect(arc.name).toBe("A");
  expect(arc.rows.map((r) => r.name)).toEqual(["1", "2"]);
  arc.rows.forEach((row, r) => {
    for (const seat of row.seats) {
      // On its row's circle around the clicked focus (coordinates are whole units), below it.
      expect(Math.abs(Math.hypot(seat.x - focusAt.x, seat.y - focusAt.y) - (60 + 12 * r))).toBeLessThanOrEqual(1.5);
      expect(seat.y).toBeGreaterThan(focusAt.y);
    }
    // Numbered right to left: 1 is the rightmost seat, numbers grow leftwards.
    const byX = [...row.seats].sort((a, b) => b.x - a.x).map((s) => s.number);
    expect(byX).toEqual(Array.from({ length: row.seats.length }, (_, i) => i + 1));
  });
  expect(line.name).toBe("B");
  expect(line.rows).toEqual([{ name: "가", seats: Array.from({ length: 10 }, (_, i) => ({ number: i + 1, x: lineAt.x + i * 10, y: lineAt.y })) }]);
});
