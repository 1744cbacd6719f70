// Step 5: the cancellation-fee schedule, pre-filled with the Korean standard for the category
// (`GET /api/v2/cancellation-fees/standard`, the ledger's `FeeSchedule::korean_standard`).
// Left as it is, the show keeps the standard; any change is the show's own schedule.
import { useEffect, useState } from "preact/hooks";
import { get } from "../../../lib/api";
import { won } from "../../../lib/format";
import { tr } from "../../../lib/i18n";
import { ErrorBox, Loading } from "../../../buyer/shop/load";
import { categoryName } from "../../../buyer/shop/taxonomy";
import type { FeeSchedule, FeeTier } from "../api-types";
import { FieldMessage, fieldId } from "../fields";
import { inputToMinuteOfDay, minuteOfDayToInput } from "../time";
import { int } from "./state";
import type { StepProps } from "./Wizard";

/** The schedule in words, as buyers will read it. */
export function FeeSummary({ fees }: { fees: FeeSchedule }) {
  return (
    <ul class="fee-summary" data-testid="fee-summary">
      {fees.free_on_booking_day && <li>{tr("예매 당일 자정까지 취소: 무료", "Cancelled on the day of booking (until midnight): free")}</li>}
      {fees.free_days_after_booking > 0 && (
        <li>{tr(`예매 후 ${fees.free_days_after_booking}일 이내 취소: 무료 (공연 ${fees.free_window_days_before_min}일 전까지)`, `Within ${fees.free_days_after_booking} days of booking: free (while the show is ${fees.free_window_days_before_min}+ days away)`)}</li>
      )}
      <li>
        {tr(
          `공연 ${fees.flat_fee_days_before_min}일 전까지: 장당 ${won(fees.flat_fee_won)} (티켓 가격의 ${fees.flat_fee_cap_percent}% 이내)`,
          `Until ${fees.flat_fee_days_before_min} days before: ${won(fees.flat_fee_won)} per ticket (at most ${fees.flat_fee_cap_percent}% of its price)`,
        )}
      </li>
      {fees.tiers.map((t) => (
        <li key={`${t.days_before_min}-${t.days_before_max}`}>
          {tr(`공연 ${t.days_before_max}~${t.days_before_min}일 전: 티켓 가격의 ${t.percent}%`, `${t.days_before_max} to ${t.days_before_min} days before: ${t.percent}% of the price`)}
        </li>
      ))}
      <li>
        {tr(
          `취소 마감: 공연 전날 ${minuteOfDayToInput(fees.deadline_minute_of_day)} (토요일 ${minuteOfDayToInput(fees.saturday_deadline_minute_of_day)})`,
          `Cancel by ${minuteOfDayToInput(fees.deadline_minute_of_day)} the day before (Saturdays ${minuteOfDayToInput(fees.saturday_deadline_minute_of_day)})`,
        )}
      </li>
    </ul>
  );
}

function NumberInput(props: { label: string; value: number; onChange: (value: number) => void; disabled: boolean; min?: number; max?: number; testid?: string }) {
  return (
    <label>
      {props.label}
      <input type="number" min={props.min ?? 0} max={props.max} value={props.value} disabled={props.disabled} data-testid={props.testid} onInput={(e) => props.onChange(int(e.currentTarget.value))} />
    </label>
  );
}

export function FeesStep({ draft, update, error, locked }: StepProps) {
  const [loadError, setLoadError] = useState<unknown>(null);
  const standard = draft.feesStandardFor === draft.category;
  // The standard for the category, unless the seller has made the schedule its own (then
  // `feesStandardFor` is null and a change of category keeps it).
  const needsStandard = draft.fees === null || (draft.feesStandardFor !== null && !standard);
  useEffect(() => {
    if (!needsStandard) return;
    let current = true;
    get<{ fees: FeeSchedule }>(`/cancellation-fees/standard?category=${encodeURIComponent(draft.category)}`)
      .then((answer) => current && update({ fees: answer.fees, feesStandardFor: draft.category }))
      .catch((e: unknown) => current && setLoadError(e));
    return () => {
      current = false;
    };
  }, [draft.category, needsStandard]);
  const fees = draft.fees;
  if (!fees) return loadError ? <ErrorBox error={loadError} /> : <Loading />;
  const set = (change: Partial<FeeSchedule>) => update({ fees: { ...fees, ...change }, feesStandardFor: null });
  const setTier = (index: number, change: Partial<FeeTier>) => set({ tiers: fees.tiers.map((t, i) => (i === index ? { ...t, ...change } : t)) });
  return (
    <fieldset disabled={locked} id={fieldId("fees")}>
      <p class="notice" data-testid="fees-origin">
        {standard
          ? tr(`${categoryName(draft.category)}의 한국 표준 취소 수수료가 채워져 있습니다. 바꾸면 이 공연만의 규정이 됩니다.`, `The Korean standard for ${categoryName(draft.category)} is filled in. Changing it makes it this show's own.`)
          : tr("이 공연만의 취소 수수료 규정입니다.", "This show's own cancellation fees.")}
      </p>
      <FeeSummary fees={fees} />
      <label class="inline">
        <input type="checkbox" checked={fees.free_on_booking_day} onChange={(e) => set({ free_on_booking_day: e.currentTarget.checked })} /> {tr("예매 당일 취소 무료", "Free on the day of booking")}
      </label>
      <div class="row">
        <NumberInput label={tr("예매 후 무료 취소 기간 (일)", "Free for this many days after booking")} value={fees.free_days_after_booking} disabled={locked} onChange={(v) => set({ free_days_after_booking: v })} />
        <NumberInput label={tr("… 공연까지 최소 남은 일수", "… while the show is at least (days) away")} value={fees.free_window_days_before_min} disabled={locked} onChange={(v) => set({ free_window_days_before_min: v })} />
      </div>
      <div class="row">
        <NumberInput label={tr("정액 수수료 (장당, 원)", "Flat fee (per ticket, won)")} value={fees.flat_fee_won} disabled={locked} onChange={(v) => set({ flat_fee_won: v })} testid="flat-fee" />
        <NumberInput label={tr("정액 수수료 적용: 공연 N일 전까지", "Flat fee until N days before")} value={fees.flat_fee_days_before_min} disabled={locked} onChange={(v) => set({ flat_fee_days_before_min: v })} />
        <NumberInput label={tr("정액 수수료 상한 (티켓 가격의 %)", "Flat fee cap (% of the price)")} value={fees.flat_fee_cap_percent} max={100} disabled={locked} onChange={(v) => set({ flat_fee_cap_percent: v })} />
      </div>
      <table class="list">
        <thead>
          <tr>
            <th>{tr("공연 N일 전부터", "From N days before")}</th>
            <th>{tr("공연 N일 전까지", "Until N days before")}</th>
            <th>{tr("수수료 (%)", "Fee (%)")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {fees.tiers.map((t, i) => (
            <tr key={i}>
              <td>
                <input type="number" min={0} aria-label={tr("N일 전부터", "From days before")} value={t.days_before_max} onInput={(e) => setTier(i, { days_before_max: int(e.currentTarget.value) })} />
              </td>
              <td>
                <input type="number" min={0} aria-label={tr("N일 전까지", "Until days before")} value={t.days_before_min} onInput={(e) => setTier(i, { days_before_min: int(e.currentTarget.value) })} />
              </td>
              <td>
                <input type="number" min={0} max={100} aria-label={tr("수수료 %", "Fee %")} value={t.percent} onInput={(e) => setTier(i, { percent: int(e.currentTarget.value) })} />
              </td>
              <td>
                <button type="button" class="secondary" onClick={() => set({ tiers: fees.tiers.filter((_, j) => j !== i) })}>
                  {tr("삭제", "Remove")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="secondary" onClick={() => set({ tiers: [...fees.tiers, { days_before_min: 0, days_before_max: 0, percent: 0 }] })}>
        {tr("+ 구간 추가", "+ Add a tier")}
      </button>
      <div class="row">
        <label>
          {tr("취소 마감 시각 (공연 전날)", "Cancel by (the day before)")}
          <input type="time" value={minuteOfDayToInput(fees.deadline_minute_of_day)} onInput={(e) => set({ deadline_minute_of_day: inputToMinuteOfDay(e.currentTarget.value) ?? fees.deadline_minute_of_day })} />
        </label>
        <label>
          {tr("토요일 마감 시각", "Saturdays by")}
          <input type="time" value={minuteOfDayToInput(fees.saturday_deadline_minute_of_day)} onInput={(e) => set({ saturday_deadline_minute_of_day: inputToMinuteOfDay(e.currentTarget.value) ?? fees.saturday_deadline_minute_of_day })} />
        </label>
      </div>
      <FieldMessage error={error} field="fees" />
      {!standard && (
        <button type="button" class="secondary" onClick={() => update({ fees: null, feesStandardFor: null })} data-testid="fees-standard">
          {tr("표준 규정으로 되돌리기", "Back to the standard")}
        </button>
      )}
    </fieldset>
  );
}
