// `/admin/operations`: error and rejection rates, the refund worker's backlog and the last payment
// reconciliation, as `GET /api/v2/admin/operations` reads them from the process's own metrics
// (the counters `/metrics` serves). Re-read every `OPERATIONS_REFRESH_MS`.
import { get } from "../lib/api";
import { errorMessage, MESSAGES } from "../lib/errors";
import { count, dateTime, duration } from "../lib/format";
import { tr } from "../lib/i18n";
import { useRefreshed } from "./refresh";

/** How often the figures are re-read (the server samples every 5 s). */
export const OPERATIONS_REFRESH_MS = 5_000;
/** Codes listed per family, most frequent first (a family rarely has more than a few dozen). */
const CODES_SHOWN_MAX = 50;

interface Family {
  total: number;
  last_1m: number;
  last_5m: number;
  per_minute_1m: number | null;
  per_minute_5m: number | null;
  share_1m?: number | null;
  share_5m?: number | null;
  responses_total?: number;
  codes: { code: string; total: number; last_1m: number; last_5m: number }[];
}

interface Mismatch {
  kind: string;
  [field: string]: unknown;
}

export interface OperationsView {
  sampled_at_ms: number;
  window_ms: number[];
  span_ms: number[];
  http_problems: Family | null;
  ledger_rejections: Family | null;
  websocket_errors: Family | null;
  refunds: { pending: number | null; paid_total: number | null; refused_total: number | null };
  reconciliation: {
    interval_ms: number;
    last_run: null | {
      at_ms: number;
      error: string | null;
      report: null | {
        from_ms: number;
        to_ms: number;
        provider_transactions: number;
        ledger_bookings: number;
        ledger_refunds: number;
        mismatch_count: number;
        mismatches: Mismatch[];
        voided: number;
        void_failures: number;
      };
    };
  };
}

const MISMATCH_LABEL: Record<string, [string, string]> = {
  approved_not_booked: ["결제됐지만 예매 없음 (자동 취소)", "Paid, not booked (voided)"],
  booked_not_approved: ["예매됐지만 결제 승인 없음", "Booked, payment not approved"],
  amount_differs: ["금액 불일치", "Amount differs"],
  refund_not_at_provider: ["원장의 환불이 결제사에 없음", "Ledger refund missing at the provider"],
  refund_not_recorded: ["결제사 취소가 원장에 없음", "Provider cancel not recorded in the ledger"],
};

function perMinute(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString(undefined, { maximumFractionDigits: 1 });
}

function percent(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : `${(n * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })}%`;
}

/** What a code means to people, in the page's language (the web app's own message for it). */
function codeMessage(code: string): string | null {
  const pair = MESSAGES[code];
  return pair ? tr(pair[0], pair[1]) : null;
}

function FamilyPanel(props: { title: string; family: Family | null; testId: string; share?: boolean }) {
  const f = props.family;
  return (
    <section class="card" data-testid={props.testId}>
      <h2>{props.title}</h2>
      {f === null ? (
        <p class="muted">{tr("이 프로세스는 지표를 수집하지 않습니다.", "This process does not collect these metrics.")}</p>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col"></th>
                <th scope="col">{tr("최근 1분", "Last minute")}</th>
                <th scope="col">{tr("최근 5분", "Last 5 minutes")}</th>
                <th scope="col">{tr("시작 후 전체", "Since start")}</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">{tr("건수", "Count")}</th>
                <td data-testid={`${props.testId}-1m`}>{count(f.last_1m)}</td>
                <td data-testid={`${props.testId}-5m`}>{count(f.last_5m)}</td>
                <td data-testid={`${props.testId}-total`}>{count(f.total)}</td>
              </tr>
              <tr>
                <th scope="row">{tr("분당", "Per minute")}</th>
                <td>{perMinute(f.per_minute_1m)}</td>
                <td>{perMinute(f.per_minute_5m)}</td>
                <td></td>
              </tr>
              {props.share ? (
                <tr>
                  <th scope="row">{tr("전체 응답 중 비율", "Share of responses")}</th>
                  <td data-testid={`${props.testId}-share-1m`}>{percent(f.share_1m)}</td>
                  <td>{percent(f.share_5m)}</td>
                  <td>{f.responses_total === undefined ? "" : `${tr("응답", "responses")} ${count(f.responses_total)}`}</td>
                </tr>
              ) : null}
            </tbody>
          </table>
          {f.codes.length > 0 ? (
            <table data-testid={`${props.testId}-codes`}>
              <thead>
                <tr>
                  <th scope="col">{tr("코드", "Code")}</th>
                  <th scope="col" style="white-space: nowrap">{tr("1분", "1 min")}</th>
                  <th scope="col" style="white-space: nowrap">{tr("5분", "5 min")}</th>
                  <th scope="col" style="white-space: nowrap">{tr("전체", "Total")}</th>
                </tr>
              </thead>
              <tbody>
                {f.codes.slice(0, CODES_SHOWN_MAX).map((c) => (
                  <tr key={c.code} data-testid={`${props.testId}-code-${c.code}`}>
                    <td>
                      <code>{c.code}</code>
                      {codeMessage(c.code) ? <span class="muted"> — {codeMessage(c.code)}</span> : null}
                    </td>
                    <td>{count(c.last_1m)}</td>
                    <td>{count(c.last_5m)}</td>
                    <td>{count(c.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">{tr("아직 없습니다.", "None yet.")}</p>
          )}
        </>
      )}
    </section>
  );
}

function RefundsPanel(props: { refunds: OperationsView["refunds"] }) {
  const r = props.refunds;
  return (
    <section class="card" data-testid="refunds">
      <h2>{tr("환불 처리 대기", "Refund backlog")}</h2>
      {r.pending === null ? (
        <p class="muted">{tr("이 프로세스에서는 환불 작업자가 돌지 않습니다.", "No refund worker runs in this process.")}</p>
      ) : (
        <p>
          {tr("지급 대기", "Waiting to be paid")}: <strong data-testid="refunds-pending">{count(r.pending)}</strong> · {tr("지급 완료", "Paid")}: {count(r.paid_total ?? 0)} · {tr("결제사 거절 (대사로 넘김)", "Refused by the provider (left for reconciliation)")}: {count(r.refused_total ?? 0)}
        </p>
      )}
    </section>
  );
}

function ReconciliationPanel(props: { reconciliation: OperationsView["reconciliation"] }) {
  const { last_run: last, interval_ms } = props.reconciliation;
  return (
    <section class="card" data-testid="reconciliation">
      <h2>{tr("결제 대사 (정산 대조)", "Payment reconciliation")}</h2>
      <p class="muted">
        {tr(`결제사 기록과 원장을 ${interval_ms / 60_000}분마다 대조합니다.`, `The provider's records are compared with the ledger every ${interval_ms / 60_000} minutes.`)}
      </p>
      {last === null ? (
        <p data-testid="reconciliation-none">{tr("아직 대사를 실행하지 않았습니다.", "No reconciliation has run yet.")}</p>
      ) : last.report === null ? (
        <p class="error" role="alert">
          {dateTime(last.at_ms)}: {tr("대사 실패", "Reconciliation failed")} — {last.error}
        </p>
      ) : (
        <>
          <p data-testid="reconciliation-summary">
            {dateTime(last.at_ms)} · {tr("대상 기간", "Window")} {dateTime(last.report.from_ms)} – {dateTime(last.report.to_ms)} · {tr("결제사 거래", "provider transactions")} {count(last.report.provider_transactions)} · {tr("원장 예매", "ledger bookings")} {count(last.report.ledger_bookings)} · {tr("불일치", "mismatches")} <strong>{count(last.report.mismatch_count)}</strong> · {tr("자동 취소", "voided")} {count(last.report.voided)}
          </p>
          {last.report.mismatches.length > 0 ? (
            <ul>
              {last.report.mismatches.map((m, i) => {
                const label = MISMATCH_LABEL[m.kind];
                return (
                  <li key={i}>
                    <strong>{label ? tr(label[0], label[1]) : m.kind}</strong>{" "}
                    <code>{Object.entries(m).filter(([k]) => k !== "kind").map(([k, v]) => `${k}=${String(v)}`).join(" ")}</code>
                  </li>
                );
              })}
            </ul>
          ) : null}
        </>
      )}
    </section>
  );
}

export function OperationsPage() {
  const { value, error, atMs } = useRefreshed((signal) => get<OperationsView>("/admin/operations", { signal }), OPERATIONS_REFRESH_MS);
  return (
    <>
      <h1>{tr("운영 지표", "Operations")}</h1>
      <p class="muted">
        {tr(
          `서버가 /metrics로 내보내는 카운터를 그대로 읽습니다. ${OPERATIONS_REFRESH_MS / 1000}초마다 갱신합니다.`,
          `Read from the counters the server exports on /metrics. Refreshed every ${OPERATIONS_REFRESH_MS / 1000} seconds.`,
        )}
      </p>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {value ? (
        <>
          {value.span_ms[1] < value.window_ms[1] ? (
            <p class="notice">
              {tr(`서버 시작 후 ${duration(value.span_ms[1])} 동안의 값입니다.`, `Figures cover the ${duration(value.span_ms[1])} since the server started.`)}
            </p>
          ) : null}
          <FamilyPanel title={tr("API 오류 응답", "API error responses")} family={value.http_problems} testId="http-problems" share />
          <FamilyPanel title={tr("원장 거절", "Ledger rejections")} family={value.ledger_rejections} testId="ledger-rejections" />
          <FamilyPanel title={tr("WebSocket 오류", "WebSocket errors")} family={value.websocket_errors} testId="websocket-errors" />
          <RefundsPanel refunds={value.refunds} />
          <ReconciliationPanel reconciliation={value.reconciliation} />
        </>
      ) : null}
      {atMs ? <p class="muted">{tr("갱신", "Updated")} {dateTime(atMs)}</p> : null}
    </>
  );
}
