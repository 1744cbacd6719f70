// Step 3: the performances (start, sale open and close, in KST) and how every performance's sale
// runs: the waiting room's admission rate and active maximum, and the cancellation waitlist.
import { tr } from "../../../lib/i18n";
import { Field, FieldMessage, control } from "../fields";
import { kstInputToMs, msToKstInput } from "../time";
import type { PerformanceDraft } from "./state";
import type { StepProps } from "./Wizard";

const DAY_MS = 24 * 3_600_000;

/** The next performance: a day after the last, same sale times shifted likewise. */
function following(last: PerformanceDraft | undefined): PerformanceDraft {
  if (!last) return { starts: "", open: "", close: "" };
  const shift = (value: string) => {
    const ms = kstInputToMs(value);
    return ms === null ? "" : msToKstInput(ms + DAY_MS);
  };
  return { starts: shift(last.starts), open: last.open, close: last.close ? shift(last.close) : "" };
}

export function ScheduleStep({ draft, update, error, locked }: StepProps) {
  const performances = draft.performances;
  const set = (index: number, change: Partial<PerformanceDraft>) => update({ performances: performances.map((p, i) => (i === index ? { ...p, ...change } : p)) });
  return (
    <>
      <fieldset>
        <legend>{tr("회차 (한국 시간)", "Performances (Korea time)")}</legend>
        <FieldMessage error={error} field="performances" />
        {performances.map((p, i) => {
          const field = (name: string) => `performances[${i}].${name}`;
          const saved = !!p.id;
          return (
            <div class="card performance" key={i} data-testid={`performance-${i}`}>
              <div class="row">
                <Field field={field("starts_at_ms")} label={tr(`${i + 1}회차 공연 시작`, `Performance ${i + 1} starts`)} error={error}>
                  <input {...control(error, field("starts_at_ms"))} type="datetime-local" value={p.starts} disabled={saved} onInput={(e) => set(i, { starts: e.currentTarget.value })} />
                </Field>
                <Field field={field("sale_open_at_ms")} label={tr("예매 오픈", "Sale opens")} error={error}>
                  <input {...control(error, field("sale_open_at_ms"))} type="datetime-local" value={p.open} disabled={saved} onInput={(e) => set(i, { open: e.currentTarget.value })} />
                </Field>
                <Field field={field("sale_close_at_ms")} label={tr("예매 마감 (비우면 공연 시작)", "Sale closes (empty: at the start)")} error={error}>
                  <input {...control(error, field("sale_close_at_ms"))} type="datetime-local" value={p.close} disabled={saved} onInput={(e) => set(i, { close: e.currentTarget.value })} />
                </Field>
              </div>
              {saved ? (
                <p class="muted">{tr("저장됨", "Saved")}</p>
              ) : (
                performances.length > 1 && (
                  <button type="button" class="secondary" onClick={() => update({ performances: performances.filter((_, j) => j !== i) })}>
                    {tr("이 회차 삭제", "Remove this performance")}
                  </button>
                )
              )}
            </div>
          );
        })}
        <button type="button" class="secondary" onClick={() => update({ performances: [...performances, following(performances[performances.length - 1])] })} data-testid="add-performance">
          {tr("+ 회차 추가", "+ Add a performance")}
        </button>
      </fieldset>
      <fieldset disabled={locked}>
        <legend>{tr("대기열", "Waiting room")}</legend>
        <p class="muted">{tr("예매가 열리면 대기열에서 초당 입장 인원만큼 들여보내고, 동시에 예매 중인 사람은 최대 인원을 넘지 않습니다.", "When the sale opens, the waiting room lets this many buyers in per second, and never more than the maximum booking at once.")}</p>
        <div class="row" id="f-queue">
          <Field field="queue.admit_per_sec" label={tr("초당 입장 인원", "Admitted per second")} error={error}>
            <input {...control(error, "queue.admit_per_sec")} type="number" min={1} value={draft.admitPerSec} onInput={(e) => update({ admitPerSec: e.currentTarget.value })} />
          </Field>
          <Field field="queue.active_max" label={tr("동시 예매 최대 인원", "Most booking at once")} error={error}>
            <input {...control(error, "queue.active_max")} type="number" min={1} value={draft.activeMax} onInput={(e) => update({ activeMax: e.currentTarget.value })} />
          </Field>
        </div>
        <FieldMessage error={error} field="queue" />
      </fieldset>
      <fieldset disabled={locked}>
        <legend>{tr("취소표 대기", "Cancellation waitlist")}</legend>
        <label class="inline">
          <input type="checkbox" checked={draft.waitlistEnabled} onChange={(e) => update({ waitlistEnabled: e.currentTarget.checked })} /> {tr("매진 후 취소표 대기를 받습니다", "Buyers may join a waitlist when sold out")}
        </label>
        {draft.waitlistEnabled && (
          <>
            <Field field="waitlist.claim_window_minutes" label={tr("대기자 결제 시간 (분)", "Minutes a waiting buyer has to pay")} error={error}>
              <input {...control(error, "waitlist.claim_window_minutes")} type="number" min={1} value={draft.claimWindowMinutes} onInput={(e) => update({ claimWindowMinutes: e.currentTarget.value })} />
            </Field>
            <label class="inline">
              <input type="checkbox" checked={draft.freedToSale} onChange={(e) => update({ freedToSale: e.currentTarget.checked })} /> {tr("대기자가 있어도 취소된 좌석을 바로 판매합니다", "Freed places go back on sale even while buyers wait")}
            </label>
          </>
        )}
      </fieldset>
    </>
  );
}
