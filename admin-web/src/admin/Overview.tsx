// `/admin/`: the platform overview, read from the services' own reports — the API's
// `GET /api/v2/admin/platform` (each gateway's connections and, per ledger partition, the leader
// and the standbys with their lag, as the nodes and gateways publish them on NATS, or this
// process's gateway and ledger in process) and `GET /api/v2/admin/sales` (every sale on now,
// platform-wide). No WebSocket feed carries these platform-wide, so the page re-reads them every
// `REFRESH_INTERVAL_MS` (`useRefreshed`: one round at a time, only while the tab is visible).
import { get } from "../lib/api";
import { errorMessage } from "../lib/errors";
import { count, dateTime } from "../lib/format";
import { tr } from "../lib/i18n";
import { useRefreshed } from "./refresh";
import type { SaleOnNow } from "./Sales";

/** How often the overview is re-read. */
export const REFRESH_INTERVAL_MS = 3_000;

/** `GET /api/v2/admin/platform`. */
export interface Platform {
  transport: "in_process" | "nats";
  gateways: { id: string; connections: number; connections_max: number; seen_ms_ago: number }[];
  partitions: PartitionView[];
}

interface PartitionView {
  partition: number;
  leader: { node: string; epoch: number; journal_seq: number } | null;
  standbys: { node: string; journal_seq: number; lag: number | null }[];
  leaderless: boolean;
}

export function readPlatform(signal?: AbortSignal): Promise<Platform> {
  return get<Platform>("/admin/platform", { signal });
}

function readSales(signal: AbortSignal): Promise<{ items: SaleOnNow[]; truncated: boolean }> {
  return get<{ items: SaleOnNow[]; truncated: boolean }>("/admin/sales", { signal });
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

function PartitionTable(props: { partition: PartitionView }) {
  const p = props.partition;
  return (
    <table data-testid={`partition-${p.partition}`}>
      <caption>
        {tr("원장 파티션", "Ledger partition")} {p.partition}
      </caption>
      <thead>
        <tr>
          <th scope="col">{tr("역할", "Role")}</th>
          <th scope="col">{tr("노드", "Node")}</th>
          <th scope="col">{tr("에포크", "Epoch")}</th>
          <th scope="col">{tr("저널 순번", "Journal seq")}</th>
          <th scope="col">{tr("지연", "Lag")}</th>
        </tr>
      </thead>
      <tbody>
        {p.leader ? (
          <tr data-testid="leader">
            <th scope="row">{tr("리더", "Leader")}</th>
            <td data-testid="leader-node">{p.leader.node}</td>
            <td>{count(p.leader.epoch)}</td>
            <td>#{count(p.leader.journal_seq)}</td>
            <td>—</td>
          </tr>
        ) : (
          <tr data-testid="no-leader">
            <td colSpan={5} class="error" role="alert">
              {tr("리더 없음: 이 파티션의 예매 명령을 처리하는 노드가 없습니다", "No leader: no node is serving this partition's commands")}
            </td>
          </tr>
        )}
        {p.standbys.map((s) => (
          <tr key={s.node} data-testid={`standby-${s.node}`}>
            <th scope="row">{tr("대기(스탠바이)", "Standby")}</th>
            <td>{s.node}</td>
            <td>—</td>
            <td>#{count(s.journal_seq)}</td>
            <td data-testid="standby-lag">{s.lag === null ? "—" : tr(`${count(s.lag)}건 뒤처짐`, `${count(s.lag)} behind`)}</td>
          </tr>
        ))}
        {p.standbys.length === 0 ? (
          <tr>
            <td colSpan={5} class="muted">
              {tr("스탠바이 없음", "No standby")}
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

function PlatformPanel() {
  const { value: platform, error, atMs } = useRefreshed(readPlatform, REFRESH_INTERVAL_MS);
  return (
    <section aria-labelledby="health-title" data-testid="platform">
      <h2 id="health-title">{tr("서비스 상태", "Services")}</h2>
      {error ? <p class="error" role="alert">{errorMessage(error)}</p> : null}
      {platform ? (
        <>
          <p data-testid="transport">
            {platform.transport === "nats"
              ? tr("원장: NATS 경유 — 각 노드와 게이트웨이가 보고한 상태", "Ledger over NATS — as each node and gateway reports it")
              : tr("원장: 이 프로세스 안 (picket up)", "Ledger in this process (picket up)")}
          </p>
          {platform.partitions.map((p) => (
            <PartitionTable key={p.partition} partition={p} />
          ))}
          <table data-testid="gateways">
            <caption>{tr("게이트웨이", "Gateways")}</caption>
            <thead>
              <tr>
                <th scope="col">{tr("게이트웨이", "Gateway")}</th>
                <th scope="col">{tr("접속 / 최대", "Connections / max")}</th>
                <th scope="col">{tr("마지막 보고", "Last report")}</th>
              </tr>
            </thead>
            <tbody>
              {platform.gateways.map((g) => (
                <tr key={g.id} data-testid={`gateway-${g.id}`}>
                  <th scope="row">{g.id}</th>
                  <td data-testid="gateway-connections">
                    {count(g.connections)} / {count(g.connections_max)}
                  </td>
                  <td>{tr(`${(g.seen_ms_ago / 1000).toFixed(1)}초 전`, `${(g.seen_ms_ago / 1000).toFixed(1)} s ago`)}</td>
                </tr>
              ))}
              {platform.gateways.length === 0 ? (
                <tr>
                  <td colSpan={3} class="muted">
                    {tr("보고한 게이트웨이 없음", "No gateway has reported")}
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </>
      ) : null}
      {atMs ? <p class="muted">{tr("갱신", "Updated")} {dateTime(atMs)}</p> : null}
    </section>
  );
}

function SalesPanel() {
  const { value, error } = useRefreshed(readSales, REFRESH_INTERVAL_MS);
  const rows = value?.items;
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
                <th scope="col">{tr("남은 좌석", "Seats left")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.performance} data-testid={`sale-${r.performance}`}>
                  <td>{r.title}</td>
                  <td>{dateTime(r.starts_at_ms)}</td>
                  <td>{statusLabel(r.status)}</td>
                  <td>
                    {count(r.active)} / {count(r.prequeue)}
                  </td>
                  <td>{r.remaining === null ? "—" : count(r.remaining)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {value?.truncated ? (
            <p class="muted">
              <a href="/admin/sales">{tr("판매 현황에서 전체 보기", "See every sale on the Sales page")}</a>
            </p>
          ) : null}
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
      <PlatformPanel />
      <SalesPanel />
    </>
  );
}
