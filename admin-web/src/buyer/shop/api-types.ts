// The API's answers the shop reads (docs/protocol.md and /api/openapi.json have every field).
// Ids are decimal strings.

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ShowListItem {
  id: string;
  title: string;
  category: string;
  region: string;
}

export interface GradeLeft {
  grade: string;
  price_won: number;
  /** null while the seats-left read model has not seen the performance yet. */
  left: number | null;
}

export interface PerformanceListed {
  id: string;
  starts_at_ms: number;
  sale: string;
  sale_open_at_ms: number;
  sale_close_at_ms: number;
  grades: GradeLeft[];
  cancelled: boolean | null;
}

export interface Discount {
  id: number;
  label: string;
  kind: string;
  percent: number | null;
  amount_won: number | null;
  from_ms: number | null;
  until_ms: number | null;
  places_max: number | null;
  grades: string[] | null;
  proof_at_entry: boolean;
}

export interface FeeSchedule {
  free_on_booking_day: boolean;
  free_days_after_booking: number;
  free_window_days_before_min: number;
  flat_fee_won: number;
  flat_fee_days_before_min: number;
  flat_fee_cap_percent: number;
  tiers: { days_before_min: number; days_before_max: number; percent: number }[];
  deadline_minute_of_day: number;
  saturday_deadline_minute_of_day: number;
}

export interface ShowDetail {
  id: string;
  title: string;
  category: string;
  region: string;
  description: string;
  age_rating: string;
  running_minutes: number;
  venue_id: string;
  status: string;
  performances: PerformanceListed[];
  booking_fee_won: number;
  per_buyer_limit?: number;
  cancellation?: { fees: FeeSchedule; booking_fee_refund: string };
  door: { reentry: boolean; gates: { gate: number; label: string }[]; transfer_until_minutes_before_start: number | null; static_tickets: boolean };
  waitlist: { enabled: boolean; claim_window_minutes: number; freed_to_sale: boolean };
  discounts: Discount[];
}

export interface Post {
  id: string;
  title: string;
  body: string;
  answer: string | null;
  answered_at_ms: number | null;
  created_at_ms: number;
}

export interface BookingTicket {
  ticket: string;
  place: string;
  price_won: number;
  discount: { id: number; label: string; proof_at_entry: boolean } | null;
  cancelled: boolean;
  /** null: it can no longer be cancelled online. */
  cancellation_fee_now_won: number | null;
  transferred_to: { email: string; at_ms: number } | null;
}

export interface Booking {
  booking: string;
  performance: string;
  number: string;
  paid_won: number;
  booked_at_ms: number;
  starts_at_ms: number | null;
  cancellation_deadline_ms: number | null;
  tickets: BookingTicket[];
}

export interface MyTicket {
  ticket: string;
  booking: string;
  performance: string;
  show_id: string | null;
  title: string | null;
  starts_at_ms: number;
  place: string;
  grade: string;
  received_from: { email: string; at_ms: number } | null;
}

export type { InboxItem } from "../../lib/ws";

export interface WaitlistEntry {
  entry: string;
  performance: string;
  title: string | null;
  grade: string | null;
  quantity: number;
  together: boolean;
  joined_at_ms: number;
  position: { overall: number; in_grade: number } | null;
  sizes: { per_grade: { grade: string; waiting: number }[]; any_grade: number };
  offer: {
    hold: string;
    sale: string;
    places: { place: unknown; grade_code: string; price_won: number }[];
    amount_won: number;
    expires_at_ms: number;
  } | null;
}

export interface BillingMethod {
  id: string;
  card: string;
  created_at_ms: number;
}
