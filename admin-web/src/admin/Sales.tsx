// `/admin/sales`: every performance's sale platform-wide that is before its open, drawing, open
// or paused (`GET /api/v2/admin/sales`), with its show, company and how it is selling. Re-read
// every `SALES_REFRESH_MS`.
import { get } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { count, dateTime } from "../lib/format";
import { tr } from "../lib/i18n";
import { useRefreshed } from "./refresh";

/** How often the list is re-read. */
export const SALES_REFRESH_MS = 3_000;

export interface SaleOnNow {
  performance: string;
  show: string;
  title: string;
  company: string;
  company_id: string;
  starts_at_ms: number;
  sale_open_at_ms: number;
  sale_close_at_ms: number;
  status: "pre_queue" | "drawing" | "open" | "paused";
  prequeue: number;
  active: number;
  remaining: number | null;
  bookings: number;
}

const STATUS_LABEL: Record<SaleOnNow["status"], [string, string]> = {
  pre_queue: ["오픈 대기", "Pre-queue"],
  drawing: ["추첨 중", "Drawing"],
  open: ["판매 중", "On sale"],
  paused: ["일시 중지", "Paused"],
};

export function SalesPage() {
  const { value, error, atMs } = useRefreshed((signal) => get<{ items: SaleOnNow[]; truncated: boolean }>("/admin/sales", { signal }), SALES_REFRESH_MS);
  const items = value?.items ?? [];
  const onSale = items.filter((s) => s.status === "open" || s.status === "drawing");
  return (
    <>
      <h1>{tr("판매 현황", "Sales")}</h1>
      <p class="muted">{tr("플랫폼 전체에서 오픈 대기·추첨·판매·일시 중지 중인 회차입니다.", "Every performance platform-wide whose sale is before its open, drawing, open or paused.")}</p>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {value ? (
        <>
          <p data-testid="admin-sales-summary">
            {tr("지금 판매 중", "On sale now")}: <strong>{count(onSale.length)}</strong> · {tr("전체", "All")}: {count(items.length)} · {tr("입장해 있는 구매자", "Buyers admitted")}: {count(items.reduce((n, s) => n + s.active, 0))} · {tr("오픈 대기열", "In pre-queues")}: {count(items.reduce((n, s) => n + s.prequeue, 0))}
          </p>
          {items.length === 0 ? <p class="muted">{tr("판매 중인 회차가 없습니다.", "No sales on now.")}</p> : null}
          <table class="list" data-testid="admin-sales">
            <thead>
              <tr>
                <th scope="col">{tr("공연", "Show")}</th>
                <th scope="col">{tr("판매자", "Company")}</th>
                <th scope="col">{tr("회차", "Performance")}</th>
                <th scope="col">{tr("예매 오픈", "Sale opens")}</th>
                <th scope="col">{tr("상태", "Status")}</th>
                <th scope="col">{tr("입장 / 대기", "Admitted / pre-queue")}</th>
                <th scope="col">{tr("잔여석", "Left")}</th>
                <th scope="col">{tr("예매", "Bookings")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.performance} data-testid={`admin-sale-${s.performance}`}>
                  <td>
                    <a href={`/shows/${s.show}`}>{s.title}</a>
                  </td>
                  <td>{s.company}</td>
                  <td>{dateTime(s.starts_at_ms)}</td>
                  <td>{dateTime(s.sale_open_at_ms)}</td>
                  <td data-testid="admin-sale-status">{tr(STATUS_LABEL[s.status][0], STATUS_LABEL[s.status][1])}</td>
                  <td>
                    {count(s.active)} / {count(s.prequeue)}
                  </td>
                  <td>{s.remaining === null ? "—" : count(s.remaining)}</td>
                  <td>{count(s.bookings)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {value.truncated ? <p class="muted">{tr("회차가 많아 오픈이 가까운 순으로 일부만 보입니다.", "Only the soonest sales are listed; there are more.")}</p> : null}
        </>
      ) : null}
      {atMs ? <p class="muted">{tr("갱신", "Updated")} {dateTime(atMs)}</p> : null}
    </>
  );
}
