// `/admin/`: the platform overview, read from the services' own endpoints — `/healthz` (this
// gateway's connections, the ledger's role per partition, its journal and queue) and the API's
// public show and sale routes (`GET /api/v2/shows`, `/shows/{id}`, `/sales/{sale}`). No
// WebSocket feed carries these platform-wide, so the page re-reads them every
// `REFRESH_INTERVAL_MS`, one round at a time (a slow round delays the next instead of piling up),
// and only while the tab is visible.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { count, dateTime, won } from "../lib/format";
import { tr } from "../lib/i18n";

/** How often the overview is re-read. */
export const REFRESH_INTERVAL_MS = 3_000;
/** Newest published shows whose sales the overview lists (one page of `GET /shows`). */
export const SHOWS_MAX = 20;

interface LedgerStatus {
  healthy: boolean;
  /** In process: one partition, its role, journal and queue. */
  partition?: number;
  role?: string;
  journal_seq?: number;
  queue_depth?: number;
  store?: string;
  /** Over NATS: how many partitions the bus has (the nodes' roles are on their own /healthz). */
  partitions?: number;
  transport: string;
}

export interface Health {
  healthy: boolean;
  gateway: { id: string; connections: number; connections_max: number };
  ledger: LedgerStatus;
}

interface SaleRow {
  showId: string;
  title: string;
  performanceId: string;
  startsAtMs: number;
  status: string;
  active: number;
  prequeue: number;
  soldOut: boolean;
  cheapestWon: number | null;
}

interface ShowSummary {
  id: string;
  title: string;
}

interface ShowDetail {
  id: string;
  title: string;
  performances: { id: string; sale: string; starts_at_ms: number; cancelled: boolean; grades: { price_won: number }[] }[];
}

interface SaleView {
  status: string;
  active: number;
  prequeue: number;
  sold_out: boolean;
}

/** `GET /healthz`: answered 503 with the same body when the ledger is unhealthy. */
export async function readHealth(signal?: AbortSignal): Promise<Health> {
  const response = await fetch("/healthz", { headers: { Accept: "application/json" }, signal });
  if (!response.ok && response.status !== 503) throw new ApiError(response.status, "internal", `/healthz ${response.status}`);
  return (await response.json()) as Health;
}

async function readSales(signal: AbortSignal): Promise<SaleRow[]> {
  const shows = await get<{ items: ShowSummary[] }>(`/shows?limit=${SHOWS_MAX}`, { signal });
  const details = await Promise.all(shows.items.map((s) => get<ShowDetail>(`/shows/${s.id}`, { signal })));
  const rows: SaleRow[] = [];
  for (const show of details) {
    for (const p of show.performances) {
      if (p.cancelled) continue;
      const sale = await get<SaleView>(`/sales/${p.sale}`, { signal }).catch((e: unknown) => {
        // A published performance whose sale the operator has not configured yet.
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      });
      if (!sale) continue;
      const prices = p.grades.map((g) => g.price_won);
      rows.push({
        showId: show.id,
        title: show.title,
        performanceId: p.id,
        startsAtMs: p.starts_at_ms,
        status: sale.status,
        active: sale.active,
        prequeue: sale.prequeue,
        soldOut: sale.sold_out,
        cheapestWon: prices.length ? Math.min(...prices) : null,
      });
    }
  }
  return rows;
}

const STATUS_LABEL: Record<string, [string, string]> = {
  pre_queue: ["오픈 대기", "Pre-queue"],
  drawing: ["추첨 중", "Drawing"],
  open: ["판매 중", "On sale"],
  paused: ["일시 중지", "Paused"],
  unavailable: ["대기열 장애", "Queue unavailable"],
  sold_out: ["매진", "Sold out"],
};

function statusLabel(status: string): string {
  const pair = STATUS_LABEL[status];
  return pair ? tr(pair[0], pair[1]) : status;
}

function roleLabel(role: string | undefined): string {
  if (role === "leader") return tr("리더", "Leader");
  if (role === "standby") return tr("대기(스탠바이)", "Standby");
  return role ?? "—";
}

/** Re-reads `read` every `REFRESH_INTERVAL_MS` while the page is open and visible. */
function useRefreshed<T>(read: (signal: AbortSignal) => Promise<T>): { value: T | null; error: unknown; atMs: number | null } {
  const [state, setState] = useState<{ value: T | null; error: unknown; atMs: number | null }>({ value: null, error: null, atMs: null });
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function round() {
      if (document.visibilityState === "visible") {
        try {
          const value = await read(controller.signal);
          setState({ value, error: null, atMs: Date.now() });
        } catch (error) {
          if (controller.signal.aborted) return;
          setState((s) => ({ ...s, error }));
        }
      }
      if (!controller.signal.aborted) timer = setTimeout(round, REFRESH_INTERVAL_MS);
    }
    void round();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, []);
  return state;
}

function HealthPanel() {
  const { value: health, error, atMs } = useRefreshed(readHealth);
  return (
    <section aria-labelledby="health-title" data-testid="health">
      <h2 id="health-title">{tr("서비스 상태", "Services")}</h2>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {health ? (
        <table>
          <tbody>
            <tr>
              <th scope="row">{tr("전체", "Overall")}</th>
              <td data-testid="health-overall">{health.healthy ? tr("정상", "Healthy") : tr("이상", "Unhealthy")}</td>
            </tr>
            <tr>
              <th scope="row">{tr("게이트웨이", "Gateway")}</th>
              <td data-testid="gateway-connections">
                {health.gateway.id}: {tr("접속", "connections")} {count(health.gateway.connections)} / {count(health.gateway.connections_max)}
              </td>
            </tr>
            {health.ledger.partition !== undefined ? (
              <tr data-testid={`ledger-partition-${health.ledger.partition}`}>
                <th scope="row">
                  {tr("원장 파티션", "Ledger partition")} {health.ledger.partition}
                </th>
                <td>
                  <strong data-testid="ledger-role">{roleLabel(health.ledger.role)}</strong> · {tr("저널", "journal")} #{count(health.ledger.journal_seq ?? 0)} · {tr("대기 명령", "queued commands")} {count(health.ledger.queue_depth ?? 0)} · {health.ledger.store}
                </td>
              </tr>
            ) : (
              <tr>
                <th scope="row">{tr("원장", "Ledger")}</th>
                <td data-testid="ledger-role">
                  {tr("NATS 경유", "over NATS")}, {count(health.ledger.partitions ?? 0)} {tr("개 파티션 — 각 노드의 역할은 노드의 /healthz에 있습니다", "partitions — each node's role is on that node's /healthz")}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      ) : null}
      {atMs ? <p class="muted">{tr("갱신", "Updated")} {dateTime(atMs)}</p> : null}
    </section>
  );
}

function SalesPanel() {
  const { value: rows, error } = useRefreshed(readSales);
  const onNow = rows?.filter((r) => r.status === "open" || r.status === "drawing") ?? [];
  return (
    <section aria-labelledby="sales-title" data-testid="sales">
      <h2 id="sales-title">{tr("판매 현황", "Sales")}</h2>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {rows ? (
        <>
          <p data-testid="sales-on-now">
            {tr("지금 판매 중", "On sale now")}: <strong>{count(onNow.length)}</strong> · {tr("전체 회차", "All performances")}: {count(rows.length)} · {tr("입장해 있는 구매자", "Buyers admitted")}: {count(rows.reduce((n, r) => n + r.active, 0))}
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">{tr("공연", "Show")}</th>
                <th scope="col">{tr("회차", "Performance")}</th>
                <th scope="col">{tr("상태", "Status")}</th>
                <th scope="col">{tr("입장 / 대기", "Admitted / pre-queue")}</th>
                <th scope="col">{tr("최저가", "From")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.performanceId} data-testid={`sale-${r.performanceId}`}>
                  <td>{r.title}</td>
                  <td>{dateTime(r.startsAtMs)}</td>
                  <td>{statusLabel(r.status)}</td>
                  <td>
                    {count(r.active)} / {count(r.prequeue)}
                  </td>
                  <td>{r.cheapestWon === null ? "—" : won(r.cheapestWon)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted">{tr(`최근 공개된 공연 ${SHOWS_MAX}개까지`, `Up to the ${SHOWS_MAX} newest published shows`)}</p>
        </>
      ) : null}
    </section>
  );
}

export function OverviewPage() {
  return (
    <>
      <h1>{tr("플랫폼 현황", "Platform overview")}</h1>
      <p class="muted">{tr(`${REFRESH_INTERVAL_MS / 1000}초마다 서비스에서 직접 다시 읽습니다.`, `Re-read from the services every ${REFRESH_INTERVAL_MS / 1000} seconds.`)}</p>
      <HealthPanel />
      <SalesPanel />
    </>
  );
}
