// `/seller/shows/:id/dashboard[/:performance]`: one performance's sales, live. Everything on
// it comes over the tab's one WebSocket (`dashboard`, and `watch` for the seat map) — no
// polling: the gateway sends the dashboard at most 4 times a second while sales move and every
// 2 s regardless. The seller's controls (admission rate, pause) and the settlement's CSV are
// HTTP calls. Charts load with their own chunk (uPlot).
import { lazy, Suspense } from "preact/compat";
import { useEffect, useMemo, useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { ApiError, API_BASE, get, loadCredential, put } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { count, dateTime, won } from "../../lib/format";
import { tr } from "../../lib/i18n";
import { signOut } from "../session";
import { socket, type DashboardMessage, type DashboardQueue, type DashboardSeats, type SeatMap as SeatMapState } from "../../lib/ws";
import { loadContext, type BookingContext, type ShowDetail } from "../../buyer/booking/data";
import { SeatStatesMap } from "./SeatStates";
import "./dashboard.css";

const Charts = lazy(() => import("./Charts"));

export default function DashboardPage() {
  const { params } = useRoute();
  const showId = params.id;
  const [show, setShow] = useState<ShowDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<ShowDetail>(`/shows/${showId}`).then(setShow, setError);
  }, [showId]);
  const performance = params.performance ?? show?.performances[0]?.id;
  if (error) return <p role="alert" class="error">{errorMessage(error)}</p>;
  if (!show || !performance) return <p class="muted">{tr("불러오는 중…", "Loading…")}</p>;
  return (
    <section class="dashboard">
      <h1>
        {show.title} <span class="muted">· {tr("실시간 판매 현황", "Live sales")}</span>
      </h1>
      {show.performances.length > 1 && (
        <nav class="performance-picker" aria-label={tr("회차", "Performances")}>
          {show.performances.map((p) => (
            <a key={p.id} href={`/seller/shows/${showId}/dashboard/${p.id}`} aria-current={p.id === performance ? "page" : undefined}>
              {dateTime(p.starts_at_ms)}
            </a>
          ))}
        </nav>
      )}
      <Live key={performance} showId={showId} performance={performance} />
    </section>
  );
}

function Live(props: { showId: string; performance: string }) {
  const followed = useMemo(() => socket().dashboard(props.performance), [props.performance]);
  useEffect(() => followed.stop, [followed]);
  const { latest, receivedAtMs, refused } = followed.view.value;
  if (refused) {
    return (
      <div role="alert" class="error" data-testid="dashboard-ended">
        <p>{errorMessage(refused)}</p>
        {refused.code === "session_ended" && (
          <button type="button" onClick={() => void signOut()} data-testid="sign-in-again">
            {tr("다시 로그인", "Sign in again")}
          </button>
        )}
      </div>
    );
  }
  if (!latest) return <p class="muted">{tr("실시간 연결 중…", "Connecting live…")}</p>;
  const f = latest.figures;
  return (
    <>
      <p class="muted" aria-live="polite">
        {dateTime(f.starts_at_ms)} · {tr("마지막 갱신", "Updated")} {receivedAtMs ? new Date(receivedAtMs).toLocaleTimeString("ko-KR", { timeZone: "Asia/Seoul" }) : ""}
        {f.cancelled && <strong class="bad"> · {tr("취소된 회차", "Called off")}</strong>}
      </p>
      <div class="kpis">
        <Kpi label={tr("예매", "Bookings")} value={count(f.sales.bookings)} testid="dash-bookings" />
        <Kpi label={tr("매출", "Sales")} value={won(f.sales.sales_won)} testid="dash-sales" />
        <Kpi label={tr("환불", "Refunds")} value={won(f.sales.refunds_won)} testid="dash-refunds" />
        <Kpi label={tr("취소 수수료", "Cancellation fees")} value={won(f.sales.cancellation_fees_won)} testid="dash-fees" />
        <Kpi label={tr("정산 예정액", "Net payable")} value={won(f.sales.net_payable_won)} testid="dash-net" />
      </div>
      <div class="dash-grid">
        <section class="card">
          <h2>{tr("판매 추이", "Sales over time")}</h2>
          <Suspense fallback={<p class="muted">{tr("차트 불러오는 중…", "Loading charts…")}</p>}>
            <Charts minutes={f.minutes} atMs={latest.at_ms} />
          </Suspense>
        </section>
        <section class="card">
          <h2>{tr("등급별 잔여석", "Seats left per grade")}</h2>
          <table class="list" data-testid="dash-grades">
            <thead>
              <tr><th>{tr("등급", "Grade")}</th><th>{tr("가격", "Price")}</th><th>{tr("잔여", "Left")}</th></tr>
            </thead>
            <tbody>
              {f.grades.map((g) => (
                <tr key={g.code}>
                  <td>{g.code}</td><td>{won(g.price_won)}</td><td data-testid={`left-${g.code}`}>{g.left == null ? "–" : count(g.left)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <QueueCard performance={props.performance} queue={latest.queue} />
        <WaitlistCard figures={f} />
        <DoorCard figures={f} />
        <SettlementCard showId={props.showId} figures={f} />
      </div>
      <SeatsCard performance={props.performance} seats={f.seats} />
    </>
  );
}

function Kpi(props: { label: string; value: string; testid: string }) {
  return (
    <div class="kpi">
      <span class="muted">{props.label}</span>
      <strong data-testid={props.testid}>{props.value}</strong>
    </div>
  );
}

const STATUS: Record<string, [string, string]> = {
  pre_queue: ["오픈 전 (사전 대기)", "Before the open (pre-queue)"],
  drawing: ["추첨 중", "Drawing"],
  open: ["판매 중", "Open"],
  paused: ["일시 중지", "Paused"],
  sold_out: ["매진", "Sold out"],
  unavailable: ["대기열 점검 중", "Queue unavailable"],
};

function QueueCard(props: { performance: string; queue: DashboardQueue | null }) {
  const { queue } = props;
  const [rate, setRate] = useState<string>("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const change = async (body: { admit_per_sec?: number; paused?: boolean }) => {
    setBusy(true);
    setError(null);
    try {
      await put(`/performances/${props.performance}/sale`, body);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  if (!queue) {
    return (
      <section class="card">
        <h2>{tr("대기열", "Queue")}</h2>
        <p class="muted">{tr("이 회차에는 대기열이 없습니다.", "This performance has no queue.")}</p>
      </section>
    );
  }
  const status = STATUS[queue.status] ?? [queue.status, queue.status];
  return (
    <section class="card" data-testid="dash-queue">
      <h2>{tr("대기열", "Queue")}</h2>
      <p>
        <span class={`status queue-${queue.status}`} data-testid="queue-status">{tr(status[0], status[1])}</span>
        {queue.status === "pre_queue" && <span class="muted"> · {tr("오픈", "Opens")} {dateTime(queue.open_at_ms)}</span>}
      </p>
      <dl class="figures">
        <dt>{tr("대기 중", "Waiting")}</dt><dd data-testid="queue-waiting">{count(queue.waiting + queue.prequeue)}</dd>
        <dt>{tr("입장 (누적)", "Admitted (in all)")}</dt><dd>{count(queue.admitted)}</dd>
        <dt>{tr("예매 중", "Booking now")}</dt><dd>{count(queue.active)} / {count(queue.active_max)}</dd>
        <dt>{tr("입장 속도", "Admission rate")}</dt><dd data-testid="queue-rate">{tr(`초당 ${count(queue.admit_per_sec)}명`, `${count(queue.admit_per_sec)} a second`)}</dd>
      </dl>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          const value = Number(rate);
          if (Number.isInteger(value) && value > 0) void change({ admit_per_sec: value });
        }}
      >
        <label>
          {tr("초당 입장 인원", "Admitted per second")}
          <input type="number" min={1} max={100000} inputMode="numeric" value={rate} placeholder={String(queue.admit_per_sec)} onInput={(e) => setRate(e.currentTarget.value)} />
        </label>
        <button type="submit" class="secondary" disabled={busy || rate === ""}>{tr("속도 변경", "Change rate")}</button>
        <button type="button" disabled={busy} onClick={() => void change({ paused: !queue.paused })} data-testid="queue-pause">
          {queue.paused ? tr("입장 재개", "Resume admission") : tr("입장 일시 중지", "Pause admission")}
        </button>
      </form>
      {error != null && <p role="alert" class="error">{errorMessage(error)}</p>}
    </section>
  );
}

function WaitlistCard(props: { figures: DashboardMessage["figures"] }) {
  const w = props.figures.waitlist;
  return (
    <section class="card">
      <h2>{tr("취소표 대기", "Cancellation waitlist")}</h2>
      {!w.enabled ? (
        <p class="muted">{tr("이 공연은 취소표 대기를 받지 않습니다.", "This show takes no waitlist.")}</p>
      ) : (
        <dl class="figures" data-testid="dash-waitlist">
          {w.per_grade.map((g) => (
            <>
              <dt>{g.grade}</dt><dd>{tr(`${count(g.waiting)}명 대기`, `${count(g.waiting)} waiting`)}</dd>
            </>
          ))}
          <dt>{tr("등급 무관", "Any grade")}</dt><dd>{count(w.any_grade)}</dd>
          <dt>{tr("대기자에게 돌아간 좌석", "Freed places offered")}</dt><dd>{count(w.places_offered)} ({tr(`${count(w.places_booked)} 예매`, `${count(w.places_booked)} booked`)})</dd>
          <dt>{tr("응답 대기 중 제안", "Offers open")}</dt><dd>{count(w.offers_open)}</dd>
        </dl>
      )}
    </section>
  );
}

function DoorCard(props: { figures: DashboardMessage["figures"] }) {
  const d = props.figures.door;
  const open = Date.now() >= d.doors_open_ms;
  return (
    <section class="card">
      <h2>{tr("입장 현황", "At the door")}</h2>
      {!open ? (
        <p class="muted">{tr(`입장 시작: ${dateTime(d.doors_open_ms)}`, `Doors open ${dateTime(d.doors_open_ms)}`)}</p>
      ) : (
        <dl class="figures" data-testid="dash-door">
          <dt>{tr("입장", "Admitted")}</dt><dd>{count(d.admitted)}</dd>
          <dt>{tr("현재 입장객", "Inside now")}</dt><dd>{count(d.inside)}</dd>
          <dt>{tr("미입장", "Not yet in")}</dt><dd>{count(d.no_shows)}</dd>
          <dt>{tr("중복 입장", "Conflicts")}</dt><dd>{count(d.conflicts_total)}</dd>
        </dl>
      )}
    </section>
  );
}

function SettlementCard(props: { showId: string; figures: DashboardMessage["figures"] }) {
  const s = props.figures.sales;
  const [error, setError] = useState<unknown>(null);
  // The CSV needs the session, so it is fetched with it and handed to the browser as a file.
  const download = async () => {
    setError(null);
    try {
      const response = await fetch(`${API_BASE}/shows/${props.showId}/settlement?format=csv`, {
        headers: { Authorization: `Bearer ${loadCredential()?.token ?? ""}` },
      });
      if (!response.ok) throw new ApiError(response.status, response.status === 403 ? "forbidden" : "internal", await response.text());
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = `settlement-${props.showId}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="card">
      <h2>{tr("정산", "Settlement")}</h2>
      <dl class="figures" data-testid="dash-settlement">
        <dt>{tr("판매", "Sales")}</dt><dd>{won(s.sales_won)}</dd>
        <dt>{tr("환불", "Refunds")}</dt><dd>− {won(s.refunds_won)}</dd>
        <dt>{tr("(취소 수수료 수입)", "(cancellation fees kept)")}</dt><dd>{won(s.cancellation_fees_won)}</dd>
        <dt>{tr("(예매 수수료 수입)", "(booking fees kept)")}</dt><dd>{won(s.booking_fees_won)}</dd>
        <dt>{tr("플랫폼 수수료", "Platform commission")}</dt><dd data-testid="dash-commission">{won(s.platform_commission_won)}</dd>
        <dt><strong>{tr("정산 예정액", "Net payable")}</strong></dt><dd><strong>{won(s.net_payable_won)}</strong></dd>
      </dl>
      <button type="button" class="secondary" onClick={() => void download()} data-testid="settlement-csv">
        {tr("정산 내역 CSV 받기 (전체 회차)", "Download the settlement CSV (every performance)")}
      </button>
      {error != null && <p role="alert" class="error">{errorMessage(error)}</p>}
    </section>
  );
}

/** The seat map coloured by state (the dashboard's `figures.seats`: on sale, held, reserved,
 *  sold, called off) with counts per state; standing zones' places left from the seat map's
 *  `watch`. */
function SeatsCard(props: { performance: string; seats: DashboardSeats | null }) {
  const [context, setContext] = useState<BookingContext | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    loadContext(props.performance).then(setContext, setError);
  }, [props.performance]);
  const hasZones = (context?.zones.length ?? 0) > 0;
  const watched = useMemo(() => (context && hasZones ? socket().watch(props.performance, context.seats.length) : null), [context, hasZones, props.performance]);
  useEffect(() => () => watched?.stop(), [watched]);
  const map: SeatMapState | null = watched?.view.value ?? null;
  return (
    <section class="card">
      <h2>{tr("좌석 현황", "Seat map")}</h2>
      {error != null && <p role="alert" class="error">{errorMessage(error)}</p>}
      {context && context.seats.length > 0 && <SeatStatesMap seats={context.seats} states={props.seats} />}
      {context && hasZones && (
        <ul class="plain">
          {context.zones.map((z, i) => (
            <li key={z.id}>
              {z.name}: {map ? tr(`${count(map.zoneFree[i] ?? 0)} / ${count(z.capacity)} 남음`, `${count(map.zoneFree[i] ?? 0)} of ${count(z.capacity)} left`) : "–"}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
