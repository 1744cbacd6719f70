// What a seller is told while its company is not approved (the console's banner, the publish
// button): a pending or suspended company drafts shows but cannot publish them.
import { tr } from "../lib/i18n";
import type { Company } from "./session";

/** Why publishing is refused, while the company is not approved; `null` once it is. */
export function approvalNote(approval: Company["approval"] | undefined): string | null {
  if (approval === "pending") {
    return tr(
      "판매자 승인을 기다리는 중입니다. 공연 초안은 만들 수 있고, 관리자가 승인하면 공개할 수 있습니다.",
      "Your company is waiting for approval. You can draft shows; you can publish them once an admin approves the company.",
    );
  }
  if (approval === "suspended") {
    return tr(
      "판매자 자격이 정지되었습니다. 새 공연을 공개할 수 없습니다(이미 공개된 공연의 판매는 계속됩니다). 고객센터에 문의해 주세요.",
      "Your company is suspended: it cannot publish shows (shows already published stay on sale). Please contact support.",
    );
  }
  return null;
}
