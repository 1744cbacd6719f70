// Sales over time, drawn with uPlot (small and fast; this module is its own lazily loaded
// chunk): revenue so far (a running sum of the minutes) and bookings per minute — the sales
// velocity. Minutes without bookings are filled in as zeros between the first and the last.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { tr } from "../../lib/i18n";
import { won } from "../../lib/format";
import type { DashboardFigures } from "../../lib/ws";

const MINUTE_MS = 60_000;
/** Minutes drawn at most (the gateway sends at most 240 minutes with bookings). */
export const CHART_MINUTES_MAX = 24 * 60;

/** Per-minute series from the sparse list: x in seconds (uPlot's unit), bookings, revenue so
 *  far. From the minute before the first booking (revenue starts at 0) through the current
 *  minute (velocity falls to 0 while nothing sells), the newest `CHART_MINUTES_MAX` minutes. */
export function series(minutes: DashboardFigures["minutes"], nowMs: number): [number[], number[], number[]] {
  if (minutes.length === 0) return [[], [], []];
  const last = Math.max(minutes[minutes.length - 1].minute_ms, Math.floor(nowMs / MINUTE_MS) * MINUTE_MS);
  const first = Math.max(minutes[0].minute_ms - MINUTE_MS, last - (CHART_MINUTES_MAX - 1) * MINUTE_MS);
  const byMinute = new Map(minutes.map((m) => [m.minute_ms, m]));
  const xs: number[] = [], bookings: number[] = [], revenue: number[] = [];
  let total = minutes.filter((m) => m.minute_ms < first).reduce((sum, m) => sum + m.sales_won, 0);
  for (let at = first; at <= last; at += MINUTE_MS) {
    const m = byMinute.get(at);
    total += m?.sales_won ?? 0;
    xs.push(at / 1000);
    bookings.push(m?.bookings ?? 0);
    revenue.push(total);
  }
  return [xs, bookings, revenue];
}

function Chart(props: { title: string; data: [number[], number[]]; label: string; colour: string; bars?: boolean; money?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = host.current!;
    const width = Math.max(280, element.clientWidth);
    plot.current = new uPlot(
      {
        width,
        height: 200,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Asia/Seoul"),
        legend: { show: false },
        series: [
          {},
          {
            label: props.label,
            stroke: props.colour,
            fill: props.bars ? props.colour : `${props.colour}22`,
            width: 2,
            paths: props.bars ? uPlot.paths.bars!({ size: [0.8, 24] }) : undefined,
            points: { show: false },
          },
        ],
        axes: [{}, { size: 80, values: (_u, ticks) => ticks.map((t) => (props.money ? won(t) : String(t))) }],
      },
      props.data,
      element,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={host} role="img" aria-label={props.title} />
    </figure>
  );
}

export default function Charts(props: { minutes: DashboardFigures["minutes"]; atMs: number }) {
  const [xs, bookings, revenue] = series(props.minutes, props.atMs);
  if (xs.length === 0) return <p class="muted">{tr("아직 예매가 없습니다.", "No bookings yet.")}</p>;
  return (
    <div class="charts" data-testid="charts">
      <Chart title={tr("누적 매출", "Revenue so far")} label={tr("매출", "Revenue")} data={[xs, revenue]} colour="#5b2bd6" money />
      <Chart title={tr("분당 예매 (판매 속도)", "Bookings per minute (sales velocity)")} label={tr("예매", "Bookings")} data={[xs, bookings]} colour="#c62828" bars />
    </div>
  );
}
