// The seat map as the editor holds it, and the API's venue format it loads from and saves to
// (`POST /api/v2/venues`, `PUT` and `GET /api/v2/venues/{id}`; api/src/venues.rs). What is saved
// is exactly the buyer's seat map: sections of rows of seats with layout coordinates (integers,
// origin top left), blocked seats (never sold) and wheelchair seats, and standing zones with
// capacities. The format carries no price grades — a show maps its
// grades (VIP/R/S/A with prices) onto whole sections and zones — so "painting grades" here is
// painting seats into sections, which the show form then prices.
//
// The editor keeps seats flat (one array, layout order), which is what a 50,000-seat stadium
// needs: drawing and hit testing walk arrays, never nested rows.

/** `picket_api::venues`: what the API accepts; the editor checks before sending. */
export const SEATS_PER_VENUE_MAX = 60_000;
export const ZONES_PER_VENUE_MAX = 64;
export const PLACE_NAME_LEN_MAX = 32;
export const NAME_LEN_MAX = 100;
export const ADDRESS_LEN_MAX = 200;
/** `picket_ledger_core::limits::ZONE_CAPACITY_MAX`. */
export const ZONE_CAPACITY_MAX = 200_000;
/** A seat number is a u16 in the API. */
export const SEAT_NUMBER_MAX = 65_535;
/** Seats the editor holds at once: a large stadium, with room to work (the API saves at most
 * `SEATS_PER_VENUE_MAX`). */
export const EDITOR_SEATS_MAX = 100_000;
/** Seats one grid, line or arc may add at once. */
export const PLACE_SEATS_MAX = 60_000;
/** Sections the editor holds (each a colour on the map). */
export const SECTIONS_MAX = 200;
/** Coordinates stay well inside the API's i32. */
export const COORD_ABS_MAX = 10_000_000;

export interface Seat {
  /** The editor's own key (stable across edits, never saved). */
  key: number;
  /** Index into `Doc.sections`. */
  section: number;
  row: string;
  number: number;
  x: number;
  y: number;
  /** Never sold (a camera position, an obstructed view, held back): the ledger refuses holds on it. */
  blocked?: boolean;
  /** An accessible (wheelchair) seat, sold like any other; buyers' maps mark it. */
  wheelchair?: boolean;
}

export interface Section {
  name: string;
}

export interface Zone {
  name: string;
  capacity: number;
}

/** A seat as the API writes it: the flags only when true. */
export interface ApiSeat {
  number: number;
  x: number;
  y: number;
  blocked?: boolean;
  wheelchair?: boolean;
}

/** The API's layout, as `POST`/`PUT /venues` take it and `GET /venues/{id}` returns it. */
export interface ApiLayout {
  sections: { name: string; rows: { name: string; seats: ApiSeat[] }[] }[];
  zones: Zone[];
}

export interface VenueMeta {
  name: string;
  region: string;
  address: string;
}

export interface Doc {
  sections: Section[];
  seats: Seat[];
  zones: Zone[];
}

let nextKey = 1;
export function seatKey(): number {
  return nextKey++;
}

/** The editor's document from the API's layout, seats in the API's (ledger id) order. */
export function docFromLayout(layout: ApiLayout): Doc {
  const seats: Seat[] = [];
  layout.sections.forEach((section, index) => {
    for (const row of section.rows) {
      for (const s of row.seats) {
        const seat: Seat = { key: seatKey(), section: index, row: row.name, number: s.number, x: s.x, y: s.y };
        if (s.blocked) seat.blocked = true;
        if (s.wheelchair) seat.wheelchair = true;
        seats.push(seat);
      }
    }
  });
  return { sections: layout.sections.map((s) => ({ name: s.name })), seats, zones: (layout.zones ?? []).map((z) => ({ ...z })) };
}

/**
 * The API's layout: sections in the editor's order, each section's rows in the order their first
 * seat appears, each row's seats in editor order. A document loaded from the API comes back in
 * the order it came (so seat ids are unchanged). Sections without seats are left out.
 */
export function layoutFromDoc(doc: Doc): ApiLayout {
  const rowsBySection = doc.sections.map(() => new Map<string, ApiSeat[]>());
  for (const seat of doc.seats) {
    const rows = rowsBySection[seat.section];
    let row = rows.get(seat.row);
    if (!row) rows.set(seat.row, (row = []));
    const out: ApiSeat = { number: seat.number, x: Math.round(seat.x), y: Math.round(seat.y) };
    if (seat.blocked) out.blocked = true;
    if (seat.wheelchair) out.wheelchair = true;
    row.push(out);
  }
  const sections = doc.sections
    .map((section, index) => ({ name: section.name.trim(), rows: [...rowsBySection[index]].map(([name, seats]) => ({ name: name.trim(), seats })) }))
    .filter((section) => section.rows.length > 0);
  return { sections, zones: doc.zones.map((z) => ({ name: z.name.trim(), capacity: z.capacity })) };
}

/** One problem that would make the API refuse the layout, in both languages. */
export interface Problem {
  ko: string;
  en: string;
  /** Seats to select to show where (keys). */
  seats?: number[];
}

const textOk = (text: string, max: number) => [...text].length <= max && text.trim() !== "";

/** The API's venue rules (`validate_venue`), checked before sending, each with the seats at fault. */
export function problems(doc: Doc): Problem[] {
  const out: Problem[] = [];
  const used = new Set(doc.seats.map((s) => s.section));
  if (doc.seats.length + doc.zones.length === 0) out.push({ ko: "좌석이나 스탠딩 구역이 하나 이상 필요합니다.", en: "Add at least one seat or standing zone." });
  if (doc.seats.length > SEATS_PER_VENUE_MAX) {
    out.push({
      ko: `저장할 수 있는 좌석은 ${SEATS_PER_VENUE_MAX.toLocaleString("ko-KR")}석까지입니다 (지금 ${doc.seats.length.toLocaleString("ko-KR")}석).`,
      en: `A venue can be saved with at most ${SEATS_PER_VENUE_MAX.toLocaleString("en-US")} seats (now ${doc.seats.length.toLocaleString("en-US")}).`,
    });
  }
  const names = [...doc.sections.filter((_, i) => used.has(i)).map((s) => s.name.trim()), ...doc.zones.map((z) => z.name.trim())];
  if (names.some((n) => !textOk(n, PLACE_NAME_LEN_MAX))) {
    out.push({ ko: `구역 이름은 1~${PLACE_NAME_LEN_MAX}자여야 합니다.`, en: `Section and zone names need 1 to ${PLACE_NAME_LEN_MAX} characters.` });
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) out.push({ ko: `구역 이름 "${n}"이(가) 겹칩니다.`, en: `The name "${n}" is used twice.` });
    seen.add(n);
  }
  const bad: number[] = [];
  const badRows: number[] = [];
  const numbers = new Map<string, number>();
  for (const seat of doc.seats) {
    if (!textOk(seat.row, PLACE_NAME_LEN_MAX)) badRows.push(seat.key);
    const id = `${seat.section}\u0000${seat.row.trim()}\u0000${seat.number}`;
    const first = numbers.get(id);
    if (first !== undefined) bad.push(first, seat.key);
    else numbers.set(id, seat.key);
  }
  if (badRows.length) out.push({ ko: `열 이름은 1~${PLACE_NAME_LEN_MAX}자여야 합니다.`, en: `Row names need 1 to ${PLACE_NAME_LEN_MAX} characters.`, seats: badRows });
  if (bad.length) {
    out.push({ ko: `같은 열에 같은 번호의 좌석이 있습니다 (${bad.length}석).`, en: `Seats share a number within a row (${bad.length} seats).`, seats: [...new Set(bad)] });
  }
  if (doc.zones.length > ZONES_PER_VENUE_MAX) out.push({ ko: `스탠딩 구역은 ${ZONES_PER_VENUE_MAX}개까지입니다.`, en: `At most ${ZONES_PER_VENUE_MAX} standing zones.` });
  if (doc.zones.some((z) => !Number.isInteger(z.capacity) || z.capacity < 1 || z.capacity > ZONE_CAPACITY_MAX)) {
    out.push({ ko: `스탠딩 구역 정원은 1~${ZONE_CAPACITY_MAX.toLocaleString("ko-KR")}명입니다.`, en: `A standing zone holds 1 to ${ZONE_CAPACITY_MAX.toLocaleString("en-US")} people.` });
  }
  return out;
}

// ---- Naming rows and numbering seats ------------------------------------------------------

/** Row labels after `first`: numbers count up (1, 2, …), letters go A…Z, AA, AB… (Korean halls
 * often use 가, 나, 다…: those go through the syllables with no final consonant). */
export function rowLabels(first: string, count: number): string[] {
  const labels: string[] = [];
  let label = first.trim() || "1";
  for (let i = 0; i < count; i++) {
    labels.push(label);
    label = nextLabel(label);
  }
  return labels;
}

const HANGUL_ROWS = "가나다라마바사아자차카타파하";

export function nextLabel(label: string): string {
  const numeric = /^(.*?)(\d+)$/.exec(label);
  if (numeric) return numeric[1] + String(Number(numeric[2]) + 1);
  const hangul = HANGUL_ROWS.indexOf(label);
  if (hangul >= 0) return hangul + 1 < HANGUL_ROWS.length ? HANGUL_ROWS[hangul + 1] : label + "1";
  if (/^[A-Z]+$/.test(label)) return bumpLetters(label, "A", "Z");
  if (/^[a-z]+$/.test(label)) return bumpLetters(label, "a", "z");
  return label + "1";
}

function bumpLetters(label: string, low: string, high: string): string {
  const chars = label.split("");
  for (let i = chars.length - 1; i >= 0; i--) {
    if (chars[i] !== high) {
      chars[i] = String.fromCharCode(chars[i].charCodeAt(0) + 1);
      return chars.join("");
    }
    chars[i] = low;
  }
  return low + chars.join("");
}

export type Direction = "ltr" | "rtl";

/**
 * New numbers for `seats`, row by row: within each (section, row) the seats ordered along the
 * row (left to right, or right to left) get `start`, `start + step`, …. Returns key → number.
 */
export function renumber(seats: Seat[], start: number, step: number, direction: Direction): Map<number, number> {
  const rows = new Map<string, Seat[]>();
  for (const seat of seats) {
    const id = `${seat.section}\u0000${seat.row}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = []));
    row.push(seat);
  }
  const out = new Map<number, number>();
  for (const row of rows.values()) {
    row.sort((a, b) => (direction === "ltr" ? a.x - b.x : b.x - a.x) || a.y - b.y);
    row.forEach((seat, i) => out.set(seat.key, Math.min(SEAT_NUMBER_MAX, Math.max(0, start + i * step))));
  }
  return out;
}

// ---- Placing seats: grids, lines and arcs ----------------------------------------------------

export interface Numbering {
  section: number;
  firstRow: string;
  firstNumber: number;
  direction: Direction;
}

export interface GridShape {
  kind: "grid";
  x: number;
  y: number;
  rows: number;
  perRow: number;
  /** Distance between seats in a row and between rows, layout units. */
  pitch: number;
  rowPitch: number;
}

export interface LineShape {
  kind: "line";
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  pitch: number;
}

export interface ArcShape {
  kind: "arc";
  /** The arc's centre (the stage's focus): rows curve around it, opening towards the top. */
  cx: number;
  cy: number;
  radius: number;
  rows: number;
  rowPitch: number;
  pitch: number;
  /** Opening angle in degrees (e.g. 90: a quarter circle centred below the focus). */
  sweepDeg: number;
}

export type Shape = GridShape | LineShape | ArcShape;

/** Each row's seat positions, front row first, each row left to right. */
function rowsOf(shape: Shape): { x: number; y: number }[][] {
  if (shape.kind === "grid") {
    return Array.from({ length: shape.rows }, (_, r) =>
      Array.from({ length: shape.perRow }, (_, i) => ({ x: shape.x + i * shape.pitch, y: shape.y + r * shape.rowPitch })),
    );
  }
  if (shape.kind === "line") {
    const length = Math.hypot(shape.x1 - shape.x0, shape.y1 - shape.y0);
    const count = Math.max(1, Math.floor(length / shape.pitch) + 1);
    const left = shape.x0 <= shape.x1 ? { x: shape.x0, y: shape.y0 } : { x: shape.x1, y: shape.y1 };
    const right = shape.x0 <= shape.x1 ? { x: shape.x1, y: shape.y1 } : { x: shape.x0, y: shape.y0 };
    const ux = count > 1 ? (right.x - left.x) / length : 0;
    const uy = count > 1 ? (right.y - left.y) / length : 0;
    return [Array.from({ length: count }, (_, i) => ({ x: left.x + ux * i * shape.pitch, y: left.y + uy * i * shape.pitch }))];
  }
  const sweep = (Math.min(359, Math.max(1, shape.sweepDeg)) * Math.PI) / 180;
  return Array.from({ length: shape.rows }, (_, r) => {
    const radius = shape.radius + r * shape.rowPitch;
    const count = Math.max(1, Math.floor((radius * sweep) / shape.pitch) + 1);
    // Screen y grows downwards: angle π/2 points below the focus; left to right is decreasing angle.
    const from = Math.PI / 2 + sweep / 2;
    const stepAngle = count > 1 ? sweep / (count - 1) : 0;
    return Array.from({ length: count }, (_, i) => {
      const angle = from - i * stepAngle;
      return { x: shape.cx + radius * Math.cos(angle), y: shape.cy + radius * Math.sin(angle) };
    });
  });
}

/** How many seats a shape places (before making them). */
export function shapeSeatCount(shape: Shape): number {
  return rowsOf(shape).reduce((n, row) => n + row.length, 0);
}

/** The seats a shape places, named and numbered. */
export function placeSeats(shape: Shape, numbering: Numbering): Seat[] {
  const rows = rowsOf(shape);
  const labels = rowLabels(numbering.firstRow, rows.length);
  const seats: Seat[] = [];
  rows.forEach((positions, r) => {
    const ordered = numbering.direction === "ltr" ? positions : [...positions].reverse();
    ordered.forEach((p, i) => {
      seats.push({
        key: seatKey(),
        section: numbering.section,
        row: labels[r],
        number: Math.min(SEAT_NUMBER_MAX, numbering.firstNumber + i),
        x: clampCoord(Math.round(p.x)),
        y: clampCoord(Math.round(p.y)),
      });
    });
  });
  return seats;
}

export function clampCoord(v: number): number {
  return Math.max(-COORD_ABS_MAX, Math.min(COORD_ABS_MAX, v));
}

/** The smallest distance between neighbours in a row, which sets how big a seat is drawn (the
 * buyer's map does the same). */
export function seatSpacing(seats: readonly Seat[]): number {
  let spacing = Infinity;
  for (let i = 1; i < seats.length; i++) {
    const a = seats[i - 1], b = seats[i];
    if (a.section === b.section && a.row === b.row) {
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      if (d > 0 && d < spacing) spacing = d;
    }
  }
  return isFinite(spacing) ? spacing : 10;
}

/** The seats' bounding box, or null when there are none. */
export function bounds(seats: readonly Seat[]): { minX: number; minY: number; maxX: number; maxY: number } | null {
  if (seats.length === 0) return null;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const s of seats) {
    if (s.x < minX) minX = s.x;
    if (s.x > maxX) maxX = s.x;
    if (s.y < minY) minY = s.y;
    if (s.y > maxY) maxY = s.y;
  }
  return { minX, minY, maxX, maxY };
}

/** Colours for sections (index mod length), distinct and readable on white. */
export const SECTION_COLOURS = ["#5b2bd6", "#d6336c", "#1c7ed6", "#2b8a3e", "#e67700", "#0b7285", "#862e9c", "#c92a2a", "#5c940d", "#364fc7", "#a61e4d", "#087f5b"];
export const sectionColour = (index: number) => SECTION_COLOURS[index % SECTION_COLOURS.length];
