// The door's answer, large and in colour, with a symbol besides the colour (✓ ! ✕) so it reads
// without colour vision too, and what staff must check. Announced to screen readers as it changes.

import { dateTime } from "../lib/format";
import { messageFor } from "../lib/errors";
import { tr } from "../lib/i18n";
import type { Outcome, Shown } from "./controller";

export type Tone = "ok" | "warn" | "bad";

/** Green for a ticket let through, amber for "look again / wait", red for "not this ticket". */
export function toneOf(outcome: Outcome): Tone {
  switch (outcome.result) {
    case "admitted":
    case "exited":
      return "ok";
    case "proof_required":
    case "code_expired":
    case "not_yet_open":
    case "unreadable":
    case "no_manifest":
    case "retry":
      return "warn";
    default:
      return "bad";
  }
}

/** The headline for each outcome, in the page's language. */
export function headline(outcome: Outcome): string {
  switch (outcome.result) {
    case "admitted":
      return tr("입장 확인", "Admitted");
    case "exited":
      return tr("퇴장 처리", "Exit recorded");
    case "already_used":
      return tr("이미 입장한 티켓", "Already used");
    case "proof_required":
      return tr("할인 증빙 확인 필요", "Check the discount proof");
    case "wrong_performance":
      return tr("다른 공연의 티켓", "Another performance's ticket");
    case "code_expired":
      return tr("만료된 코드", "Expired code");
    case "revoked":
      return tr("취소·양도된 티켓", "Cancelled or transferred ticket");
    case "not_yet_open":
      return tr("아직 입장 시간이 아닙니다", "Doors are not open yet");
    case "forged":
      return tr("유효하지 않은 코드", "Invalid code");
    case "unreadable":
      return tr("QR 코드를 읽지 못했습니다", "No QR code found");
    case "no_manifest":
      return tr("오프라인 명단 없음", "No offline list");
    case "no_reentry":
      return tr("재입장 불가 공연", "No re-entry at this show");
    case "not_inside":
      return tr("입장 기록이 없는 티켓", "This ticket is not inside");
    case "too_many_scans":
      return tr("스캔 횟수 초과", "Too many scans for this ticket");
    case "unknown_gate":
      return tr("이 공연에 없는 게이트", "Not a gate of this performance");
    case "retry":
      return tr("다시 스캔하세요", "Scan again");
  }
}

/** What staff should do or check, under the headline. */
function guidance(outcome: Outcome, gateLabel: (gate: number) => string): string | null {
  switch (outcome.result) {
    case "already_used":
      return tr(
        `${dateTime(outcome.at_ms)} ${gateLabel(outcome.gate)}에서 입장했습니다.`,
        `Came in at ${dateTime(outcome.at_ms)} through ${gateLabel(outcome.gate)}.`,
      );
    case "proof_required":
      return tr(`${outcome.discount} — 증빙(학생증·복지카드 등)을 확인하세요.`, `${outcome.discount} — check the proof (student ID, welfare card …).`);
    case "wrong_performance":
      return tr("관객에게 공연 날짜와 시간을 확인해 주세요.", "Ask the holder to check the date and time.");
    case "code_expired":
      return tr("캡처 화면일 수 있습니다. 앱에서 새 코드를 보여 달라고 하세요.", "It may be a screenshot: ask for the live code in the app.");
    case "revoked":
      return tr("취소·환불되었거나 다른 사람·기기로 옮겨진 티켓입니다.", "Cancelled, refunded, or moved to another holder or phone.");
    case "not_yet_open":
      return tr("입장 시작 시각 이후에 다시 스캔하세요.", "Scan again once the doors open.");
    case "forged":
      return tr("Picket 티켓이 아니거나 위조된 코드입니다. 명단을 새로 받은 뒤에도 같으면 입장시키지 마세요.", "Not a Picket ticket, or tampered with. If it is still refused after refreshing the list, do not admit.");
    case "unreadable":
      return tr("화면 밝기를 올리고 코드 전체가 보이게 다시 비춰 주세요.", "Ask for a brighter screen and hold the whole code in view.");
    case "no_manifest":
      return tr("네트워크가 연결되면 명단을 받아 주세요.", "Download the list when the network is back.");
    case "no_reentry":
      return tr("이 공연은 퇴장 후 재입장이 허용되지 않습니다.", "This show allows no re-entry after an exit.");
    case "not_inside":
      return tr("입장 스캔 없이 퇴장 처리할 수 없습니다.", "An exit needs an entry first.");
    case "unknown_gate":
      return tr("게이트를 다시 선택하세요.", "Choose the gate again.");
    case "retry":
      return messageFor(outcome.code, outcome.message);
    default:
      return null;
  }
}

const SYMBOL: Record<Tone, string> = { ok: "✓", warn: "!", bad: "✕" };

export function ResultPanel(props: {
  shown: Shown | null;
  gateLabel: (gate: number) => string;
  onProofChecked: () => void;
}) {
  const shown = props.shown;
  if (!shown) {
    return (
      <section class="scan-result idle" data-testid="scan-result" data-outcome="" data-seq="0" aria-live="assertive" aria-atomic="true">
        <p class="scan-headline">{tr("티켓 QR 코드를 비춰 주세요", "Show a ticket's QR code")}</p>
      </section>
    );
  }
  const outcome = shown.outcome;
  const tone = toneOf(outcome);
  const admitted = outcome.result === "admitted" || outcome.result === "exited" ? outcome : null;
  const note = guidance(outcome, props.gateLabel);
  return (
    <section
      class={`scan-result ${tone}`}
      data-testid="scan-result"
      data-outcome={outcome.result}
      data-offline={shown.offline ? "true" : "false"}
      data-seq={String(shown.seq)}
      aria-live="assertive"
      aria-atomic="true"
    >
      <p class="scan-headline">
        <span class="scan-symbol" aria-hidden="true">
          {SYMBOL[tone]}
        </span>
        {headline(outcome)}
      </p>
      {admitted && (
        <dl class="scan-facts">
          <div>
            <dt>{tr("등급", "Grade")}</dt>
            <dd>{admitted.grade}</dd>
          </div>
          <div>
            <dt>{tr("좌석", "Seat")}</dt>
            <dd>{admitted.place}</dd>
          </div>
          <div>
            <dt>{tr("예매자", "Holder")}</dt>
            <dd>{admitted.holder}</dd>
          </div>
        </dl>
      )}
      {admitted?.proof && <p class="scan-proof">{tr(`${admitted.proof} — 증빙 확인함`, `${admitted.proof} — proof checked`)}</p>}
      {admitted?.printed && <p class="scan-proof">{tr("인쇄 티켓(고정 코드)", "Printed ticket (static code)")}</p>}
      {note && <p class="scan-note">{note}</p>}
      {outcome.result === "proof_required" && shown.code && (
        <button type="button" class="scan-confirm" onClick={props.onProofChecked}>
          {tr("증빙 확인함 — 입장", "Proof seen — admit")}
        </button>
      )}
      {shown.offline && <p class="scan-offline">{tr("오프라인 판정 · 연결되면 서버에 올립니다", "Decided offline · uploaded when back online")}</p>}
    </section>
  );
}
