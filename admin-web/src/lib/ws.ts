// THE WebSocket protocol client (docs/protocol.md, "WebSocket protocol v2"), written once and
// shared by every page: no other file opens a socket to `/ws`.
//
// - One connection per tab, subprotocol `picket.v2`, `hello` with the member's session token,
//   the guest's token, or — a new guest — a random device id kept on the device (the guest's
//   identity; the `guest_token` the gateway answers is stored as the guest credential).
// - It reconnects by itself with jittered exponential backoff (or after the gateway's
//   `reconnect.after_ms`) and then says `hello` as the same identity and `join`s and `watch`es
//   again: the waiting room keeps a place per identity for the sale's grace period, so a
//   reconnect keeps the place, and an admission comes back with a new token for this connection.
// - Requests (`hold`, `release`, `checkout`, `confirm`, `cancel`) carry an `id` echoed in the
//   answer and, for ledger commands, an idempotency `key` chosen by the caller per attempt. A
//   request in flight when the connection drops is sent again, with the same `id` and `key`, on
//   the next connection (the ledger answers a repeated key with its first outcome), rebuilt so
//   that it carries the admission token of the new connection.
// - Messages wait in a bounded outbox (`OUTBOX_MAX`) while the socket is not open.
// - Errors become `WsError` (an `ApiError` with status 0), so `errors.ts` shows them.
// - Pages render signals: the connection, each sale's queue and admission, each watched
//   performance's seat map, the member's live notifications, and each followed dashboard (a
//   seller's own performances).

import { signal, type Signal } from "@preact/signals";
import { ApiError, loadCredential, saveCredential } from "./api";

// ---------------------------------------------------------------------------------------------
// Messages, exactly as docs/protocol.md encodes them. Ids are decimal strings.

export type Id = string;

export type Selection =
  | { Seats: number[] }
  | { BestAvailable: { grade: number; count: number } }
  | { Zone: { zone: number; count: number } };

export type Place = { Seat: number } | { Zone: number };

export type ClientMessage =
  | { type: "hello"; device: string }
  | { type: "hello"; token: string }
  | { type: "join"; sale: Id }
  | { type: "leave"; sale: Id }
  | { type: "watch"; performance: Id }
  | { type: "unwatch"; performance: Id }
  | { type: "dashboard"; performance: Id }
  | { type: "undashboard"; performance: Id }
  | { type: "hold"; id: string; sale: Id; key: string; admission: string; selection: Selection; discount?: number; coupon?: string }
  | { type: "release"; id: string; sale: Id; key: string; admission: string; hold: Id }
  | { type: "checkout"; id: string; sale: Id; hold: Id }
  | { type: "confirm"; id: string; sale: Id; key: string; admission: string; hold: Id; payment_key: string; order_id: string }
  | { type: "cancel"; id: string; sale: Id; key: string; booking: Id; tickets?: Id[] };

export interface Limits {
  message_bytes_max: number;
  messages_per_sec: number;
  booking_attempts_per_sec: number;
  idle_timeout_ms: number;
}

export interface Welcome {
  type: "welcome";
  protocol: number;
  conn: Id;
  identity: string;
  guest_token?: string;
  limits: Limits;
}

export type QueueStatus = "pre_queue" | "drawing" | "open" | "paused" | "sold_out" | "unavailable";

export interface QueueMessage {
  type: "queue";
  sale: Id;
  status: QueueStatus;
  place?: number;
  ahead?: number;
  eta_s?: number;
  prequeue: number;
  open_at_ms: number;
  seed_hash: string;
  seed?: string;
  draw_entry?: string;
  waitlist?: { performance: Id; join: string };
}

export interface Admitted {
  type: "admitted";
  sale: Id;
  token: string;
  expires_at_ms: number;
  seat_limit: number;
}

export interface SeatsMessage {
  type: "seats";
  performance: Id;
  seq: number;
  seat_free: string;
  zone_free: number[];
  free: number;
  cancelled: boolean;
}

export interface SeatsChanged {
  type: "seats_changed";
  performance: Id;
  seq: number;
  taken: number[];
  freed: number[];
  zone_free: number[];
  free: number;
  cancelled: boolean;
}

export interface Held {
  hold: Id;
  places: Place[];
  amount_won: number;
  expires_at_ms: number;
  discount_won: number;
  booking_fee_won: number;
}

export interface Confirmed {
  booking: Id;
  tickets: Id[];
  amount_won: number;
}

export interface Cancelled {
  booking: Id;
  tickets: Id[];
  refund_won: number;
  fee_won: number;
  booking_fee_kept_won: number;
}

/** The ledger's replies an app asks for (others exist; they arrive as `Record`). */
export type Reply = { Held: Held } | { Released: { hold: Id } } | { Confirmed: Confirmed } | { Cancelled: Cancelled } | Record<string, unknown>;

/** The ledger's rejection: a bare name (`"HoldExpired"`) or `{Name: {fields}}`. */
export type Rejection = string | Record<string, Record<string, unknown> | string>;

export interface ResultMessage {
  type: "result";
  id: string;
  outcome: { Ok: Reply } | { Err: Rejection };
  code?: string;
}

export interface ErrorMessage {
  type: "error";
  id?: string;
  code: string;
  message: string;
  retry_after_ms?: number;
  provider_code?: string;
  provider_message?: string;
  reason?: string;
}

export interface BreakdownPlace {
  place: Place;
  grade: number;
  grade_code: string;
  list_won: number;
  price_won: number;
  booking_fee_won: number;
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

export interface CheckoutMessage {
  type: "checkout";
  id: string;
  order_id: string;
  order_name: string;
  amount_won: number;
  breakdown: { places: BreakdownPlace[]; discount_won: number; booking_fee_won: number; total_won: number; coupon?: string };
  expires_at_ms: number;
  cancellation: { deadline_ms: number; fees: FeeSchedule; booking_fee_refund: string };
  provider: { client_key: string; checkout_url: string };
}

export interface ReconnectMessage {
  type: "reconnect";
  reason: string;
  after_ms: number;
}

/** One item of a member's inbox (`GET /api/v2/me/notifications`, docs/protocol.md). */
export interface InboxItem {
  id: string;
  kind: string;
  created_at_ms: number;
  read: boolean;
  language: string;
  title: string;
  body: string;
  texts: Record<string, { title: string; body: string }>;
  data: Record<string, string>;
}

/** The live `notification`: exactly the fields of an inbox item. */
export interface NotificationMessage extends InboxItem {
  type: "notification";
}

/** The waiting room's numbers in a `dashboard` (docs/protocol.md, "The seller's dashboard"). */
export interface DashboardQueue {
  status: QueueStatus;
  open_at_ms: number;
  waiting: number;
  admitted: number;
  active: number;
  prequeue: number;
  admit_per_sec: number;
  active_max: number;
  paused: boolean;
}

export interface DashboardSales {
  bookings: number;
  sales_won: number;
  refunds_won: number;
  cancellation_fees_won: number;
  booking_fees_won: number;
  platform_commission_won: number;
  net_payable_won: number;
}

export interface DashboardFigures {
  show: Id;
  title: string;
  starts_at_ms: number;
  cancelled: boolean;
  seq: number;
  sales: DashboardSales;
  /** Bookings per minute, oldest first (minutes without bookings left out). */
  minutes: { minute_ms: number; bookings: number; sales_won: number }[];
  grades: { code: string; price_won: number; left: number | null }[];
  waitlist: {
    enabled: boolean;
    per_grade: { grade: string; waiting: number }[];
    any_grade: number;
    offers_open: number;
    places_offered: number;
    places_booked: number;
    places_reserved: number;
  };
  door: { doors_open_ms: number; admitted: number; inside: number; no_shows: number; conflicts_total: number };
  /** Each seat's state (the seller's only); `null` until the API knows the ledger's state. */
  seats: DashboardSeats | null;
}

/** A dashboard's seats by state: `runs` is the run-length encoding of one letter per seat
 *  (`f` on sale, `h` held, `r` reserved for the waitlist, `s` sold, `x` called off; a letter
 *  added later is another state), `null` when too long to send; `states` counts seats per letter. */
export interface DashboardSeats {
  count: number;
  runs: string | null;
  states: Record<string, number>;
}

/** The gateway ended a `dashboard` subscription: its session ended (`session_ended`) or its
 *  account no longer manages the performance (`forbidden`). */
export interface DashboardEnded {
  type: "dashboard_ended";
  performance: Id;
  code: string;
  message: string;
}

/** Seats a `runs` may expand to at most (the ledger's most seats per performance). */
export const DASHBOARD_SEATS_MAX = 150_000;

/** The seat states `runs` encodes, one letter per seat; `null` for a malformed encoding or more
 *  than `seatsMax` seats. */
export function decodeSeatRuns(runs: string, seatsMax = DASHBOARD_SEATS_MAX): string[] | null {
  const states: string[] = [];
  let length = 0;
  for (const char of runs) {
    if (char >= "0" && char <= "9") {
      length = length * 10 + Number(char);
      if (length > seatsMax) return null;
    } else if (char >= "a" && char <= "z") {
      const run = Math.max(length, 1);
      if (states.length + run > seatsMax) return null;
      for (let i = 0; i < run; i += 1) states.push(char);
      length = 0;
    } else {
      return null;
    }
  }
  return length === 0 ? states : null;
}

export interface DashboardMessage {
  type: "dashboard";
  performance: Id;
  at_ms: number;
  queue: DashboardQueue | null;
  figures: DashboardFigures;
}

/** A followed dashboard: the latest `dashboard`, or why the gateway refused or ended it. */
export interface DashboardView {
  latest: DashboardMessage | null;
  /** When the latest arrived (this tab's clock), to show how fresh it is. */
  receivedAtMs: number | null;
  refused: WsError | null;
}

export type ServerMessage =
  | Welcome
  | QueueMessage
  | Admitted
  | SeatsMessage
  | SeatsChanged
  | ResultMessage
  | ErrorMessage
  | CheckoutMessage
  | ReconnectMessage
  | NotificationMessage
  | DashboardMessage
  | DashboardEnded;

// ---------------------------------------------------------------------------------------------
// Limits of this client.

/** Messages kept while the socket is not open; past it a request fails at once (`busy`). */
export const OUTBOX_MAX = 32;
/** Requests waiting for an answer at once. */
export const PENDING_MAX = 16;
/** Live notifications kept for the pages (newest first). */
export const NOTIFICATIONS_MAX = 50;
/** Sales joined and seat maps watched at once: the gateway's `subscriptions_max`. */
export const SUBSCRIPTIONS_MAX = 4;
/** Backoff between reconnects: from the first to the last, doubling, with full jitter. */
export const RECONNECT_FIRST_MS = 500;
export const RECONNECT_MAX_MS = 15_000;
/** How long a request waits for its answer (a payment confirm may wait on the provider). */
export const REQUEST_TIMEOUT_MS = 30_000;
export const CONFIRM_TIMEOUT_MS = 90_000;

const DEVICE_KEY = "picket.device";

// ---------------------------------------------------------------------------------------------
// Errors.

/** A gateway `error`, a ledger rejection, or a local failure, with its stable code. */
export class WsError extends ApiError {
  /** Milliseconds the gateway asked to wait, when it said. */
  readonly retryAfterMs: number | null;
  /** The ledger's rejection (`{"SeatTaken": {"seat": 1}}`), for a `result`'s `Err`. */
  readonly rejection: Rejection | null;
  readonly providerCode: string | null;
  readonly providerMessage: string | null;
  /** `payment_refunded`'s ledger reason. */
  readonly reason: string | null;

  constructor(
    code: string,
    detail: string,
    extra: { retryAfterMs?: number; rejection?: Rejection; providerCode?: string; providerMessage?: string; reason?: string } = {},
  ) {
    super(0, code, detail, [], extra.retryAfterMs != null ? Math.ceil(extra.retryAfterMs / 1000) : null);
    this.retryAfterMs = extra.retryAfterMs ?? null;
    this.rejection = extra.rejection ?? null;
    this.providerCode = extra.providerCode ?? null;
    this.providerMessage = extra.providerMessage ?? null;
    this.reason = extra.reason ?? null;
  }
}

/** The fields of a rejection (`{"OverBuyerLimit": {"limit": 4, "already": 2}}` → `{limit, already}`). */
export function rejectionFields(rejection: Rejection | null): Record<string, unknown> {
  if (!rejection || typeof rejection === "string") return {};
  const inner = Object.values(rejection)[0];
  return inner && typeof inner === "object" ? inner : {};
}

// ---------------------------------------------------------------------------------------------
// State the pages render.

export type ConnectionState = "connecting" | "open" | "reconnecting" | "signed_out";

/** A sale as this client sees it: the latest `queue`, the admission, and how it ended. */
export interface SaleView {
  queue: QueueMessage | null;
  admitted: Admitted | null;
  /** Why the client is no longer in the line (`admission_expired`, `unknown_sale`, …). */
  ended: WsError | null;
}

/** A performance's seat map: one byte per seat, 1 = on sale. */
export interface SeatMap {
  seq: number;
  onSale: Uint8Array;
  zoneFree: number[];
  free: number;
  cancelled: boolean;
  /** Seats the latest change took and freed, for announcing them. */
  lastTaken: number[];
  lastFreed: number[];
}

/** Decodes `seat_free` (base64, one bit per seat, least significant bit first). */
export function decodeSeatFree(base64: string, seats: number): Uint8Array {
  const bytes = atob(base64);
  const onSale = new Uint8Array(seats);
  for (let seat = 0; seat < seats; seat++) {
    const byte = bytes.charCodeAt(seat >> 3);
    onSale[seat] = (byte >> (seat & 7)) & 1;
  }
  return onSale;
}

interface Pending {
  /** Rebuilt for each send, so it carries the current connection's admission token; null
   *  while that token has not come yet. */
  build: () => ClientMessage | null;
  resolve: (message: ResultMessage | CheckoutMessage) => void;
  reject: (error: WsError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Whether it was written to the current connection. */
  sent: boolean;
}

function randomHex(bytes: number): string {
  const data = new Uint8Array(bytes);
  crypto.getRandomValues(data);
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fresh idempotency key for one booking attempt (1–64 printable bytes). */
export function newKey(prefix: string): string {
  return `${prefix}-${randomHex(12)}`;
}

function deviceId(): string {
  try {
    const saved = localStorage.getItem(DEVICE_KEY);
    if (saved && /^[\x21-\x7e]{16,64}$/.test(saved)) return saved;
    const fresh = randomHex(16);
    localStorage.setItem(DEVICE_KEY, fresh);
    return fresh;
  } catch {
    return randomHex(16);
  }
}

export class PicketSocket {
  readonly state = signal<ConnectionState>("connecting");
  readonly welcome = signal<Welcome | null>(null);
  /** Why the socket stopped trying (a member's session refused): sign in again. */
  readonly authError = signal<WsError | null>(null);
  readonly notifications = signal<NotificationMessage[]>([]);

  private socket: WebSocket | null = null;
  private opened = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private outbox: string[] = [];
  private pending = new Map<string, Pending>();
  private nextId = 1;
  private sales = new Map<Id, Signal<SaleView>>();
  private joined = new Set<Id>();
  private maps = new Map<Id, { view: Signal<SeatMap | null>; seats: number; watchers: number }>();
  private dashboards = new Map<Id, { view: Signal<DashboardView>; followers: number }>();
  private notificationListeners = new Set<(n: NotificationMessage) => void>();
  private seenNotifications = new Set<string>();
  private stopped = false;

  constructor(private readonly url: string) {
    this.connect();
  }

  // -- subscriptions ------------------------------------------------------------------------

  /** Joins a sale's waiting room (idempotent) and returns its view. */
  join(sale: Id): Signal<SaleView> {
    const view = this.saleView(sale);
    if (!this.joined.has(sale)) {
      if (this.joined.size >= SUBSCRIPTIONS_MAX) {
        const oldest = this.joined.values().next().value as Id;
        this.leave(oldest);
      }
      this.joined.add(sale);
    }
    view.value = { ...view.value, ended: null };
    this.send({ type: "join", sale });
    return view;
  }

  leave(sale: Id): void {
    if (!this.joined.delete(sale)) return;
    this.send({ type: "leave", sale });
  }

  saleView(sale: Id): Signal<SaleView> {
    let view = this.sales.get(sale);
    if (!view) {
      view = signal<SaleView>({ queue: null, admitted: null, ended: null });
      this.sales.set(sale, view);
    }
    return view;
  }

  /** Watches a performance's seat map of `seats` seats; call the returned function to stop. */
  watch(performance: Id, seats: number): { view: Signal<SeatMap | null>; stop: () => void } {
    let entry = this.maps.get(performance);
    if (!entry) {
      entry = { view: signal<SeatMap | null>(null), seats, watchers: 0 };
      this.maps.set(performance, entry);
    }
    entry.seats = seats;
    entry.watchers += 1;
    if (entry.watchers === 1) this.send({ type: "watch", performance });
    const watched = entry;
    let stopped = false;
    return {
      view: watched.view,
      stop: () => {
        if (stopped) return;
        stopped = true;
        watched.watchers -= 1;
        if (watched.watchers === 0) {
          this.maps.delete(performance);
          this.send({ type: "unwatch", performance });
        }
      },
    };
  }

  /** Follows a performance's dashboard (the signed-in seller's own, or any for an admin); call
   *  the returned function to stop. Followed again after every reconnect. */
  dashboard(performance: Id): { view: Signal<DashboardView>; stop: () => void } {
    let entry = this.dashboards.get(performance);
    if (!entry) {
      entry = { view: signal<DashboardView>({ latest: null, receivedAtMs: null, refused: null }), followers: 0 };
      this.dashboards.set(performance, entry);
    }
    entry.followers += 1;
    if (entry.followers === 1) this.send({ type: "dashboard", performance });
    const followed = entry;
    let stopped = false;
    return {
      view: followed.view,
      stop: () => {
        if (stopped) return;
        stopped = true;
        followed.followers -= 1;
        if (followed.followers === 0) {
          this.dashboards.delete(performance);
          this.send({ type: "undashboard", performance });
        }
      },
    };
  }

  /** Calls `listener` with each new live notification (each `id` once); returns the unsubscribe. */
  onNotification(listener: (n: NotificationMessage) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  // -- requests -----------------------------------------------------------------------------

  /** `hold` under the sale's admission. `key` names the attempt: reuse it to retry the same one. */
  async hold(sale: Id, selection: Selection, key: string, offer: { discount?: number; coupon?: string } = {}): Promise<Held> {
    const result = await this.command(sale, (id, admission) => ({ type: "hold", id, sale, key, admission, selection, ...offer }));
    return replyOf<Held>(result, "Held");
  }

  async release(sale: Id, hold: Id, key: string): Promise<void> {
    const result = await this.command(sale, (id, admission) => ({ type: "release", id, sale, key, admission, hold }));
    replyOf(result, "Released");
  }

  /** What paying the hold costs, as the ledger has it, with a new order id. */
  async checkout(sale: Id, hold: Id): Promise<CheckoutMessage> {
    const answer = await this.request((id) => ({ type: "checkout", id, sale, hold }), REQUEST_TIMEOUT_MS);
    if (answer.type !== "checkout") throw new WsError("internal", "unexpected answer to checkout");
    return answer;
  }

  /** Confirms a payment made at the provider (the app's alternative to the success URL). */
  async confirm(sale: Id, hold: Id, paymentKey: string, orderId: string, key: string): Promise<Confirmed> {
    const result = await this.command(
      sale,
      (id, admission) => ({ type: "confirm", id, sale, key, admission, hold, payment_key: paymentKey, order_id: orderId }),
      CONFIRM_TIMEOUT_MS,
    );
    return replyOf<Confirmed>(result, "Confirmed");
  }

  async cancel(sale: Id, booking: Id, tickets: Id[], key: string): Promise<Cancelled> {
    const answer = await this.request((id) => ({ type: "cancel", id, sale, key, booking, tickets }), REQUEST_TIMEOUT_MS);
    return replyOf<Cancelled>(answer, "Cancelled");
  }

  /** A booking command: needs the sale's admission, read when the message is (re)sent. */
  private command(sale: Id, build: (id: string, admission: string) => ClientMessage, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.saleView(sale).value.admitted) return Promise.reject(new WsError("no_admission", ""));
    return this.request((id) => {
      const admitted = this.saleView(sale).value.admitted;
      return admitted?.token ? build(id, admitted.token) : null;
    }, timeoutMs);
  }

  private request(build: (id: string) => ClientMessage | null, timeoutMs: number): Promise<ResultMessage | CheckoutMessage> {
    if (this.pending.size >= PENDING_MAX) return Promise.reject(new WsError("busy", "too many requests in flight"));
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WsError("timeout", "no answer in time"));
      }, timeoutMs);
      const pending: Pending = { build: () => build(id), resolve, reject, timer, sent: false };
      this.pending.set(id, pending);
      this.flushPending();
    });
  }

  /** Writes the requests not yet written to this connection (after `welcome`). */
  private flushPending(): void {
    if (!this.opened || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    for (const pending of this.pending.values()) {
      if (pending.sent) continue;
      // No message yet: the admission token of this connection has not come; `admitted`
      // flushes again (the request's timeout bounds the wait).
      const message = pending.build();
      if (!message) continue;
      this.socket.send(JSON.stringify(message));
      pending.sent = true;
    }
  }

  private settle(id: string, answer: ResultMessage | CheckoutMessage | null, error: WsError | null): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else if (answer) pending.resolve(answer);
  }

  // -- the connection -----------------------------------------------------------------------

  /** Says `hello` again as whoever is signed in now (after a sign-in or sign-out). */
  restart(): void {
    this.stopped = false;
    this.authError.value = null;
    this.attempt = 0;
    this.socket?.close(1000);
    this.dropConnection();
    this.connect();
  }

  /** Closes for good (tests, or a page that leaves the app). */
  close(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.close(1000);
    this.dropConnection();
  }

  private connect(): void {
    if (this.stopped) return;
    this.reconnectTimer = null;
    this.state.value = this.attempt === 0 ? "connecting" : "reconnecting";
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, "picket.v2");
    } catch {
      this.scheduleReconnect(null);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const credential = loadCredential();
      const hello: ClientMessage = credential ? { type: "hello", token: credential.token } : { type: "hello", device: deviceId() };
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== "string") return;
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        return;
      }
      this.handle(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.dropConnection();
      this.scheduleReconnect(event.code);
    };
  }

  /** Forgets the connection; requests stay pending to be sent on the next one. */
  private dropConnection(): void {
    if (this.socket) {
      this.socket.onopen = this.socket.onmessage = this.socket.onclose = null;
    }
    this.socket = null;
    this.opened = false;
    for (const pending of this.pending.values()) pending.sent = false;
    // An admission token is bound to its connection: the next connection gets a new one.
    for (const view of this.sales.values()) {
      if (view.value.admitted) view.value = { ...view.value, admitted: { ...view.value.admitted, token: "" } };
    }
  }

  private scheduleReconnect(closeCode: number | null, afterMs?: number): void {
    if (this.stopped || this.reconnectTimer) return;
    if (closeCode === 4001 && this.authError.value) {
      this.state.value = "signed_out";
      this.failPending(this.authError.value);
      return;
    }
    this.state.value = "reconnecting";
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** this.attempt);
    // Full jitter spreads a gateway's clients out after a restart; the gateway's own
    // `after_ms` comes first when it drains.
    const delay = (afterMs ?? 0) + Math.random() * ceiling;
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private failPending(error: WsError): void {
    for (const id of [...this.pending.keys()]) this.settle(id, null, error);
  }

  private send(message: ClientMessage): void {
    const text = JSON.stringify(message);
    if (this.opened && this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(text);
      return;
    }
    // join/watch are re-sent from the subscription sets on every welcome; only the rest waits.
    const resent = ["join", "watch", "leave", "unwatch", "dashboard", "undashboard"];
    if (resent.includes(message.type)) return;
    if (this.outbox.length >= OUTBOX_MAX) this.outbox.shift();
    this.outbox.push(text);
  }

  private onWelcome(welcome: Welcome): void {
    this.opened = true;
    this.attempt = 0;
    this.welcome.value = welcome;
    this.state.value = "open";
    if (welcome.guest_token) {
      const credential = loadCredential();
      if (!credential || credential.kind === "guest") saveCredential({ kind: "guest", token: welcome.guest_token });
    }
    const socket = this.socket!;
    for (const sale of this.joined) socket.send(JSON.stringify({ type: "join", sale }));
    for (const performance of this.maps.keys()) socket.send(JSON.stringify({ type: "watch", performance }));
    for (const performance of this.dashboards.keys()) socket.send(JSON.stringify({ type: "dashboard", performance }));
    for (const text of this.outbox.splice(0)) socket.send(text);
    this.flushPending();
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case "welcome":
        this.onWelcome(message);
        return;
      case "queue": {
        const view = this.saleView(message.sale);
        view.value = { ...view.value, queue: message, ended: null };
        return;
      }
      case "admitted": {
        const view = this.saleView(message.sale);
        view.value = { ...view.value, admitted: message, ended: null };
        // Requests waiting for this connection's admission token can go now.
        this.flushPending();
        return;
      }
      case "seats":
        this.onSeats(message);
        return;
      case "seats_changed":
        this.onSeatsChanged(message);
        return;
      case "result":
        if (message.outcome && "Err" in message.outcome) {
          const code = message.code ?? "internal";
          this.settle(message.id, null, new WsError(code, "", { rejection: message.outcome.Err }));
        } else {
          this.settle(message.id, message, null);
        }
        return;
      case "checkout":
        this.settle(message.id, message, null);
        return;
      case "error":
        this.onError(message);
        return;
      case "reconnect":
        // The gateway drains: go to another one after `after_ms`; its close (1012) follows.
        this.socket?.close(1000);
        this.dropConnection();
        this.attempt = 0;
        this.scheduleReconnect(null, message.after_ms);
        return;
      case "notification":
        this.onNotificationMessage(message);
        return;
      case "dashboard": {
        const entry = this.dashboards.get(message.performance);
        if (entry) entry.view.value = { latest: message, receivedAtMs: Date.now(), refused: null };
        return;
      }
      case "dashboard_ended": {
        // The gateway follows it no more: shown in place of the figures, whatever came before.
        const entry = this.dashboards.get(message.performance);
        if (entry) entry.view.value = { ...entry.view.value, refused: new WsError(message.code, message.message) };
        return;
      }
      default:
        // Message types this client does not know are ignored (the protocol may add some).
        return;
    }
  }

  private onError(message: ErrorMessage): void {
    const error = new WsError(message.code, message.message, {
      retryAfterMs: message.retry_after_ms,
      providerCode: message.provider_code,
      providerMessage: message.provider_message,
      reason: message.reason,
    });
    if (message.code === "token_invalid" || message.code === "token_expired") {
      const credential = loadCredential();
      if (credential?.kind === "guest") {
        // A guest's token ran out: the device id is the identity, so say hello with it again.
        saveCredential(null);
      } else {
        this.authError.value = error;
      }
      return;
    }
    if (message.id && this.pending.has(message.id)) {
      this.settle(message.id, null, error);
      return;
    }
    if (message.code === "admission_expired") {
      // The admission ended (expired or spent): the client is no longer in the line.
      for (const [sale, view] of this.sales) {
        if (view.value.admitted || this.joined.has(sale)) {
          view.value = { queue: view.value.queue, admitted: null, ended: error };
          this.joined.delete(sale);
        }
      }
      return;
    }
    if (message.code === "forbidden" || message.code === "dashboard_unavailable") {
      // Only a `dashboard` is answered so: shown on every dashboard that has had none yet.
      for (const entry of this.dashboards.values()) {
        if (!entry.view.value.latest) entry.view.value = { ...entry.view.value, refused: error };
      }
      return;
    }
    if (message.code === "unknown_sale" || message.code === "too_many_subscriptions" || message.code === "queue_unavailable") {
      for (const entry of this.dashboards.values()) {
        if (!entry.view.value.latest) entry.view.value = { ...entry.view.value, refused: error };
      }
      // Not tied to a request: shown on every sale still waiting for its first queue message.
      for (const view of this.sales.values()) {
        if (!view.value.queue && !view.value.admitted) view.value = { ...view.value, ended: error };
      }
    }
  }

  private onSeats(message: SeatsMessage): void {
    const entry = this.maps.get(message.performance);
    if (!entry) return;
    entry.view.value = {
      seq: message.seq,
      onSale: decodeSeatFree(message.seat_free, entry.seats),
      zoneFree: message.zone_free,
      free: message.free,
      cancelled: message.cancelled,
      lastTaken: [],
      lastFreed: [],
    };
  }

  private onSeatsChanged(message: SeatsChanged): void {
    const entry = this.maps.get(message.performance);
    const current = entry?.view.value;
    if (!entry || !current || message.seq <= current.seq) return;
    const onSale = current.onSale.slice();
    for (const seat of message.taken) if (seat < onSale.length) onSale[seat] = 0;
    for (const seat of message.freed) if (seat < onSale.length) onSale[seat] = 1;
    entry.view.value = {
      seq: message.seq,
      onSale,
      zoneFree: message.zone_free,
      free: message.free,
      cancelled: message.cancelled,
      lastTaken: message.taken,
      lastFreed: message.freed,
    };
  }

  private onNotificationMessage(message: NotificationMessage): void {
    // At least once: the same id may come again.
    if (this.seenNotifications.has(message.id)) return;
    this.seenNotifications.add(message.id);
    if (this.seenNotifications.size > NOTIFICATIONS_MAX * 4) {
      this.seenNotifications = new Set(this.notifications.value.map((n) => n.id));
    }
    this.notifications.value = [message, ...this.notifications.value].slice(0, NOTIFICATIONS_MAX);
    for (const listener of this.notificationListeners) listener(message);
  }
}

function replyOf<T>(answer: ResultMessage | CheckoutMessage, name: string): T {
  if (answer.type === "result" && "Ok" in answer.outcome) {
    const reply = answer.outcome.Ok as Record<string, unknown>;
    if (name in reply) return reply[name] as T;
  }
  throw new WsError("internal", `expected ${name}`);
}

let shared: PicketSocket | null = null;

/** The tab's one connection to `/ws`, opened on first use. */
export function socket(): PicketSocket {
  if (!shared) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    shared = new PicketSocket(`${scheme}//${location.host}/ws`);
  }
  return shared;
}

/** After signing in or out: the socket says hello again as the new identity (if it is open). */
export function identityChanged(): void {
  shared?.restart();
}
