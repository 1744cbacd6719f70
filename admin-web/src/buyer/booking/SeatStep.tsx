// Picking places: seats on the map (live), the best available seats of a grade, or places in a
// standing zone; one discount or one coupon; then the hold. The per-buyer limit (`admitted`'s
// `seat_limit`) is enforced as seats are picked, and the ledger enforces it again.

import { useEffect, useRef, useState } from "preact/hooks";
import { tr } from "../../lib/i18n";
import { won } from "../../lib/format";
import { newKey, type SeatMap as SeatMapState, type Selection } from "../../lib/ws";
import { seatLabel, gradeColour, type BookingContext } from "./data";
import { Legend, SeatMap } from "./SeatMap";
import { holdErrorMessage } from "./messages";

type Offer = { discount?: number; coupon?: string };

const COUPON_PATTERN = /^[A-Za-z0-9-]{4,32}$/;

export function SeatStep(props: {
  context: BookingContext;
  map: SeatMapState | null;
  limit: number;
  onHold: (selection: Selection, offer: Offer, key: string) => Promise<void>;
}) {
  const { context, map, limit } = props;
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [offerChoice, setOfferChoice] = useState<string>("none");
  const [coupon, setCoupon] = useState("");
  const [bestGrade, setBestGrade] = useState(0);
  const [bestCount, setBestCount] = useState(Math.min(2, limit));
  // One key per attempt: a retry of the same attempt after a lost answer reuses it.
  const attempt = useRef<{ selection: string; key: string } | null>(null);

  // Live: a seat this buyer picked that someone else just took is dropped, with a message.
  useEffect(() => {
    // While this buyer's own hold is in flight its seats leave the map too: not someone else's.
    if (!map || busy) return;
    const lost = [...selected].filter((seat) => map.onSale[seat] !== 1);
    if (lost.length === 0) return;
    setSelected(new Set([...selected].filter((seat) => map.onSale[seat] === 1)));
    setMessage(
      tr(
        `선택한 좌석 ${lost.map((s) => seatLabel(context.seats[s])).join(", ")}이(가) 방금 판매되었습니다.`,
        `${lost.map((s) => seatLabel(context.seats[s])).join(", ")} was just taken by someone else.`,
      ),
    );
  }, [map]);

  const toggle = (seat: number) => {
    setError(null);
    const next = new Set(selected);
    if (next.has(seat)) {
      next.delete(seat);
    } else {
      if (next.size >= limit) {
        setMessage(tr(`1인당 최대 ${limit}매까지 선택할 수 있습니다.`, `You can pick at most ${limit} seats.`));
        return;
      }
      next.add(seat);
    }
    setMessage(null);
    setSelected(next);
  };

  const offer = (): Offer | null => {
    if (offerChoice === "none") return {};
    if (offerChoice === "coupon") {
      if (!COUPON_PATTERN.test(coupon.trim())) {
        setError(tr("쿠폰 코드는 영문, 숫자, '-' 4~32자입니다.", "A coupon code is 4–32 letters, digits or '-'."));
        return null;
      }
      return { coupon: coupon.trim().toUpperCase() };
    }
    return { discount: Number(offerChoice) };
  };

  const hold = async (selection: Selection) => {
    const chosen = offer();
    if (!chosen) return;
    const fingerprint = JSON.stringify([selection, chosen]);
    if (attempt.current?.selection !== fingerprint) attempt.current = { selection: fingerprint, key: newKey("hold") };
    setBusy(true);
    setError(null);
    try {
      await props.onHold(selection, chosen, attempt.current.key);
    } catch (e) {
      // A refused hold changed nothing: the next try is a new attempt.
      attempt.current = null;
      setError(holdErrorMessage(e, limit));
    } finally {
      setBusy(false);
    }
  };

  const seatList = [...selected].sort((a, b) => a - b);
  const selectedTotal = seatList.reduce((sum, seat) => sum + (context.show.grades[context.seats[seat].grade]?.price_won ?? 0), 0);
  const counts = Array.from({ length: limit }, (_, i) => i + 1);

  return (
    <section class="seat-step" aria-labelledby="seat-title">
      <h1 id="seat-title">{tr("좌석 선택", "Choose seats")}</h1>
      {map?.cancelled && <p class="error" role="alert">{tr("이 공연은 취소되었습니다.", "This performance was called off.")}</p>}
      <Legend context={context} map={map} />
      {context.seats.length > 0 && (
        <div class="seat-map-wrap">
          {map ? (
            <SeatMap context={context} map={map} selected={selected} onToggle={toggle} disabled={busy} />
          ) : (
            <p aria-busy="true">{tr("좌석 현황을 불러오는 중…", "Loading the seat map…")}</p>
          )}
        </div>
      )}
      <p class="muted">{tr(`1인당 최대 ${limit}매`, `At most ${limit} per buyer`)}</p>
      <div class="live-msg" aria-live="polite" data-testid="seat-message">
        {message && <p class="notice">{message}</p>}
      </div>

      <fieldset class="offer">
        <legend>{tr("할인 / 쿠폰", "Discount or coupon")}</legend>
        <label for="offer-choice">{tr("적용할 혜택 (하나만 선택)", "Offer (one at most)")}</label>
        <select id="offer-choice" value={offerChoice} onChange={(e) => setOfferChoice((e.target as HTMLSelectElement).value)}>
          <option value="none">{tr("할인 없음", "No discount")}</option>
          {context.show.discounts.map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.label} ({d.percent != null ? `${d.percent}%` : won(d.amount_won ?? 0)}
              {d.proof_at_entry ? tr(", 입장 시 증빙 확인", ", proof checked at entry") : ""})
            </option>
          ))}
          <option value="coupon">{tr("쿠폰 코드 입력", "Enter a coupon code")}</option>
        </select>
        {offerChoice === "coupon" && (
          <>
            <label for="coupon">{tr("쿠폰 코드", "Coupon code")}</label>
            <input id="coupon" value={coupon} autocomplete="off" onInput={(e) => setCoupon((e.target as HTMLInputElement).value)} />
          </>
        )}
      </fieldset>

      <div class="selection" data-testid="selection">
        <h2>{tr(`선택한 좌석 ${seatList.length}매`, `${seatList.length} selected`)}</h2>
        <ul>
          {seatList.map((seat) => (
            <li key={seat}>
              {seatLabel(context.seats[seat])} · {context.show.grades[context.seats[seat].grade]?.code}
              <button type="button" class="secondary small" onClick={() => toggle(seat)} aria-label={tr(`${seatLabel(context.seats[seat])} 선택 취소`, `Remove ${seatLabel(context.seats[seat])}`)}>
                ×
              </button>
            </li>
          ))}
        </ul>
        {seatList.length > 0 && (
          <p>
            {tr("정가 합계", "List price")} <strong>{won(selectedTotal)}</strong>{" "}
            <span class="muted">{tr("(결제 금액은 다음 단계에서 확정)", "(the amount to pay is set on the next step)")}</span>
          </p>
        )}
        <button type="button" data-testid="hold-seats" disabled={busy || seatList.length === 0} onClick={() => hold({ Seats: seatList })}>
          {tr(`선택 완료 (${seatList.length}매)`, `Continue with ${seatList.length}`)}
        </button>
      </div>

      <fieldset class="best">
        <legend>{tr("자동 배정 (가장 좋은 자리)", "Best available")}</legend>
        <div class="row">
          <label>
            {tr("등급", "Grade")}
            <select value={String(bestGrade)} onChange={(e) => setBestGrade(Number((e.target as HTMLSelectElement).value))}>
              {context.show.grades.map((g, i) => (
                <option key={g.code} value={String(i)}>
                  {g.code} {won(g.price_won)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {tr("매수", "Tickets")}
            <select value={String(bestCount)} onChange={(e) => setBestCount(Number((e.target as HTMLSelectElement).value))}>
              {counts.map((n) => (
                <option key={n} value={String(n)}>{n}</option>
              ))}
            </select>
          </label>
        </div>
        <button type="button" class="secondary" disabled={busy} data-testid="best-available" onClick={() => hold({ BestAvailable: { grade: bestGrade, count: bestCount } })}>
          {tr("자동 배정 받기", "Get the best seats")}
        </button>
      </fieldset>

      {context.zones.length > 0 && (
        <fieldset class="zones">
          <legend>{tr("스탠딩 구역", "Standing zones")}</legend>
          {context.zones.map((zone) => (
            <ZoneRow key={zone.id} zone={zone} free={map?.zoneFree[zone.id] ?? null} context={context} counts={counts} busy={busy} onHold={(n) => hold({ Zone: { zone: zone.id, count: n } })} />
          ))}
        </fieldset>
      )}

      {error && (
        <p class="error" role="alert" data-testid="hold-error">
          {error}
        </p>
      )}
    </section>
  );
}

function ZoneRow(props: {
  zone: BookingContext["zones"][number];
  free: number | null;
  context: BookingContext;
  counts: number[];
  busy: boolean;
  onHold: (count: number) => void;
}) {
  const [n, setN] = useState(1);
  const grade = props.context.show.grades[props.zone.grade];
  const id = `zone-${props.zone.id}`;
  return (
    <div class="zone-row">
      <span class="swatch" style={{ background: gradeColour(props.zone.grade) }} aria-hidden="true" />
      <span>
        <strong>{props.zone.name}</strong> · {grade?.code} {grade ? won(grade.price_won) : ""} ·{" "}
        <span class="q-num-inline">{props.free == null ? "—" : tr(`잔여 ${props.free}`, `${props.free} left`)}</span>
      </span>
      <label for={id} class="visually-hidden">{tr(`${props.zone.name} 매수`, `${props.zone.name} tickets`)}</label>
      <select id={id} value={String(n)} onChange={(e) => setN(Number((e.target as HTMLSelectElement).value))}>
        {props.counts.map((c) => (
          <option key={c} value={String(c)}>{c}</option>
        ))}
      </select>
      <button type="button" class="secondary" disabled={props.busy || props.free === 0} onClick={() => props.onHold(n)}>
        {tr("선택", "Pick")}
      </button>
    </div>
  );
}
