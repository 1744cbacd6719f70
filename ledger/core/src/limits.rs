//! Every bound the core enforces. A request past one of these is rejected with
//! [`crate::Invalid`]; nothing a client sends makes the core allocate without bound.

/// Longest idempotency key a client may send, in bytes.
pub const IDEMPOTENCY_KEY_LEN_MAX: usize = 64;
/// Longest payment reference (the provider's payment key), in bytes: Toss's `paymentKey` bound.
pub const PAYMENT_REF_LEN_MAX: usize = 200;
/// Longest section, row, grade or zone label, in bytes.
pub const LABEL_LEN_MAX: usize = 32;
/// Seats in one performance: the largest Korean stadiums seat about 70k.
pub const SEATS_PER_PERFORMANCE_MAX: usize = 150_000;
/// Price grades in one performance (VIP, R, S, A, …).
pub const GRADES_PER_PERFORMANCE_MAX: usize = 32;
/// General-admission zones in one performance.
pub const ZONES_PER_PERFORMANCE_MAX: usize = 64;
/// Capacity of one general-admission zone.
pub const ZONE_CAPACITY_MAX: u32 = 200_000;
/// Highest per-buyer ticket limit a seller may set for a performance; also the most seats one
/// hold can take.
pub const PER_BUYER_LIMIT_MAX: u16 = 16;
/// Most expensive single ticket, in won: guards the money counters against overflow.
pub const TICKET_PRICE_WON_MAX: u64 = 100_000_000;
/// Highest booking fee per ticket a seller may set, in won (the big platforms charge 1,000–2,000원).
pub const BOOKING_FEE_WON_MAX: u64 = 100_000;
/// Shortest and longest hold a seller may configure. The big platforms give 7–10 minutes.
pub const HOLD_TTL_MS_MIN: u64 = 60_000;
pub const HOLD_TTL_MS_MAX: u64 = 30 * 60_000;
/// Performances one partition (one ledger) hosts at a time.
pub const PERFORMANCES_PER_PARTITION_MAX: usize = 10_000;
/// How long the ledger remembers an idempotency key and its outcome. A retry later than this is
/// treated as a new command; every hold has long expired by then.
pub const IDEMPOTENCY_RETENTION_MS: u64 = 24 * 60 * 60_000;
/// Keys are forgotten in batches: only once the oldest is this much past retention, so the
/// journal gets one `KeysForgotten` event per batch rather than one per command.
pub const IDEMPOTENCY_FORGET_BATCH_MS: u64 = 60 * 60_000;
/// Discounts one performance offers (early-bird windows, eligibility discounts).
pub const DISCOUNTS_PER_PERFORMANCE_MAX: usize = 16;
/// Coupons one performance accepts: the spec travels in one NATS message.
pub const COUPONS_PER_PERFORMANCE_MAX: usize = 64;
/// Shortest coupon code (the longest is [`LABEL_LEN_MAX`]).
pub const COUPON_CODE_LEN_MIN: usize = 4;
/// Longest discount label in bytes (a Korean syllable takes 3).
pub const OFFER_LABEL_LEN_MAX: usize = 64;
/// Most uses a coupon may allow in one performance.
pub const COUPON_USES_MAX: u32 = 1_000_000;
/// Longest reason a seller or operator gives for cancelling a performance, in bytes (the
/// provider's `cancelReason` takes 200 characters).
pub const CANCEL_REASON_LEN_MAX: usize = 200;
/// Longest provider transaction id (Toss's `transactionKey`) a recorded refund carries, in bytes.
pub const PROVIDER_TRANSACTION_LEN_MAX: usize = 64;
/// Holds released plus bookings cancelled by one `CancelPerformance` command: a large
/// performance is cancelled in several commands, so one journal entry (and one NATS message)
/// stays small. The reply says how many bookings are left.
pub const CANCEL_PERFORMANCE_STEP_MAX: usize = 256;
/// Gates one performance names (see [`crate::GateSpec`]).
pub const GATES_PER_PERFORMANCE_MAX: usize = 64;
/// Scans remembered per ticket (entries and exits); a ticket past it is refused as already used.
pub const SCANS_PER_TICKET_MAX: usize = 64;
/// Scans in one offline upload (`UploadScans`; a scanner sends a longer queue in several). About
/// 120 bytes of JSON a scan: the command, its journal entry and its reply (with every refusal
/// and conflict) each stay well under NATS's default 1 MiB message.
pub const UPLOAD_SCANS_MAX: usize = 1_000;
/// How far past the ledger's clock an offline scan's time may be: a scanner's clock a little
/// ahead is fine, one far ahead would sort its scans after every later scan.
pub const OFFLINE_SCAN_AHEAD_MS_MAX: u64 = 5 * 60_000;
/// Device re-bindings per ticket (`RebindDevice`): each bumps the ticket's secret generation,
/// so with [`TRANSFERS_PER_TICKET_MAX`] it keeps the generation (a `u8`) far below 255.
pub const REBINDS_PER_TICKET_MAX: u8 = 8;
/// Transfers per ticket (`TransferTicket`).
pub const TRANSFERS_PER_TICKET_MAX: u8 = 8;
/// Tickets in one page of a performance's tickets read beside the commands (`tickets_page`,
/// `picket.ledger.p<p>.tickets`): a [`crate::TicketView`] is at most about 330 bytes of JSON
/// (every id at 20 digits), so a page stays near 330 KB, far under NATS's default 1 MiB
/// message (`view.rs` measures it in a test).
pub const TICKETS_PAGE_MAX: usize = 1_000;
/// Conflicts a door report lists: the newest (by the duplicate entry's time); it counts them
/// all. About 300 bytes of JSON each.
pub const DOOR_REPORT_CONFLICTS_MAX: usize = 500;
/// Gate-minutes a door report lists: the latest; it counts every admission. Twenty gates over a
/// three-hour door are 3,600; about 70 bytes of JSON each.
pub const DOOR_REPORT_GATE_MINUTES_MAX: usize = 4_000;
/// Default, shortest and longest claim window of a waitlist offer (how long offered places stay
/// held for the buyer to pay).
pub const WAITLIST_CLAIM_WINDOW_MS_DEFAULT: u64 = 10 * 60_000;
pub const WAITLIST_CLAIM_WINDOW_MS_MIN: u64 = 60_000;
pub const WAITLIST_CLAIM_WINDOW_MS_MAX: u64 = 24 * 60 * 60_000;
/// Default, shortest and longest charge window of an auto-pay offer (how long offered places
/// stay held while the payments worker charges the billing key).
pub const WAITLIST_CHARGE_WINDOW_MS_DEFAULT: u64 = 5 * 60_000;
pub const WAITLIST_CHARGE_WINDOW_MS_MIN: u64 = 60_000;
pub const WAITLIST_CHARGE_WINDOW_MS_MAX: u64 = 30 * 60_000;
/// Waitlist entries (waiting or offered) one buyer may have in one performance.
pub const WAITLIST_ENTRIES_PER_BUYER_MAX: u16 = 4;
/// Waitlist entries (waiting or offered) in one performance: matching walks them in join order
/// whenever places are freed, so this bounds the work of one command.
pub const WAITLIST_ENTRIES_MAX: usize = 10_000;
/// Longest billing reference (the provider's billing key the API registered), in bytes: Toss's
/// `billingKey` bound.
pub const BILLING_REF_LEN_MAX: usize = 200;
/// Longest reason the payments worker gives for a failed auto-pay charge, in bytes.
pub const CHARGE_FAILURE_REASON_LEN_MAX: usize = 200;
