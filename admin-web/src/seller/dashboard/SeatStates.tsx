// The dashboard's seat map coloured by state (docs/protocol.md, "The seller's dashboard",
// `figures.seats`): each seat on sale, held, reserved for the waitlist, sold or called off, from
// the `dashboard` message itself (no second subscription). Drawn on a canvas — one filled square
// a seat, so a 50,000-seat stadium redraws in a few milliseconds — with a legend that counts the
// seats per state; the canvas carries the same counts as its accessible name.

import { useEffect, useMemo, useRef } from "preact/hooks";
import { count } from "../../lib/format";
import { tr } from "../../lib/i18n";
import { decodeSeatRuns, type DashboardSeats } from "../../lib/ws";
import type { MapSeat } from "../../buyer/booking/data";

/** The states the gateway sends, in the legend's order. Colours keep at least 3:1 against the
 *  white card (WCAG 1.4.11) and differ in lightness as well as hue. A letter not listed (a state
 *  added later) is drawn and counted as "other". */
export const SEAT_STATES: { letter: string; label: [string, string]; colour: string }[] = [
  { letter: "f", label: ["판매 중", "On sale"], colour: "#0b7a3b" },
  { letter: "h", label: ["선점 (결제 대기)", "Held"], colour: "#b25000" },
  { letter: "r", label: ["취소표 대기 배정", "Reserved for the waitlist"], colour: "#6b3fb8" },
  { letter: "s", label: ["판매 완료", "Sold"], colour: "#12284c" },
  { letter: "x", label: ["판매 중지 (회차 취소)", "Off sale (called off)"], colour: "#6b6472" },
  { letter: "b", label: ["판매하지 않는 좌석", "Blocked"], colour: "#4a4a4a" },
];
const OTHER_COLOUR = "#6b6472";
const CANVAS_WIDTH = 960;

function colourOf(letter: string): string {
  return SEAT_STATES.find((s) => s.letter === letter)?.colour ?? OTHER_COLOUR;
}

/** Where each seat goes on the canvas: the seats' bounding box scaled to the canvas width. */
function layout(seats: MapSeat[]): { height: number; size: number; at: (s: MapSeat) => [number, number] } {
  if (seats.length === 0) return { height: 40, size: 4, at: () => [0, 0] };
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const s of seats) {
    minX = Math.min(minX, s.x); maxX = Math.max(maxX, s.x);
    minY = Math.min(minY, s.y); maxY = Math.max(maxY, s.y);
  }
  // A seat's square from the seats' density: about the space each seat has, at least 2 px.
  const spanX = Math.max(maxX - minX, 1), spanY = Math.max(maxY - minY, 1);
  const pad = 12;
  const scale = (CANVAS_WIDTH - 2 * pad) / spanX;
  const height = Math.min(Math.max(spanY * scale + 2 * pad, 80), 900);
  const scaleY = (height - 2 * pad) / spanY;
  const size = Math.max(2, Math.min(14, Math.sqrt(((CANVAS_WIDTH - 2 * pad) * (height - 2 * pad)) / seats.length) * 0.7));
  return { height, size, at: (s) => [pad + (s.x - minX) * scale, pad + (s.y - minY) * scaleY] };
}

export function SeatStatesMap(props: { seats: MapSeat[]; states: DashboardSeats | null }) {
  const { seats, states } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = useMemo(() => layout(seats), [seats]);
  const letters = useMemo(() => (states?.runs != null ? decodeSeatRuns(states.runs) : null), [states?.runs]);
  useEffect(() => {
    const context = canvas.current?.getContext("2d");
    if (!context) return;
    context.clearRect(0, 0, CANVAS_WIDTH, frame.height);
    const half = frame.size / 2;
    // One fill colour at a time: a path per state, one fill each.
    const paths = new Map<string, Path2D>();
    for (const seat of seats) {
      const letter = letters?.[seat.id] ?? "?";
      let path = paths.get(letter);
      if (!path) paths.set(letter, (path = new Path2D()));
      const [x, y] = frame.at(seat);
      path.rect(x - half, y - half, frame.size, frame.size);
    }
    for (const [letter, path] of paths) {
      context.fillStyle = letter === "?" ? "#dcd8e3" : colourOf(letter);
      context.fill(path);
    }
  }, [seats, letters, frame]);

  const counts = states?.states ?? {};
  const known = new Set(SEAT_STATES.map((s) => s.letter));
  const other = Object.entries(counts).filter(([letter]) => !known.has(letter)).reduce((sum, [, n]) => sum + n, 0);
  const summary = SEAT_STATES.map((s) => `${tr(s.label[0], s.label[1])} ${count(counts[s.letter] ?? 0)}`).join(", ");
  return (
    <div class="seat-states" data-testid="seat-map">
      <canvas
        ref={canvas}
        width={CANVAS_WIDTH}
        height={frame.height}
        role="img"
        aria-label={states ? tr(`좌석 ${count(states.count)}석: ${summary}`, `${count(states.count)} seats: ${summary}`) : tr("좌석 상태를 불러오는 중", "Seat states loading")}
      />
      {states && states.runs == null && (
        <p class="muted">{tr("좌석이 너무 잘게 나뉘어 지도 대신 합계만 보입니다.", "Too fragmented to draw: the totals only.")}</p>
      )}
      <ul class="legend" data-testid="seat-legend" aria-label={tr("좌석 상태 범례", "Seat state legend")}>
        {SEAT_STATES.map((s) => (
          <li key={s.letter}>
            <span class="swatch" style={{ background: s.colour }} aria-hidden="true" />
            {tr(s.label[0], s.label[1])} <strong data-testid={`seats-${s.letter}`}>{states ? count(counts[s.letter] ?? 0) : "–"}</strong>
          </li>
        ))}
        {other > 0 && (
          <li>
            <span class="swatch" style={{ background: OTHER_COLOUR }} aria-hidden="true" />
            {tr("기타", "Other")} <strong>{count(other)}</strong>
          </li>
        )}
      </ul>
    </div>
  );
}
