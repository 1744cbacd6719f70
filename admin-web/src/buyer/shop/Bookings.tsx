// `/me/bookings` and `/me/bookings/:id`: the buyer's bookings (a member's, or this device's as
// a guest), each ticket with the cancellation fee that would apply now (the server's figure),
// cancelling with a confirmation that states the fee, and links to the rotating QR tickets.
import { useState } from "preact/hooks";
import { get, loadCredential } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { dateTime, won } from "../../lib/format";
import type { Booking, BookingTicket, MyTicket } from "./api-types";
import { type Cancelled, socket } from "../../lib/ws";
import { ErrorBox, Loading, useLoad } from "./load";
import { member } from "./session";
import { MembersOnly } from "./Waitlist";

interface BookingsWithTitles {
  items: Booking[];
  /** Show titles by performance id (members only: `GET /me/tickets`). */
  titles: Record<string, string>;
}

async function loadBookings(): Promise<BookingsWithTitles> {
  const credential = loadCredential();
  if (credential?.kind === "guest") {
    const { items } = await get<{ items: Booking[] }>("/guest/bookings");
    return { items, titles: {} };
  }
  const [{ items }, tickets] = await Promise.all([get<{ items: Booking[] }>("/me/bookings"), get<{ items: MyTicket[] }>("/me/tickets")]);
  const titles: Record<string, string> = {};
  for (const t of tickets.items) if (t.title) titles[t.performance] = t.title;
  return { items, titles };
}

function signedIn(): boolean {
  return !!member.value || loadCredential()?.kind === "guest";
}

export function MyBookings() {
  const bookings = useLoad(() => (signedIn() ? loadBookings() : Promise.resolve(null)), [member.value?.id]);
  if (member.value === null && loadCredential()?.kind !== "guest") return <MembersOnly />;
  return (
    <section class="stack">
      <h1>{tr("내 예매", "My bookings")}</h1>
      <p class="row">
        <a href="/me/waitlist">{tr("취소표 대기", "My waitlist")}</a>
      </p>
      <ErrorBox error={bookings.error} />
      {bookings.loading && !bookings.data && <Loading />}
      {bookings.data && bookings.data.items.length === 0 && <p class="muted">{tr("예매 내역이 없습니다.", "No bookings yet.")}</p>}
      <ul class="cards" style="grid-template-columns: 1fr" data-testid="bookings">
        {bookings.data?.items.map((b) => (
          <li class="perf" key={b.booking} data-testid="booking">
            <h2>
              <a href={`/me/bookings/${b.booking}`}>{bookings.data!.titles[b.performance] ?? tr(`예매 ${b.number}`, `Booking ${b.number}`)}</a>
            </h2>
            <BookingFacts booking={b} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function BookingFacts(props: { booking: Booking }) {
  const b = props.booking;
  const live = b.tickets.filter((t) => !t.cancelled && !t.transferred_to).length;
  return (
    <dl class="facts">
      <dt>{tr("예매번호", "Booking number")}</dt>
      <dd data-testid="booking-number">{b.number}</dd>
      {b.starts_at_ms !== null && (
        <>
          <dt>{tr("공연 일시", "Performance")}</dt>
          <dd>{dateTime(b.starts_at_ms)}</dd>
        </>
      )}
      <dt>{tr("결제 금액", "Paid")}</dt>
      <dd>{won(b.paid_won)}</dd>
      <dt>{tr("티켓", "Tickets")}</dt>
      <dd>{tr(`${live}매 (전체 ${b.tickets.length}매)`, `${live} valid of ${b.tickets.length}`)}</dd>
    </dl>
  );
}

function feeText(t: BookingTicket): string {
  if (t.cancellation_fee_now_won === null) return tr("온라인 취소 불가", "No longer cancellable online");
  if (t.cancellation_fee_now_won === 0) return tr("지금 취소 시 수수료 없음", "Free to cancel now");
  return tr(`지금 취소 시 수수료 ${won(t.cancellation_fee_now_won)}`, `Fee if cancelled now: ${won(t.cancellation_fee_now_won)}`);
}

export function BookingDetail(props: { id: string }) {
  const bookings = useLoad(() => (signedIn() ? loadBookings() : Promise.resolve(null)), [member.value?.id, props.id]);
  const [selected, setSelected] = useState<string[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Cancelled | null>(null);
  // One idempotency key per confirmation: pressing again after a lost answer cancels once.
  const [key, setKey] = useState(() => crypto.randomUUID());
  if (member.value === null && loadCredential()?.kind !== "guest") return <MembersOnly />;
  if (bookings.error) return <ErrorBox error={bookings.error} />;
  if (!bookings.data) return <Loading />;
  const booking = bookings.data.items.find((b) => b.booking === props.id);
  if (!booking) return <p class="error">{tr("예매를 찾을 수 없습니다.", "Booking not found.")}</p>;
  const title = bookings.data.titles[booking.performance];
  const cancellable = booking.tickets.filter((t) => !t.cancelled && !t.transferred_to && t.cancellation_fee_now_won !== null);
  const chosen = cancellable.filter((t) => selected.includes(t.ticket));
  const feeNow = chosen.reduce((sum, t) => sum + (t.cancellation_fee_now_won ?? 0), 0);
  const priceOf = chosen.reduce((sum, t) => sum + t.price_won, 0);

  async function cancel() {
    setBusy(true);
    try {
      const answer = await socket().cancel(booking!.performance, booking!.booking, chosen.map((t) => t.ticket), key);
      setDone(answer);
      setConfirming(false);
      setSelected([]);
      setError(null);
      setKey(crypto.randomUUID());
      bookings.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="stack">
      <p>
        <a href="/me/bookings">← {tr("내 예매", "My bookings")}</a>
      </p>
      <h1>{title ?? tr("예매 상세", "Booking")}</h1>
      <BookingFacts booking={booking} />
      {booking.cancellation_deadline_ms !== null && (
        <p class="muted">{tr(`온라인 취소 마감 ${dateTime(booking.cancellation_deadline_ms)}`, `Online cancellation closes ${dateTime(booking.cancellation_deadline_ms)}`)}</p>
      )}
      {done && (
        <p class="notice" role="status" data-testid="cancelled">
          {tr(
            `취소되었습니다. 환불 예정 ${won(done.refund_won)} (취소 수수료 ${won(done.fee_won)}${done.booking_fee_kept_won ? `, 환불되지 않는 예매수수료 ${won(done.booking_fee_kept_won)}` : ""})`,
            `Cancelled. Refund due ${won(done.refund_won)} (cancellation fee ${won(done.fee_won)}${done.booking_fee_kept_won ? `, booking fee kept ${won(done.booking_fee_kept_won)}` : ""})`,
          )}
        </p>
      )}
      <ul class="cards" style="grid-template-columns: 1fr">
        {booking.tickets.map((t) => {
          const canCancel = cancellable.includes(t);
          return (
            <li class="perf" key={t.ticket} data-testid="booking-ticket">
              <div class="row" style="justify-content: space-between">
                <strong>{t.place}</strong>
                <span>{won(t.price_won)}</span>
              </div>
              {t.discount && <p class="muted">{t.discount.label}</p>}
              {t.cancelled ? (
                <p class="left-none">{tr("취소됨", "Cancelled")}</p>
              ) : t.transferred_to ? (
                <p class="muted">{tr(`${t.transferred_to.email}님에게 양도함`, `Given to ${t.transferred_to.email}`)}</p>
              ) : (
                <>
                  <p class="muted" data-testid="fee-now">
                    {feeText(t)}
                  </p>
                  <div class="row">
                    <a class="button" href={`/tickets/${t.ticket}`} data-testid="open-ticket">
                      {tr("모바일 티켓", "Mobile ticket")}
                    </a>
                    {canCancel && (
                      <label class="row" style="margin: 0; font-weight: 400">
                        <input
                          type="checkbox"
                          style="width: 24px"
                          checked={selected.includes(t.ticket)}
                          onChange={(e) => {
                            const on = (e.currentTarget as HTMLInputElement).checked;
                            setSelected((s) => (on ? [...s, t.ticket] : s.filter((x) => x !== t.ticket)));
                            setConfirming(false);
                          }}
                        />
                        {tr("취소 선택", "Select to cancel")}
                      </label>
                    )}
                  </div>
                </>
              )}
            </li>
          );
        })}
      </ul>
      {cancellable.length > 0 && !confirming && (
        <button type="button" class="secondary" disabled={chosen.length === 0} onClick={() => setConfirming(true)}>
          {tr(`선택한 ${chosen.length}매 취소`, `Cancel ${chosen.length} selected`)}
        </button>
      )}
      {confirming && (
        <div class="notice" role="alertdialog" aria-labelledby="cancel-q" aria-describedby="cancel-d">
          <p id="cancel-q">
            <strong>{tr(`${chosen.length}매를 취소할까요?`, `Cancel ${chosen.length} ticket(s)?`)}</strong>
          </p>
          <p id="cancel-d">
            {tr(
              `티켓 금액 ${won(priceOf)} 중 지금 취소하면 취소 수수료 ${won(feeNow)}이 부과됩니다. 취소한 티켓은 되돌릴 수 없습니다.`,
              `Of the tickets' ${won(priceOf)}, cancelling now costs a fee of ${won(feeNow)}. This cannot be undone.`,
            )}
          </p>
          <div class="row">
            <button type="button" onClick={cancel} disabled={busy} data-testid="confirm-cancel">
              {tr("취소 확정", "Yes, cancel")}
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              {tr("돌아가기", "Keep them")}
            </button>
          </div>
        </div>
      )}
      {error ? (
        <p class="error" role="alert">
          {errorMessage(error)}
        </p>
      ) : null}
    </section>
  );
}
