// Step 7: everything at a glance before the draft is saved.
import { dateTime, won } from "../../../lib/format";
import { tr } from "../../../lib/i18n";
import { categoryName } from "../../../buyer/shop/taxonomy";
import { AGE_RATINGS } from "./BasicsStep";
import { FeeSummary } from "./FeesStep";
import { int } from "./state";
import { kstInputToMs } from "../time";
import type { StepProps } from "./Wizard";

export function ReviewStep({ draft }: StepProps) {
  const rating = AGE_RATINGS[draft.ageRating];
  const when = (value: string) => {
    const ms = kstInputToMs(value);
    return ms === null ? "—" : dateTime(ms);
  };
  return (
    <dl class="review" data-testid="review">
      <dt>{tr("공연명", "Title")}</dt>
      <dd>{draft.title || "—"}</dd>
      <dt>{tr("장르 · 관람 등급 · 시간", "Category · rating · length")}</dt>
      <dd>
        {categoryName(draft.category)} · {rating ? tr(rating[0], rating[1]) : draft.ageRating} · {tr(`${int(draft.runningMinutes)}분`, `${int(draft.runningMinutes)} min`)}
      </dd>
      <dt>{tr("좌석 등급", "Grades")}</dt>
      <dd>
        {draft.grades.length === 0
          ? "—"
          : draft.grades.map((g) => (
              <span key={g.code} class="chip">
                {g.code} {won(int(g.price))} ({[...g.sections, ...g.zones].join(", ")})
              </span>
            ))}
      </dd>
      <dt>{tr("회차", "Performances")}</dt>
      <dd>
        <ul>
          {draft.performances.map((p, i) => (
            <li key={i}>
              {when(p.starts)} — {tr("예매 오픈", "sale opens")} {when(p.open)}
            </li>
          ))}
        </ul>
      </dd>
      <dt>{tr("대기열", "Waiting room")}</dt>
      <dd>{tr(`초당 ${int(draft.admitPerSec)}명 입장, 동시 ${int(draft.activeMax)}명`, `${int(draft.admitPerSec)} per second, ${int(draft.activeMax)} at once`)}</dd>
      <dt>{tr("할인 · 쿠폰", "Discounts · coupons")}</dt>
      <dd>{tr(`할인 ${draft.discounts.length}개, 쿠폰 ${draft.coupons.length}개`, `${draft.discounts.length} discounts, ${draft.coupons.length} coupons`)}</dd>
      <dt>{tr("취소 수수료", "Cancellation fees")}</dt>
      <dd>{draft.fees ? <FeeSummary fees={draft.fees} /> : tr(`${categoryName(draft.category)} 한국 표준`, `The Korean standard for ${categoryName(draft.category)}`)}</dd>
      <dt>{tr("입장 · 양도", "Door · transfers")}</dt>
      <dd>
        {[
          draft.reentry ? tr("재입장 허용", "re-entry") : tr("재입장 불가", "no re-entry"),
          draft.transfers ? tr(`양도 허용 (시작 ${int(draft.transferMinutesBefore)}분 전까지)`, `transfers until ${int(draft.transferMinutesBefore)} min before`) : tr("양도 불가", "no transfers"),
          draft.staticTickets ? tr("인쇄 티켓 허용", "printed tickets") : tr("모바일 티켓만", "phone tickets only"),
        ].join(" · ")}
      </dd>
    </dl>
  );
}
