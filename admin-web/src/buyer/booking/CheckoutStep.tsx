// Checkout: the hold's exact breakdown as the server states it (`checkout`: never an amount
// computed here), the cancellation rule, a guest's name and phone, then the provider's payment
// page with the order id, name and amount passed through unchanged.

import { useEffect, useState } from "preact/hooks";
import { put } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { dateTime, won } from "../../lib/format";
import { newKey, socket, type CheckoutMessage } from "../../lib/ws";
import { placeLabel, savePending, type BookingContext, type SavedHold } from "./data";

/** The API's phone rule (`PUT /guest/contact`): 9 to 20 digits with '-', '+' or spaces between. */
const PHONE_PATTERN = /^(?:[-+ ]*[0-9]){9,20}[-+ ]*$/;
const GUEST_KEY = "picket.guest.contact";

export function CheckoutStep(props: {
  context: BookingContext;
  hold: SavedHold;
  admissionToken: string;
  guest: boolean;
  onReleased: () => void;
}) {
  const { context, hold } = props;
  const sale = context.performance.sale;
  const [checkout, setCheckout] = useState<CheckoutMessage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const saved = loadGuestContact();
  const [name, setName] = useState(saved.name);
  const [phone, setPhone] = useState(saved.phone);
  const [fieldError, setFieldError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    socket()
      .checkout(sale, hold.hold)
      .then(
        (answer) => live && setCheckout(answer),
        (e) => {
          if (!live) return;
          // The hold is gone (expired, released, paid): pick seats again.
          if (e.code === "hold_expired" || e.code === "unknown_hold") props.onReleased();
          else setError(e);
        },
      );
    return () => {
      live = false;
    };
  }, [hold.hold]);

  const release = async () => {
    setBusy(true);
    try {
      await socket().release(sale, hold.hold, newKey("release"));
      props.onReleased();
    } catch (e) {
      if ((e as { code?: string }).code === "unknown_hold" || (e as { code?: string }).code === "hold_expired") props.onReleased();
      else setError(e);
    } finally {
      setBusy(false);
    }
  };

  const pay = async () => {
    if (!checkout || !props.admissionToken) return;
    setError(null);
    if (props.guest) {
      if (name.trim().length === 0) return setFieldError(tr("이름을 입력해 주세요.", "Please enter your name."));
      if (!PHONE_PATTERN.test(phone)) return setFieldError(tr("전화번호를 확인해 주세요 (숫자 9~20자리).", "Check the phone number (9 to 20 digits)."));
      setFieldError(null);
    }
    setBusy(true);
    try {
      if (props.guest) {
        // Filed with the guest's next booking: the booking is found later by its number and this phone.
        await put("/guest/contact", { name: name.trim(), phone: phone.trim() });
        saveGuestContact(name.trim(), phone.trim());
      }
      savePending({
        performance: context.performance.id,
        sale,
        hold: hold.hold,
        order_id: checkout.order_id,
        admission: props.admissionToken,
        title: context.show.title,
        expires_at_ms: checkout.expires_at_ms,
      });
      const back = `${location.origin}/booking/return?performance=${encodeURIComponent(context.performance.id)}`;
      const url = new URL(checkout.provider.checkout_url);
      url.searchParams.set("clientKey", checkout.provider.client_key);
      url.searchParams.set("orderId", checkout.order_id);
      url.searchParams.set("orderName", checkout.order_name);
      url.searchParams.set("amount", String(checkout.amount_won));
      url.searchParams.set("successUrl", back);
      url.searchParams.set("failUrl", `${back}&failed=1`);
      location.assign(url.toString());
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  if (error && !checkout) {
    return (
      <section>
        <h1>{tr("결제 정보", "Checkout")}</h1>
        <p class="error" role="alert">{errorMessage(error)}</p>
        <button type="button" class="secondary" onClick={release} disabled={busy}>
          {tr("좌석 다시 선택", "Choose seats again")}
        </button>
      </section>
    );
  }
  if (!checkout) return <p aria-busy="true">{tr("결제 금액을 확인하는 중…", "Getting the amount…")}</p>;
  const b = checkout.breakdown;
  return (
    <section class="checkout" aria-labelledby="checkout-title">
      <h1 id="checkout-title">{tr("결제 정보 확인", "Checkout")}</h1>
      <table class="breakdown" data-testid="breakdown">
        <caption class="visually-hidden">{tr("결제 내역", "What you pay")}</caption>
        <thead>
          <tr>
            <th scope="col">{tr("좌석", "Place")}</th>
            <th scope="col">{tr("등급", "Grade")}</th>
            <th scope="col" class="num">{tr("정가", "List")}</th>
            <th scope="col" class="num">{tr("가격", "Price")}</th>
          </tr>
        </thead>
        <tbody>
          {b.places.map((p, i) => (
            <tr key={i}>
              <td>{placeLabel(p.place, context)}</td>
              <td>{p.grade_code}</td>
              <td class="num">{won(p.list_won)}</td>
              <td class="num">{won(p.price_won)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          {b.discount_won > 0 && (
            <tr>
              <th scope="row" colSpan={3}>{tr("할인", "Discount")}{b.coupon ? ` (${b.coupon})` : ""}</th>
              <td class="num">−{won(b.discount_won)}</td>
            </tr>
          )}
          <tr>
            <th scope="row" colSpan={3}>{tr("예매 수수료", "Booking fee")}</th>
            <td class="num">{won(b.booking_fee_won)}</td>
          </tr>
          <tr class="total">
            <th scope="row" colSpan={3}>{tr("총 결제 금액", "Total")}</th>
            <td class="num" data-testid="checkout-total">{won(checkout.amount_won)}</td>
          </tr>
        </tfoot>
      </table>
      <p class="muted">
        {tr(`좌석은 ${dateTime(checkout.expires_at_ms)}까지 선점됩니다.`, `Seats are held until ${dateTime(checkout.expires_at_ms)}.`)}
      </p>
      <details class="cancel-rule">
        <summary>{tr("취소 규정", "Cancellation rule")}</summary>
        <CancellationRule checkout={checkout} />
      </details>

      {props.guest && (
        <fieldset class="guest">
          <legend>{tr("비회원 예매자 정보", "Guest details")}</legend>
          <p class="muted">{tr("예매번호와 이 전화번호로 예매를 조회할 수 있습니다.", "You look the booking up with its number and this phone.")}</p>
          <label for="guest-name">{tr("이름", "Name")}</label>
          <input id="guest-name" autocomplete="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
          <label for="guest-phone">{tr("휴대폰 번호", "Mobile phone")}</label>
          <input id="guest-phone" type="tel" autocomplete="tel" inputMode="tel" placeholder="010-1234-5678" value={phone} onInput={(e) => setPhone((e.target as HTMLInputElement).value)} required />
          {fieldError && <p class="error" role="alert">{fieldError}</p>}
        </fieldset>
      )}

      {error != null && <p class="error" role="alert">{errorMessage(error)}</p>}
      <div class="actions">
        <button type="button" data-testid="pay" disabled={busy || !props.admissionToken} onClick={pay}>
          {tr(`${won(checkout.amount_won)} 결제하기`, `Pay ${won(checkout.amount_won)}`)}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={release}>
          {tr("좌석 다시 선택", "Choose seats again")}
        </button>
      </div>
    </section>
  );
}

function CancellationRule(props: { checkout: CheckoutMessage }) {
  const { deadline_ms, fees } = props.checkout.cancellation;
  return (
    <ul>
      <li>{tr(`온라인 취소 마감: ${dateTime(deadline_ms)}`, `Online cancellation closes ${dateTime(deadline_ms)}`)}</li>
      {fees.free_on_booking_day && <li>{tr("예매 당일 취소는 수수료가 없습니다.", "Free on the day of booking.")}</li>}
      {fees.free_days_after_booking > 0 && (
        <li>
          {tr(
            `예매 후 ${fees.free_days_after_booking}일 이내 무료 (공연 ${fees.free_window_days_before_min}일 전까지)`,
            `Free within ${fees.free_days_after_booking} days of booking (until ${fees.free_window_days_before_min} days before)`,
          )}
        </li>
      )}
      {fees.flat_fee_won > 0 && (
        <li>
          {tr(
            `공연 ${fees.flat_fee_days_before_min}일 전까지 ${won(fees.flat_fee_won)} (티켓 금액의 ${fees.flat_fee_cap_percent}% 이내)`,
            `${won(fees.flat_fee_won)} until ${fees.flat_fee_days_before_min} days before (at most ${fees.flat_fee_cap_percent}% of the price)`,
          )}
        </li>
      )}
      {fees.tiers.map((t) => (
        <li key={t.days_before_min}>
          {tr(`공연 ${t.days_before_max}~${t.days_before_min}일 전: ${t.percent}%`, `${t.days_before_max}–${t.days_before_min} days before: ${t.percent}%`)}
        </li>
      ))}
      <li>{tr("예매 수수료는 예매 당일 취소 또는 공연 취소 시에만 환불됩니다.", "The booking fee is refunded only on the day of booking or when the performance is called off.")}</li>
    </ul>
  );
}

function loadGuestContact(): { name: string; phone: string } {
  try {
    const raw = localStorage.getItem(GUEST_KEY);
    if (raw) return JSON.parse(raw) as { name: string; phone: string };
  } catch {
    // Nothing kept.
  }
  return { name: "", phone: "" };
}

function saveGuestContact(name: string, phone: string): void {
  try {
    localStorage.setItem(GUEST_KEY, JSON.stringify({ name, phone }));
  } catch {
    // Typed again next time.
  }
}
