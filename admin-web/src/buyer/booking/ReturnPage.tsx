// `/booking/return`: where the payment provider sends the buyer back. On success the provider
// appends `paymentKey`, `orderId` and `amount`; the page books through the success URL
// (`GET /api/v2/payments/success`) under the admission kept before leaving (docs/payments.md),
// then shows the booking with its number. On failure (`failed=1` with the provider's `code` and
// `message`, or a refusal at confirm such as a declined card) it says why and offers a retry:
// the hold stays until its deadline, so the buyer pays it again with another card.

import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, loadCredential } from "../../lib/api";
import { errorMessage, messageFor } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { dateTime, won } from "../../lib/format";
import { bookPath, clearPending, loadPending, saveHold, type PendingPayment } from "./data";
import "./booking.css";

interface Booked {
  order_id: string;
  booking: string;
  tickets: string[];
  amount_won: number;
}

interface BookingItem {
  booking: string;
  /** A guest booking's number (`P` and ten digits); null for a member's, named by its id. */
  number: string | null;
  paid_won: number;
  starts_at_ms: number | null;
  tickets: { ticket: string; place: string; price_won: number }[];
}

/** Bookings are read from the ledger's committed events, so the new one shows a moment later. */
const BOOKING_LOOKUPS_MAX = 20;
const BOOKING_LOOKUP_INTERVAL_MS = 500;

type Outcome =
  | { kind: "working" }
  | { kind: "booked"; booked: Booked; item: BookingItem | null }
  | { kind: "failed"; message: string; retry: boolean };

export default function ReturnPage() {
  const { query } = useLocation();
  const [outcome, setOutcome] = useState<Outcome>({ kind: "working" });
  // Read once: a booked payment clears it, and the confirmation still names the show.
  const [pending] = useState(() => loadPending());
  const performance = query.performance ?? pending?.performance ?? "";

  useEffect(() => {
    if (query.failed) {
      const provider = query.message ? ` (${query.message})` : "";
      setOutcome({ kind: "failed", message: `${messageFor("payment_declined")}${provider}`, retry: true });
      return;
    }
    if (!query.paymentKey || !query.orderId) {
      setOutcome({ kind: "failed", message: messageFor("payment_not_found"), retry: true });
      return;
    }
    book(query.paymentKey, query.orderId, query.amount ?? "", pending).then(setOutcome);
  }, []);

  return (
    <section class="return" aria-live="polite">
      {outcome.kind === "working" && (
        <>
          <h1>{tr("결제를 확인하고 있습니다…", "Confirming your payment…")}</h1>
          <p class="muted">{tr("창을 닫지 마세요.", "Please keep this page open.")}</p>
        </>
      )}
      {outcome.kind === "booked" && <Confirmed booked={outcome.booked} item={outcome.item} title={pending?.title ?? ""} />}
      {outcome.kind === "failed" && (
        <>
          <h1>{tr("결제가 완료되지 않았습니다", "The payment did not go through")}</h1>
          <p class="error" role="alert" data-testid="payment-failed">
            {outcome.message}
          </p>
          {outcome.retry && performance && (
            <a class="button" href={bookPath(performance)} data-testid="retry-payment">
              {tr("다시 시도", "Try again")}
            </a>
          )}
        </>
      )}
    </section>
  );
}

async function book(paymentKey: string, orderId: string, amount: string, pending: PendingPayment | null): Promise<Outcome> {
  const params = new URLSearchParams({ paymentKey, orderId, amount });
  // The admission this order was paid under; opening the URL again after it was spent reads the
  // booking back (no admission needed for that).
  if (pending?.admission && pending.order_id === orderId) params.set("admission", pending.admission);
  try {
    const booked = await get<Booked>(`/payments/success?${params}`);
    clearPending();
    if (pending) saveHold(null, pending.performance);
    return { kind: "booked", booked, item: await findBooking(booked.booking) };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    // A declined card or a provider hiccup leaves the hold: the buyer can pay again.
    const retry = ["payment_declined", "payment_unavailable", "payment_not_found", "payment_amount_mismatch", "too_many_attempts", "network"].includes(code);
    if (!retry && pending) saveHold(null, pending.performance);
    return { kind: "failed", message: errorMessage(error), retry: retry || code === "admission_expired" || code === "payment_refunded" };
  }
}

async function findBooking(booking: string): Promise<BookingItem | null> {
  const path = loadCredential()?.kind === "member" ? "/me/bookings" : "/guest/bookings";
  for (let i = 0; i < BOOKING_LOOKUPS_MAX; i++) {
    try {
      const list = await get<{ items: BookingItem[] }>(path);
      const found = list.items.find((item) => item.booking === booking);
      if (found) return found;
    } catch {
      // Try again: the list follows the ledger a moment behind.
    }
    await new Promise((resolve) => setTimeout(resolve, BOOKING_LOOKUP_INTERVAL_MS));
  }
  return null;
}

function Confirmed(props: { booked: Booked; item: BookingItem | null; title: string }) {
  const { booked, item } = props;
  const guest = loadCredential()?.kind !== "member";
  return (
    <>
      <h1 data-testid="booking-confirmed">{tr("예매가 완료되었습니다", "Your booking is confirmed")}</h1>
      {props.title && <p><strong>{props.title}</strong></p>}
      <dl class="confirmed">
        <dt>{tr("예매번호", "Booking number")}</dt>
        <dd class="booking-number" data-testid="booking-number">
          {item ? item.number ?? item.booking : tr("확인 중…", "Looking it up…")}
        </dd>
        <dt>{tr("결제 금액", "Paid")}</dt>
        <dd data-testid="booking-paid">{won(booked.amount_won)}</dd>
        {item?.starts_at_ms != null && (
          <>
            <dt>{tr("공연 일시", "Performance")}</dt>
            <dd>{dateTime(item.starts_at_ms)}</dd>
          </>
        )}
        <dt>{tr("티켓", "Tickets")}</dt>
        <dd>
          <ul>
            {(item?.tickets ?? booked.tickets.map((t) => ({ ticket: t, place: "", price_won: 0 }))).map((t) => (
              <li key={t.ticket}>{t.place || `#${t.ticket}`}</li>
            ))}
          </ul>
        </dd>
      </dl>
      {guest && (
        <p class="notice">
          {tr(
            "비회원 예매는 예매번호와 전화번호로 조회합니다. 예매번호를 꼭 기록해 두세요.",
            "A guest booking is looked up by its number and your phone: keep the booking number.",
          )}
        </p>
      )}
      <a class="button" href="/">{tr("다른 공연 보기", "More shows")}</a>
    </>
  );
}
