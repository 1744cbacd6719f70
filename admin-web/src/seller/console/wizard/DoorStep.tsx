// Step 6: how the door treats the tickets — re-entry, named gates — and what holders may do with
// them: transfer to another member until a set time before the start, printed (static) codes.
import { tr } from "../../../lib/i18n";
import { Field, control } from "../fields";
import type { StepProps } from "./Wizard";

export function DoorStep({ draft, update, error, locked }: StepProps) {
  return (
    <fieldset disabled={locked}>
      <label class="inline">
        <input type="checkbox" checked={draft.reentry} onChange={(e) => update({ reentry: e.currentTarget.checked })} /> {tr("재입장 허용 (퇴장 스캔 후 다시 입장)", "Re-entry (an exit scan lets a ticket in again)")}
      </label>
      <Field field="door.gates" label={tr("입장 게이트 (한 줄에 하나, 비우면 게이트 구분 없음)", "Gates (one per line; empty: no named gates)")} error={error}>
        <textarea {...control(error, "door.gates")} rows={3} value={draft.gates} placeholder={tr("1번 게이트\n2번 게이트", "Gate 1\nGate 2")} onInput={(e) => update({ gates: e.currentTarget.value })} />
      </Field>
      <label class="inline">
        <input type="checkbox" checked={draft.transfers} onChange={(e) => update({ transfers: e.currentTarget.checked })} data-testid="transfers" /> {tr("티켓 양도 허용 (회원에게)", "Holders may transfer tickets to another member")}
      </label>
      {draft.transfers && (
        <Field field="door.transfer_until_minutes_before_start" label={tr("양도 마감: 공연 시작 몇 분 전", "Transfers close this many minutes before the start")} error={error}>
          <input {...control(error, "door.transfer_until_minutes_before_start")} type="number" min={0} value={draft.transferMinutesBefore} onInput={(e) => update({ transferMinutesBefore: e.currentTarget.value })} />
        </Field>
      )}
      <label class="inline">
        <input type="checkbox" checked={draft.staticTickets} onChange={(e) => update({ staticTickets: e.currentTarget.checked })} /> {tr("인쇄용(고정) 티켓 코드 발급 · 입장 허용", "Printed (static) ticket codes are issued and accepted at the door")}
      </label>
    </fieldset>
  );
}
