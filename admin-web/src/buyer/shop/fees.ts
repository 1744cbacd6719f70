// A cancellation-fee schedule (the ledger's `FeeSchedule`, picket_ledger_core::fees) in words,
// one rule a line, in the order the ledger applies them.
import { tr } from "../../lib/i18n";
import { won } from "../../lib/format";
import type { FeeSchedule } from "./api-types";

function clock(minuteOfDay: number): string {
  const h = Math.floor(minuteOfDay / 60);
  const m = minuteOfDay % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

export function feeRules(fees: FeeSchedule, bookingFeeWon: number): string[] {
  const rules: string[] = [];
  if (fees.free_on_booking_day) {
    rules.push(tr("예매 당일 자정까지는 취소 수수료가 없습니다.", "Free on the day of booking, until midnight."));
  }
  if (fees.free_days_after_booking > 0) {
    rules.push(
      tr(
        `예매 후 ${fees.free_days_after_booking}일 이내 취소는 무료입니다 (공연 ${fees.free_window_days_before_min}일 전까지).`,
        `Free within ${fees.free_days_after_booking} days of booking while the show is ${fees.free_window_days_before_min} or more days away.`,
      ),
    );
  }
  if (fees.flat_fee_won > 0) {
    rules.push(
      tr(
        `그 밖에 공연 ${fees.flat_fee_days_before_min}일 전까지: 티켓당 ${won(fees.flat_fee_won)} (티켓 금액의 ${fees.flat_fee_cap_percent}% 이내)`,
        `Otherwise, ${fees.flat_fee_days_before_min} or more days before the show: ${won(fees.flat_fee_won)} per ticket (at most ${fees.flat_fee_cap_percent} % of its price).`,
      ),
    );
  }
  for (const tier of [...fees.tiers].sort((a, b) => b.days_before_max - a.days_before_max)) {
    const span = tier.days_before_min === tier.days_before_max ? `${tier.days_before_min}` : `${tier.days_before_max}~${tier.days_before_min}`;
    const spanEn = tier.days_before_min === tier.days_before_max ? `${tier.days_before_min}` : `${tier.days_before_max}–${tier.days_before_min}`;
    rules.push(tr(`공연 ${span}일 전: 티켓 금액의 ${tier.percent}%`, `${spanEn} days before the show: ${tier.percent} % of the ticket price.`));
  }
  rules.push(
    tr(
      `온라인 취소는 공연 전날 ${clock(fees.deadline_minute_of_day)}까지입니다 (전날이 토요일이면 ${clock(fees.saturday_deadline_minute_of_day)}).`,
      `Online cancellation closes at ${clock(fees.deadline_minute_of_day)} KST the day before the show (${clock(fees.saturday_deadline_minute_of_day)} when that day is a Saturday).`,
    ),
  );
  rules.push(tr("공연 당일 예매한 티켓은 취소할 수 없습니다.", "Tickets bought on the day of the show cannot be cancelled."));
  if (bookingFeeWon > 0) {
    rules.push(
      tr(
        `예매수수료(티켓당 ${won(bookingFeeWon)})는 예매 당일 취소하거나 공연이 취소된 경우에만 돌려드립니다.`,
        `The booking fee (${won(bookingFeeWon)} per ticket) is refunded only when cancelling on the day of booking or when the performance is called off.`,
      ),
    );
  }
  return rules;
}
