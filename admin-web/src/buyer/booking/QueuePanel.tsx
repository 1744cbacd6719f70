// The waiting room: status, place, people ahead and the wait, pushed over the WebSocket about
// every second. Every number sits in a box of fixed width with tabular digits, so nothing moves
// as they change, and the region is `aria-live="polite"`: a screen reader hears the change
// without being interrupted each second (the status line is what it announces; the numbers are
// read when the buyer moves to them).

import type { QueueMessage, SaleView } from "../../lib/ws";
import { count, dateTime, duration } from "../../lib/format";
import { tr } from "../../lib/i18n";
import { useEffect, useState } from "preact/hooks";

function statusText(queue: QueueMessage | null, now: number): string {
  if (!queue) return tr("대기열에 들어가는 중…", "Joining the queue…");
  switch (queue.status) {
    case "pre_queue":
      return tr(`예매 오픈 ${duration(queue.open_at_ms - now)} 전 — 사전 대기 중`, `Opens in ${duration(queue.open_at_ms - now)} — you are in the pre-queue`);
    case "drawing":
      return tr("오픈! 사전 대기 순서를 추첨하고 있습니다", "Open! Drawing the pre-queue's order");
    case "open":
      return tr("순서를 기다리고 있습니다", "Waiting for your turn");
    case "paused":
      return tr("운영자가 대기열을 잠시 멈췄습니다. 순서는 그대로 유지됩니다", "The queue is paused by the operator; your place is kept");
    case "sold_out":
      return tr("매진되었습니다. 취소표가 나오면 다시 열립니다", "Sold out. It opens again if places come back");
    case "unavailable":
      return tr("대기열 서버에 연결하는 중입니다. 순서는 유지됩니다", "Reconnecting to the queue store; your place is kept");
  }
}

/** A number in a fixed-width box: "—" until known. */
function Figure(props: { label: string; value: string | null; testid: string }) {
  return (
    <div class="q-figure">
      <dt>{props.label}</dt>
      <dd class="q-num" data-testid={props.testid}>
        {props.value ?? "—"}
      </dd>
    </div>
  );
}

export function QueuePanel(props: { view: SaleView; connection: string; sale: string }) {
  const { queue } = props.view;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const place = queue?.place != null ? count(queue.place) : null;
  const ahead = queue?.ahead != null ? count(queue.ahead) : null;
  const eta = queue?.eta_s != null ? duration(queue.eta_s * 1000) : null;
  return (
    <section class="queue" aria-labelledby="queue-title">
      <h1 id="queue-title">{tr("예매 대기열", "Queue")}</h1>
      <p class="q-status" aria-live="polite" data-testid="queue-status" data-status={queue?.status ?? "joining"}>
        {statusText(queue, now)}
      </p>
      <dl class="q-figures">
        <Figure label={tr("내 순서", "My place")} value={place} testid="queue-place" />
        <Figure label={tr("앞 사람", "Ahead of me")} value={ahead} testid="queue-ahead" />
        <Figure label={tr("예상 대기", "Estimated wait")} value={eta} testid="queue-eta" />
        <Figure label={tr("사전 대기 인원", "In the pre-queue")} value={queue ? count(queue.prequeue) : null} testid="queue-prequeue" />
      </dl>
      {props.connection !== "open" && (
        <p class="notice" role="status">
          {tr("연결이 끊겨 다시 연결하는 중입니다. 순서는 유지됩니다.", "Connection lost; reconnecting. Your place is kept.")}
        </p>
      )}
      <p class="muted">{tr("이 화면을 닫지 마세요. 차례가 되면 좌석 선택으로 넘어갑니다.", "Keep this page open: it moves on to the seat map when it is your turn.")}</p>
      {queue && (
        <details class="q-draw">
          <summary>{tr("사전 대기 추첨 검증 정보", "Verify the pre-queue draw")}</summary>
          <dl>
            <dt>{tr("오픈 시각", "Opens at")}</dt>
            <dd>{dateTime(queue.open_at_ms)}</dd>
            <dt>{tr("시드 해시 (오픈 전 공개)", "Seed hash (published before the open)")}</dt>
            <dd class="mono" data-testid="queue-seed-hash">{queue.seed_hash}</dd>
            <dt>{tr("시드 (추첨 후 공개)", "Seed (revealed once drawn)")}</dt>
            <dd class="mono" data-testid="queue-seed">{queue.seed ?? tr("추첨 전", "not drawn yet")}</dd>
            {queue.draw_entry && (
              <>
                <dt>{tr("내 추첨 항목", "My draw entry")}</dt>
                <dd class="mono">{queue.draw_entry}</dd>
              </>
            )}
          </dl>
          <p class="muted">
            {tr(
              "SHA-256(시드)가 시드 해시와 같은지, 추첨 목록에서 내 항목의 위치가 내 순서인지 확인할 수 있습니다.",
              "Check that SHA-256(seed) is the seed hash, and that your entry's position in the draw list is your place.",
            )}{" "}
            {queue.seed && (
              <a href={`/api/v2/sales/${props.sale}/draw`} target="_blank" rel="noopener">
                {tr("추첨 목록", "The draw list")}
              </a>
            )}
          </p>
        </details>
      )}
    </section>
  );
}
