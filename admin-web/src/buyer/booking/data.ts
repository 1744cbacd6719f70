// What the booking pages read over HTTP (the performance, its show and the venue's seat map)
// and keep in the tab across the trip to the payment page.

import { get } from "../../lib/api";
import { tr } from "../../lib/i18n";
import type { Place } from "../../lib/ws";

export interface GradeInfo {
  code: string;
  price_won: number;
  sections: string[];
  zones: string[];
}

export interface Discount {
  id: number;
  label: string;
  kind: "early_bird" | "eligibility";
  percent?: number | null;
  amount_won?: number | null;
  from_ms?: number | null;
  until_ms?: number | null;
  places_max?: number | null;
  grades: string[];
  proof_at_entry: boolean;
}

export interface ShowPerformance {
  id: string;
  starts_at_ms: number;
  sale: string;
  sale_open_at_ms: number;
  sale_close_at_ms: number;
  cancelled: boolean | null;
}

export interface ShowDetail {
  id: string;
  title: string;
  venue_id: string;
  grades: GradeInfo[];
  per_buyer_limit: number;
  booking_fee_won: number;
  discounts: Discount[];
  performances: ShowPerformance[];
}

export interface VenueSeat {
  id: number;
  section: string;
  row: string;
  number: number;
}

export interface Venue {
  id: string;
  name: string;
  layout: {
    sections: { name: string; rows: { name: string; seats: { number: number; x: number; y: number; blocked?: boolean; wheelchair?: boolean }[] }[] }[];
    zones: { name: string; capacity: number }[];
  };
  seats: VenueSeat[];
  zones: { id: number; name: string; capacity: number }[];
}

/** A seat ready to draw: its ledger id, where it is, its grade. */
export interface MapSeat {
  id: number;
  section: string;
  row: string;
  number: number;
  x: number;
  y: number;
  grade: number;
  /** Never sold (the ledger refuses it; the live map has it taken). */
  blocked: boolean;
  /** An accessible (wheelchair) seat. */
  wheelchair: boolean;
}

export interface MapZone {
  id: number;
  name: string;
  capacity: number;
  grade: number;
}

export interface BookingContext {
  performance: ShowPerformance;
  show: ShowDetail;
  venue: Venue;
  seats: MapSeat[];
  zones: MapZone[];
}

/** Reads the performance, its show and venue, and puts every seat in its grade. */
export async function loadContext(performanceId: string): Promise<BookingContext> {
  const found = await get<{ id: string; show_id: string; sale: string }>(`/performances/${performanceId}`);
  const show = await get<ShowDetail>(`/shows/${found.show_id}`);
  const venue = await get<Venue>(`/venues/${show.venue_id}`);
  const performance = show.performances.find((p) => p.id === performanceId);
  if (!performance) throw new Error("performance not in its show");
  const gradeOfSection = new Map<string, number>();
  const gradeOfZone = new Map<string, number>();
  show.grades.forEach((grade, index) => {
    for (const section of grade.sections) gradeOfSection.set(section, index);
    for (const zone of grade.zones) gradeOfZone.set(zone, index);
  });
  // The venue lists seats in ledger-id order (sections, rows, seats as laid out), so walking
  // the layout in the same order pairs each seat with its coordinates.
  const seats: MapSeat[] = [];
  for (const section of venue.layout.sections) {
    for (const row of section.rows) {
      for (const seat of row.seats) {
        seats.push({
          id: seats.length, section: section.name, row: row.name, number: seat.number, x: seat.x, y: seat.y,
          grade: gradeOfSection.get(section.name) ?? 0, blocked: !!seat.blocked, wheelchair: !!seat.wheelchair,
        });
      }
    }
  }
  const zones = venue.zones.map((z) => ({ ...z, grade: gradeOfZone.get(z.name) ?? 0 }));
  return { performance, show, venue, seats, zones };
}

/** Grade colours, in the grades' order: distinct, and dark enough for white text (WCAG AA). */
export const GRADE_COLOURS = ["#6a1b9a", "#c62828", "#1565c0", "#2e7d32", "#ad5700", "#00695c", "#4527a0", "#ad1457"];

export function gradeColour(grade: number): string {
  return GRADE_COLOURS[grade % GRADE_COLOURS.length];
}

export function seatLabel(seat: { section: string; row: string; number: number }): string {
  return tr(`${seat.section}구역 ${seat.row}열 ${seat.number}번`, `Section ${seat.section}, row ${seat.row}, seat ${seat.number}`);
}

export function placeLabel(place: Place, context: BookingContext): string {
  if ("Seat" in place) {
    const seat = context.seats[place.Seat];
    return seat ? seatLabel(seat) : `#${place.Seat}`;
  }
  const zone = context.zones[place.Zone];
  return zone ? tr(`${zone.name} (스탠딩)`, `${zone.name} (standing)`) : `#${place.Zone}`;
}

/** What the tab keeps while the buyer is on the payment page (sessionStorage: this tab only). */
export interface PendingPayment {
  performance: string;
  sale: string;
  hold: string;
  order_id: string;
  /** The admission token the success URL books under (docs/payments.md). */
  admission: string;
  title: string;
  expires_at_ms: number;
}

const PENDING_KEY = "picket.booking.pending";
const HOLD_KEY = "picket.booking.hold";

export function savePending(pending: PendingPayment): void {
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
}

export function loadPending(): PendingPayment | null {
  try {
    const raw = sessionStorage.getItem(PENDING_KEY);
    return raw ? (JSON.parse(raw) as PendingPayment) : null;
  } catch {
    return null;
  }
}

export function clearPending(): void {
  sessionStorage.removeItem(PENDING_KEY);
}

/** The hold the buyer made for a performance, kept so a failed payment can be retried. */
export interface SavedHold {
  performance: string;
  hold: string;
  places: Place[];
  expires_at_ms: number;
}

export function saveHold(hold: SavedHold | null, performance: string): void {
  if (hold) sessionStorage.setItem(`${HOLD_KEY}.${performance}`, JSON.stringify(hold));
  else sessionStorage.removeItem(`${HOLD_KEY}.${performance}`);
}

export function loadHold(performance: string): SavedHold | null {
  try {
    const raw = sessionStorage.getItem(`${HOLD_KEY}.${performance}`);
    const hold = raw ? (JSON.parse(raw) as SavedHold) : null;
    return hold && hold.expires_at_ms > Date.now() ? hold : null;
  } catch {
    return null;
  }
}

export function bookPath(performance: string): string {
  return `/performances/${performance}/book`;
}
