// API setup shared by every end-to-end spec: what a seller, an operator and a venue's staff do
// before a buyer opens the app, done through the real HTTP API of the `picket up` that
// playwright.config.ts started (its operator token is in its data directory).
//
// `setupShow` makes, each time with fresh names so specs never share state:
// - a seller (company + account, signed in),
// - a venue whose seat map has coordinates: section "A" (VIP, 160,000원) in front and section
//   "B" (R, 120,000원) behind it, rows of at most 10 seats with an aisle in the middle,
// - a published show (musical, Seoul) with one performance 20 days from now (90 minutes
//   with staff, so its doors are open), two gates
//   ("1층 정문" = gate 1, "2층 입구" = gate 2), a 50% eligibility discount (index 0) and the coupon
//   `COUPON_CODE` (5,000원 off an order),
// - its sale, set by the operator to open `openInMs` from now (default: already open), with
//   small settings for tests (`SALE_DEFAULTS`),
// - optionally a venue-staff account assigned to the show (it may scan its tickets).

import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import type { APIRequestContext, APIResponse, Page, TestInfo } from "@playwright/test";

/** Where the `picket up` under test listens (set by playwright.config.ts). */
export const BASE_URL: string = process.env.PICKET_E2E_URL ?? "http://127.0.0.1:8080";

/** The widths every main page is saved at (playwright.config.ts starts pages at `PHONE`). */
export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

/**
 * Saves the page as it is now at phone and desktop widths, full page, in the test's output
 * directory: `<name>-phone.png` and `<name>-desktop.png`. The viewport is back as it was after.
 */
export async function screenshots(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const before = page.viewportSize() ?? PHONE;
  for (const [width, size] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: testInfo.outputPath(`${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

/** The password of every account the fixtures make. */
export const PASSWORD = "correct horse battery";

/** A coupon every show made here takes: 5,000원 off an order of at least 10,000원. */
export const COUPON_CODE = "WELCOME-5000";
export const COUPON_WON = 5_000;

/** The show's price grades, in the show's (and the ledger's) grade order. */
export const GRADES = [
  { code: "VIP", priceWon: 160_000, section: "A" },
  { code: "R", priceWon: 120_000, section: "B" },
] as const;

/** The show's gates as the scanner lists them (gate ids from 1). */
export const GATES = [
  { gate: 1, label: "1층 정문" },
  { gate: 2, label: "2층 입구" },
] as const;

/** The sale's settings unless a spec asks otherwise (`docs/protocol.md`, the operator API). */
export const SALE_DEFAULTS = {
  admit_per_sec: 5,
  active_max: 50,
  admission_ttl_ms: 10 * 60_000,
  seat_limit: 4,
  grace_ms: 30_000,
  paused: false,
};

export interface ShowSetup {
  operatorToken: string;
  sellerToken: string;
  showId: string;
  performanceId: string;
  saleId: string;
  title: string;
  staff?: { email: string; password: string };
}

export interface SetupOptions {
  /** The queue opens this long from now; absent or 0: already open. */
  openInMs?: number;
  /** Seats in the venue (2 to 200; default 20), split between sections A and B. */
  seats?: number;
  /** The show's title (default: a unique Korean title). */
  title?: string;
  /** Also make a venue-staff account assigned to the show (`ShowSetup.staff`). */
  staff?: boolean;
  /** The sale's admissions per second (default `SALE_DEFAULTS.admit_per_sec`). */
  admitPerSec?: number;
  /** Places one buyer may hold at once (default `SALE_DEFAULTS.seat_limit`). */
  seatLimit?: number;
}

const DAY_MS = 24 * 3_600_000;

export async function setupShow(request: APIRequestContext, opts: SetupOptions = {}): Promise<ShowSetup> {
  const seats = opts.seats ?? 20;
  if (!Number.isInteger(seats) || seats < 2 || seats > 200) throw new Error(`setupShow: seats must be 2 to 200, got ${seats}`);
  const unique = uniqueSuffix();
  const title = opts.title ?? `피켓 뮤지컬 ${unique}`;
  const operatorToken = operatorTokenOf();
  const seatLimit = opts.seatLimit ?? SALE_DEFAULTS.seat_limit;

  const sellerEmail = `seller-${unique}@example.com`;
  await call(request, "POST", "/companies", null, {
    account: { email: sellerEmail, password: PASSWORD, name: "피켓 기획" },
    company: {
      name: `피켓 기획 ${unique}`,
      business_number: businessNumber(),
      contact_email: sellerEmail,
      contact_phone: "02-123-4567",
    },
  }, 201);
  const sellerToken = await signIn(request, sellerEmail);

  const venue = await call(request, "POST", "/venues", sellerToken, {
    name: `피켓 아트홀 ${unique}`,
    region: "seoul",
    address: "서울특별시 종로구 대학로 1",
    layout: seatMap(seats),
  }, 201);

  const now = Date.now();
  const show = await call(request, "POST", "/shows", sellerToken, {
    title,
    category: "musical",
    venue_id: venue.id,
    description: "끝까지 자리를 지킨 사람들의 이야기. 인터미션 20분 포함.",
    age_rating: "7+",
    running_minutes: 150,
    per_buyer_limit: seatLimit,
    grades: GRADES.map((g) => ({ code: g.code, price_won: g.priceWon, sections: [g.section] })),
    queue: { admit_per_sec: opts.admitPerSec ?? SALE_DEFAULTS.admit_per_sec, active_max: SALE_DEFAULTS.active_max },
    discounts: [{ label: "장애인 할인 (동반 1인)", kind: "eligibility", percent: 50, places_max: 2 }],
    coupons: [{
      code: COUPON_CODE,
      amount_won: COUPON_WON,
      min_order_won: 10_000,
      valid_from_ms: now - DAY_MS,
      valid_until_ms: now + 30 * DAY_MS,
      uses_max: 1_000,
    }],
    door: { gates: GATES.map((g) => g.label) },
  }, 201);
  const showId = String(show.id);

  // The performance opens its sale an hour from now, so the sale is not drawn before the
  // operator below moves the opening to where the spec wants it.
  // With staff the performance starts in 90 minutes: doors open two hours before the start, so
  // the scanner's specs can admit tickets now.
  const startsAtMs = opts.staff ? now + 90 * 60_000 : Math.ceil((now + 20 * DAY_MS) / 3_600_000) * 3_600_000;
  const performance = await call(request, "POST", `/shows/${showId}/performances`, sellerToken, {
    starts_at_ms: startsAtMs,
    sale_open_at_ms: now + 3_600_000,
  }, 201);
  const performanceId = String(performance.id);
  const banner = await request.fetch(`${BASE_URL}/api/v2/shows/${showId}/banner`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${sellerToken}`, "Content-Type": "image/png" },
    data: bannerPng(unique),
  });
  if (!banner.ok()) throw new Error(`PUT banner: ${banner.status()}: ${(await banner.text()).slice(0, 300)}`);
  await call(request, "POST", `/shows/${showId}/publish`, sellerToken, undefined, 200);

  // Publishing created the sale (its id is the performance's); the operator sets it for tests.
  const saleId = performanceId;
  await call(request, "PUT", `/sales/${saleId}`, operatorToken, {
    ...SALE_DEFAULTS,
    admit_per_sec: opts.admitPerSec ?? SALE_DEFAULTS.admit_per_sec,
    seat_limit: seatLimit,
    // "Already open" is a second ago, so the (empty) pre-queue is drawn at once.
    open_at_ms: opts.openInMs && opts.openInMs > 0 ? Date.now() + opts.openInMs : Date.now() - 1_000,
  }, 200);

  const setup: ShowSetup = { operatorToken, sellerToken, showId, performanceId, saleId, title };
  if (opts.staff) setup.staff = await staffOf(request, showId, sellerToken, unique);
  return setup;
}

/** Signs `email` in (with `PASSWORD` unless given): the session token. */
export async function signIn(request: APIRequestContext, email: string, password = PASSWORD): Promise<string> {
  const session = await call(request, "POST", "/sessions", null, { email, password }, 201);
  return String(session.token);
}

/** Signs up a member through the API (not the UI): its session token. */
export async function memberToken(request: APIRequestContext, email: string, name = "관객"): Promise<string> {
  await call(request, "POST", "/accounts", null, { email, password: PASSWORD, name }, 201);
  return signIn(request, email);
}

/** `GET /api/v2/sales/{sale}` (public): the sale's status, settings and counters. */
export async function saleView(request: APIRequestContext, saleId: string): Promise<Record<string, unknown>> {
  return call(request, "GET", `/sales/${saleId}`, null, undefined, 200);
}

/** A venue-staff account (made with the operator token) that the seller assigns to the show. */
async function staffOf(request: APIRequestContext, showId: string, sellerToken: string, unique: string) {
  const email = `staff-${unique}@example.com`;
  const account = await call(request, "POST", "/admin/accounts", operatorTokenOf(), {
    account: { email, password: PASSWORD, name: "검표원" },
    role: "staff",
  }, 201);
  await call(request, "POST", `/shows/${showId}/staff`, sellerToken, { account_id: account.id }, 204);
  return { email, password: PASSWORD };
}

/**
 * Sections A then B, each in rows of at most 10 seats numbered from 1, with coordinates in
 * layout units (a seat is 10 wide, an aisle after the 5th seat of a row, B 20 units behind A).
 * The ledger's seat ids follow this order: A's first row first.
 */
function seatMap(seats: number) {
  const inFront = Math.ceil(seats / 2);
  let y = 0;
  const section = (name: string, count: number) => {
    const rows = [];
    for (let row = 0; row * 10 < count; row++) {
      const inRow = Math.min(10, count - row * 10);
      const left = (10 - inRow) * 5; // centre short rows
      rows.push({
        name: String(row + 1),
        seats: Array.from({ length: inRow }, (_, i) => ({
          number: i + 1,
          x: left + i * 10 + (left + i * 10 >= 50 ? 10 : 0),
          y,
        })),
      });
      y += 12;
    }
    y += 20;
    return { name, rows };
  };
  return { sections: [section("A", inFront), section("B", seats - inFront)] };
}

export function operatorTokenOf(): string {
  const fromEnv = process.env.PICKET_E2E_OPERATOR_TOKEN;
  if (fromEnv) return fromEnv;
  const dataDir = process.env.PICKET_E2E_DATA_DIR;
  if (!dataDir) throw new Error("PICKET_E2E_DATA_DIR is not set: run the specs with `npx playwright test` (playwright.config.ts sets it)");
  return readFileSync(join(dataDir, "operator-token"), "utf8").trim();
}

let made = 0;

/** Unique within this run and across runs against the same server. */
function uniqueSuffix(): string {
  made += 1;
  return `${Date.now().toString(36)}${process.pid.toString(36)}${made}${Math.floor(Math.random() * 1_000)}`;
}

/**
 * A random valid 사업자등록번호 (ten digits): weights 1,3,7,1,3,7,1,3,5 on the first nine, plus
 * ⌊9th·5/10⌋; the check digit makes the sum a multiple of 10 (`picket_api::sellers`).
 */
export function businessNumber(): string {
  const digits = Array.from({ length: 9 }, (_, i) => (i === 0 ? 1 + Math.floor(Math.random() * 9) : Math.floor(Math.random() * 10)));
  const weights = [1, 3, 7, 1, 3, 7, 1, 3, 5];
  const sum = digits.reduce((acc, d, i) => acc + d * weights[i], 0) + Math.floor((digits[8] * 5) / 10);
  digits.push((10 - (sum % 10)) % 10);
  return digits.join("");
}

/** One API call; anything but `expected` is an error naming the call and the server's answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(request: APIRequestContext, method: string, path: string, token: string | null, body: unknown, expected: number): Promise<any> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response: APIResponse = await request.fetch(`${BASE_URL}/api/v2${path}`, {
    method,
    headers,
    data: body === undefined ? undefined : body,
  });
  const text = await response.text();
  if (response.status() !== expected) {
    throw new Error(`${method} /api/v2${path}: expected ${expected}, got ${response.status()}: ${text.slice(0, 500)}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** A 320×180 banner in a colour derived from `seed`: a diagonal two-tone PNG, made here so the
 * specs need no image files (each show gets one, as a seller's would). */
export function bannerPng(seed: string): Buffer {
  const width = 320;
  const height = 180;
  let hash = 0;
  for (const ch of seed) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const base = [0x5b, 0x2b, 0xd6].map((c, i) => (c + ((hash >> (i * 8)) & 0x7f)) & 0xff);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const light = x + y * 1.5 > width ? 40 : 0;
      row[1 + x * 3] = Math.min(255, base[0] + light);
      row[2 + x * 3] = Math.min(255, base[1] + light);
      row[3 + x * 3] = Math.min(255, base[2] + light);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(Buffer.concat(rows))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
