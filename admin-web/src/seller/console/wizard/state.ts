// The show being registered, as the wizard's inputs hold it (numbers as typed, times as KST
// `datetime-local` values), and the API's `ShowForm` and performance forms made from it. Nothing
// is checked here that the API checks: its 422 `errors[]` come back to each field.
import { ApiError } from "../../../lib/api";
import type { FeeSchedule, ShowForm } from "../api-types";
import { kstInputToMs, msToKstInput } from "../time";

export interface GradeDraft {
  code: string;
  price: string;
  sections: string[];
  zones: string[];
}

export interface PerformanceDraft {
  starts: string;
  open: string;
  /** Empty: sales close when the performance starts. */
  close: string;
  /** Its id once added to the saved draft. */
  id?: string;
}

export type AmountKind = "percent" | "won";

export interface DiscountDraft {
  label: string;
  kind: "early_bird" | "eligibility";
  amountKind: AmountKind;
  amount: string;
  from: string;
  until: string;
  placesMax: string;
  grades: string[];
}

export interface CouponDraft {
  code: string;
  amountKind: AmountKind;
  amount: string;
  minOrderWon: string;
  from: string;
  until: string;
  usesMax: string;
  usesPerBuyerMax: string;
}

export interface ShowDraft {
  title: string;
  category: string;
  ageRating: string;
  runningMinutes: string;
  description: string;
  venueId: string;
  grades: GradeDraft[];
  perBuyerLimit: string;
  bookingFeeWon: string;
  performances: PerformanceDraft[];
  admitPerSec: string;
  activeMax: string;
  waitlistEnabled: boolean;
  claimWindowMinutes: string;
  freedToSale: boolean;
  discounts: DiscountDraft[];
  coupons: CouponDraft[];
  /** The schedule shown; `null` until the standard one for the category has loaded. */
  fees: FeeSchedule | null;
  /** The category whose standard `fees` is, while the seller has not changed it. */
  feesStandardFor: string | null;
  reentry: boolean;
  /** One gate per line. */
  gates: string;
  transfers: boolean;
  transferMinutesBefore: string;
  staticTickets: boolean;
}

const DAY_MS = 24 * 3_600_000;

/** 19:30 KST on the day `days` from now. */
function eveningIn(days: number): string {
  return `${msToKstInput(Date.now() + days * DAY_MS).slice(0, 10)}T19:30`;
}

/** 10:00 KST on the day `days` from now. */
function morningIn(days: number): string {
  return `${msToKstInput(Date.now() + days * DAY_MS).slice(0, 10)}T10:00`;
}

/** A new draft: the API's own defaults (queue 200/s and 2,000 at once, 4 per buyer, the
 * waitlist on with 10-minute claims), one performance a month ahead on sale in two weeks. */
export function newDraft(): ShowDraft {
  return {
    title: "",
    category: "musical",
    ageRating: "all",
    runningMinutes: "120",
    description: "",
    venueId: "",
    grades: [],
    perBuyerLimit: "4",
    bookingFeeWon: "0",
    performances: [{ starts: eveningIn(30), open: morningIn(14), close: "" }],
    admitPerSec: "200",
    activeMax: "2000",
    waitlistEnabled: true,
    claimWindowMinutes: "10",
    freedToSale: false,
    discounts: [],
    coupons: [],
    fees: null,
    feesStandardFor: null,
    reentry: false,
    gates: "",
    transfers: false,
    transferMinutesBefore: "1440",
    staticTickets: false,
  };
}

export function newDiscount(): DiscountDraft {
  return { label: "", kind: "early_bird", amountKind: "percent", amount: "10", from: morningIn(14), until: morningIn(21), placesMax: "2", grades: [] };
}

export function newCoupon(): CouponDraft {
  return { code: "", amountKind: "won", amount: "5000", minOrderWon: "0", from: morningIn(14), until: eveningIn(30), usesMax: "100", usesPerBuyerMax: "1" };
}

/** A whole number as typed; 0 for an empty field (the API then names the field). */
export function int(text: string): number {
  const value = Math.trunc(Number(text.replace(/,/g, "")));
  return Number.isFinite(value) && value >= 0 ? value : 0;
}

function time(value: string): number {
  return kstInputToMs(value) ?? 0;
}

function amount(kind: AmountKind, text: string): { percent?: number; amount_won?: number } {
  return kind === "percent" ? { percent: int(text) } : { amount_won: int(text) };
}

export function showForm(draft: ShowDraft): ShowForm {
  const gates = draft.gates
    .split("\n")
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  return {
    title: draft.title,
    category: draft.category,
    venue_id: draft.venueId,
    description: draft.description,
    age_rating: draft.ageRating,
    running_minutes: int(draft.runningMinutes),
    grades: draft.grades.map((g) => ({ code: g.code.trim(), price_won: int(g.price), sections: g.sections, zones: g.zones })),
    per_buyer_limit: int(draft.perBuyerLimit),
    // The standard schedule unchanged is sent as none: the show then keeps the standard.
    fees: draft.feesStandardFor === draft.category ? null : draft.fees,
    booking_fee_won: int(draft.bookingFeeWon),
    queue: { admit_per_sec: int(draft.admitPerSec), active_max: int(draft.activeMax) },
    discounts: draft.discounts.map((d) => ({
      label: d.label,
      kind: d.kind,
      ...amount(d.amountKind, d.amount),
      ...(d.kind === "early_bird" ? { from_ms: time(d.from), until_ms: time(d.until) } : { places_max: int(d.placesMax) }),
      grades: d.grades,
    })),
    coupons: draft.coupons.map((c) => ({
      code: c.code,
      ...amount(c.amountKind, c.amount),
      min_order_won: int(c.minOrderWon),
      valid_from_ms: time(c.from),
      valid_until_ms: time(c.until),
      uses_max: int(c.usesMax),
      uses_per_buyer_max: int(c.usesPerBuyerMax),
    })),
    door: {
      reentry: draft.reentry,
      gates,
      transfer_until_minutes_before_start: draft.transfers ? int(draft.transferMinutesBefore) : null,
      static_tickets: draft.staticTickets,
    },
    waitlist: { enabled: draft.waitlistEnabled, claim_window_minutes: int(draft.claimWindowMinutes), freed_to_sale: draft.freedToSale },
  };
}

/** A performance's form, or the fields not filled in (as a 422 of its own, named like the
 * API's answer for performance `index`). */
export function performanceForm(performance: PerformanceDraft, index: number): { starts_at_ms: number; sale_open_at_ms: number; sale_close_at_ms?: number } {
  const starts = kstInputToMs(performance.starts);
  const open = kstInputToMs(performance.open);
  const close = performance.close ? kstInputToMs(performance.close) : undefined;
  const missing = [
    starts === null && "starts_at_ms",
    open === null && "sale_open_at_ms",
    close === null && "sale_close_at_ms",
  ].filter((f): f is string => !!f);
  if (missing.length > 0) {
    throw new ApiError(
      422,
      "invalid_request",
      "",
      missing.map((f) => ({ field: `performances[${index}].${f}`, message: "a date and a time" })),
    );
  }
  return { starts_at_ms: starts!, sale_open_at_ms: open!, ...(close != null ? { sale_close_at_ms: close } : {}) };
}

/** The API's answer for one performance, its fields renamed to that performance's. */
export function forPerformance(error: unknown, index: number): unknown {
  if (!(error instanceof ApiError) || error.errors.length === 0) return error;
  const prefix = `performances[${index}].`;
  return new ApiError(
    error.status,
    error.code,
    error.detail,
    error.errors.map((f) => ({ field: f.field.startsWith("performances[") ? f.field : prefix + f.field, message: f.message })),
    error.retryAfterSec,
  );
}

/** The wizard's steps, and which API fields each one shows. */
export const STEPS = ["basics", "venue", "schedule", "offers", "fees", "door", "review"] as const;
export type Step = (typeof STEPS)[number];

const STEP_OF_FIELD: [prefix: string, step: Step][] = [
  ["title", "basics"],
  ["category", "basics"],
  ["description", "basics"],
  ["age_rating", "basics"],
  ["running_minutes", "basics"],
  ["venue_id", "venue"],
  ["grades", "venue"],
  ["per_buyer_limit", "venue"],
  ["booking_fee_won", "venue"],
  ["performances", "schedule"],
  ["queue", "schedule"],
  ["waitlist", "schedule"],
  ["discounts", "offers"],
  ["coupons", "offers"],
  ["fees", "fees"],
  ["door", "door"],
];

/** The first step (in the wizard's order) showing a field the error names. */
export function stepOfError(error: unknown): Step | null {
  if (!(error instanceof ApiError)) return null;
  let first: number | null = null;
  for (const { field } of error.errors) {
    const found = STEP_OF_FIELD.find(([prefix]) => field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`));
    if (found) {
      const index = STEPS.indexOf(found[1]);
      first = first === null ? index : Math.min(first, index);
    }
  }
  return first === null ? null : STEPS[first];
}
