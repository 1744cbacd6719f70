// What the console reads from the API (docs/protocol.md and /api/openapi.json say the same).

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `GET /api/v2/companies/mine/shows` item. */
export interface MyShow {
  id: string;
  title: string;
  category: string;
  region: string;
  status: "draft" | "published" | string;
  venue_id: string;
  performances: number;
  first_starts_at_ms: number | null;
}

/** `GET /api/v2/companies/mine/venues` item. */
export interface MyVenue {
  id: string;
  name: string;
  region: string;
  address: string;
  seats: number;
}

/** `GET /api/v2/venues/{id}` (what the wizard needs of it: section and zone names). */
export interface VenueDetail {
  id: string;
  name: string;
  region: string;
  layout: { sections: { name: string; rows: { name: string; seats: unknown[] }[] }[]; zones: { name: string; capacity: number }[] };
}

export interface FeeTier {
  days_before_min: number;
  days_before_max: number;
  percent: number;
}

/** The ledger's cancellation-fee schedule (`ledger/core/src/fees.rs`). */
export interface FeeSchedule {
  free_on_booking_day: boolean;
  free_days_after_booking: number;
  free_window_days_before_min: number;
  flat_fee_won: number;
  flat_fee_days_before_min: number;
  flat_fee_cap_percent: number;
  tiers: FeeTier[];
  deadline_minute_of_day: number;
  saturday_deadline_minute_of_day: number;
}

export interface GradeForm {
  code: string;
  price_won: number;
  sections: string[];
  zones: string[];
}

export interface DiscountForm {
  label: string;
  kind: "early_bird" | "eligibility";
  percent?: number;
  amount_won?: number;
  from_ms?: number;
  until_ms?: number;
  places_max?: number;
  grades?: string[];
}

export interface CouponForm {
  code: string;
  percent?: number;
  amount_won?: number;
  min_order_won: number;
  valid_from_ms: number;
  valid_until_ms: number;
  uses_max: number;
  uses_per_buyer_max: number;
}

/** `POST /api/v2/shows` body (api/src/shows.rs `ShowForm`). */
export interface ShowForm {
  title: string;
  category: string;
  venue_id: string;
  description: string;
  age_rating: string;
  running_minutes: number;
  grades: GradeForm[];
  per_buyer_limit: number;
  fees: FeeSchedule | null;
  booking_fee_won: number;
  queue: { admit_per_sec: number; active_max: number };
  discounts: DiscountForm[];
  coupons: CouponForm[];
  door: { reentry: boolean; gates: string[]; transfer_until_minutes_before_start: number | null; static_tickets: boolean };
  waitlist: { enabled: boolean; claim_window_minutes: number; freed_to_sale: boolean };
}

/** `GET /api/v2/shows/{id}` as its seller sees it. */
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
  performances: { id: string; starts_at_ms: number; sale_open_at_ms: number; sale_close_at_ms: number; cancelled: boolean | null }[];
  grades: { code: string; price_won: number; sections: string[]; zones: string[] }[];
  per_buyer_limit: number;
  booking_fee_won: number;
  door: { reentry: boolean; gates: { gate: number; label: string }[]; transfer_until_minutes_before_start: number | null; static_tickets: boolean };
  waitlist: { enabled: boolean; claim_window_minutes: number; freed_to_sale: boolean };
  discounts: { id: number; label: string; kind: string; percent: number | null; amount_won: number | null }[];
  coupons: CouponForm[] | null;
  cancellation: { fees: FeeSchedule; booking_fee_refund: string };
}

export interface Post {
  id: string;
  title: string;
  body: string;
  answer: string | null;
  answered_at_ms: number | null;
  created_at_ms: number;
}
