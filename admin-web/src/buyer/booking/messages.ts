// Messages for the booking pages' errors that say more than the code: how many, which limit.

import { errorMessage } from "../../lib/errors";
import { tr } from "../../lib/i18n";
import { WsError, rejectionFields } from "../../lib/ws";

/** The message for a failed hold, with what the rejection says (how many, which limit). */
export function holdErrorMessage(error: unknown, limit: number): string {
  if (error instanceof WsError) {
    const fields = rejectionFields(error.rejection);
    switch (error.code) {
      case "over_seat_limit":
        return tr(`1인당 최대 ${limit}매까지 예매할 수 있습니다.`, `At most ${limit} tickets per buyer.`);
      case "over_buyer_limit":
        return tr(
          `1인당 최대 ${fields.limit ?? limit}매까지 예매할 수 있습니다. 이미 ${fields.already ?? 0}매를 예매했거나 선점 중입니다.`,
          `At most ${fields.limit ?? limit} tickets per buyer; you already hold or own ${fields.already ?? 0}.`,
        );
      case "not_enough_available":
        return tr(`남은 좌석이 ${fields.available ?? 0}석뿐입니다.`, `Only ${fields.available ?? 0} places are left.`);
      case "seat_taken":
        return tr("방금 다른 분이 선택한 좌석이 있습니다. 다른 좌석을 골라 주세요.", "Someone just took one of these seats. Please pick another.");
    }
  }
  return errorMessage(error);
}
