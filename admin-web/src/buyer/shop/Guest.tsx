// `/guest`: a guest's booking by its number and the phone it was booked with
// (`GET /api/v2/guest-bookings`; lookups are rate-limited, a wrong number and a wrong phone get
// the same answer). Its tickets open as QR tickets on the device the guest booked with.
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, loadCredential } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { dateTime, won } from "../../lib/format";
import type { Booking } from "./api-types";

export function GuestLookup() {
  const { query } = useLocation();
  const [booking, setBooking] = useState<Booking | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const params = new URLSearchParams({ number: String(data.get("number")).trim(), phone: String(data.get("phone")).trim() });
    setBusy(true);
    try {
      setBooking(await get<Booking>(`/guest-bookings?${params}`, { token: null }));
      setError(null);
    } catch (e) {
      setBooking(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const onThisDevice = loadCredential()?.kind === "guest";
  return (
    <section class="stack">
      <h1>{tr("비회원 예매 조회", "Guest booking lookup")}</h1>
      <form onSubmit={submit}>
        <label for="g-number">{tr("예매번호", "Booking number")}</label>
        <input id="g-number" name="number" required autoComplete="off" defaultValue={query.number ?? ""} style="text-transform: uppercase" />
        <label for="g-phone">{tr("예매할 때 입력한 휴대폰 번호", "Mobile number used to book")}</label>
        <input id="g-phone" name="phone" type="tel" required autoComplete="tel" placeholder="010-1234-5678" />
        {error ? (
          <p class="error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <p>
          <button type="submit" disabled={busy}>
            {tr("조회", "Look up")}
          </button>
        </p>
      </form>
      {booking && (
        <article class="perf" data-testid="guest-booking" aria-live="polite">
          <h2>{tr(`예매번호 ${booking.number}`, `Booking ${booking.number}`)}</h2>
          <dl class="facts">
            {booking.starts_at_ms !== null && (
              <>
                <dt>{tr("공연 일시", "Performance")}</dt>
                <dd>{dateTime(booking.starts_at_ms)}</dd>
              </>
            )}
            <dt>{tr("결제 금액", "Paid")}</dt>
            <dd>{won(booking.paid_won)}</dd>
            <dt>{tr("예매일", "Booked")}</dt>
            <dd>{dateTime(booking.booked_at_ms)}</dd>
          </dl>
          <ul>
            {booking.tickets.map((t) => (
              <li key={t.ticket} data-testid="guest-ticket">
                {t.place} · {won(t.price_won)} {t.cancelled ? tr("(취소됨)", "(cancelled)") : ""}
                {!t.cancelled && onThisDevice && (
                  <>
                    {" "}
                    <a href={`/tickets/${t.ticket}`}>{tr("모바일 티켓", "Mobile ticket")}</a>
                  </>
                )}
              </li>
            ))}
          </ul>
          {!onThisDevice && <p class="muted">{tr("모바일 티켓은 예매한 기기에서 열 수 있습니다.", "The mobile tickets open on the device you booked with.")}</p>}
        </article>
      )}
    </section>
  );
}
