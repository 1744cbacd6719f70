// The shared setup does what every other spec relies on: checked through the public API, the
// way the app reads it, not through what setupShow returned about itself.

import { expect, test } from "@playwright/test";
import { BASE_URL, COUPON_CODE, GATES, GRADES, SALE_DEFAULTS, saleView, setupShow, signIn } from "./fixtures";

const api = (path: string) => `${BASE_URL}/api/v2${path}`;

test("setupShow publishes a show on sale now, with a drawn seat map, two grades and staff", async ({ request }) => {
  const setup = await setupShow(request, { staff: true, seats: 24, title: "픽스처 확인 공연" });
  expect(setup.title).toBe("픽스처 확인 공연");

  const show = await (await request.get(api(`/shows/${setup.showId}`))).json();
  expect(show.title).toBe("픽스처 확인 공연");
  expect(show.status).toBe("published");
  expect(show.performances).toHaveLength(1);
  const performance = show.performances[0];
  expect(performance.id).toBe(setup.performanceId);
  expect(performance.sale).toBe(setup.saleId);
  expect(performance.grades.map((g: { grade: string; price_won: number }) => [g.grade, g.price_won])).toEqual(
    GRADES.map((g) => [g.code, g.priceWon]),
  );
  expect(show.door.gates).toEqual(GATES.map((g) => ({ gate: g.gate, label: g.label })));
  expect(show.discounts.length).toBeGreaterThan(0);
  // With staff the performance starts within two hours, so its doors are already open.
  expect(performance.starts_at_ms).toBeGreaterThan(Date.now());
  expect(performance.starts_at_ms).toBeLessThan(Date.now() + 2 * 3_600_000);
  const banner = await request.get(api(`/shows/${setup.showId}/banner`));
  expect(banner.status()).toBe(200);
  expect(banner.headers()["content-type"]).toBe("image/png");

  // Every seat has a place to be drawn at, and no two share one.
  const venue = await (await request.get(api(`/venues/${show.venue_id}`))).json();
  expect(venue.seats).toHaveLength(24);
  const drawn = venue.layout.sections.flatMap((s: { rows: { seats: { x: number; y: number }[] }[] }) => s.rows.flatMap((r) => r.seats));
  expect(drawn).toHaveLength(24);
  expect(new Set(drawn.map((s: { x: number; y: number }) => `${s.x},${s.y}`)).size).toBe(24);
  expect(venue.layout.sections.map((s: { name: string }) => s.name)).toEqual(GRADES.map((g) => g.section));

  // The sale's opening has passed (it is drawn when the first buyer's gateway runs its queue:
  // `drawing` until then, `open` after), with the test settings.
  const sale = await saleView(request, setup.saleId);
  expect(["drawing", "open"]).toContain(sale.status);
  expect(sale.settings).toMatchObject({ ...SALE_DEFAULTS, open_at_ms: expect.any(Number) });
  expect((sale.settings as { open_at_ms: number }).open_at_ms).toBeLessThanOrEqual(Date.now());

  // The seller sees the coupon buyers may type; the staff may scan this show.
  const asSeller = await (await request.get(api(`/shows/${setup.showId}`), { headers: { Authorization: `Bearer ${setup.sellerToken}` } })).json();
  expect(asSeller.coupons.map((c: { code: string }) => c.code)).toEqual([COUPON_CODE]);
  expect(setup.staff).toBeDefined();
  const staffToken = await signIn(request, setup.staff!.email, setup.staff!.password);
  const shows = await (await request.get(api("/staff/shows"), { headers: { Authorization: `Bearer ${staffToken}` } })).json();
  expect(JSON.stringify(shows)).toContain(setup.showId);
});

test("setupShow with openInMs puts the queue's opening ahead, in the pre-queue", async ({ request }) => {
  const before = Date.now();
  const setup = await setupShow(request, { openInMs: 90_000 });
  expect(setup.staff).toBeUndefined();
  const sale = await saleView(request, setup.saleId);
  expect(sale.status).toBe("pre_queue");
  const openAt = (sale.settings as { open_at_ms: number }).open_at_ms;
  expect(openAt).toBeGreaterThanOrEqual(before + 90_000);
  expect(openAt).toBeLessThanOrEqual(Date.now() + 90_000);
  // The catalog tells buyers the same opening.
  const show = await (await request.get(api(`/shows/${setup.showId}`))).json();
  expect(show.performances[0].sale_open_at_ms).toBe(openAt);
});
