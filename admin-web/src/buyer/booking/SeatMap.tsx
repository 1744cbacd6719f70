// The seat map, drawn in SVG from the venue's coordinates: each seat in its grade's colour
// while on sale, grey once taken (live, from `seats` / `seats_changed`); seats the seller
// blocked (never sold) pale and crossed; wheelchair seats with a dashed ring and ♿, and named
// so in their accessible label. Seats are checkboxes
// for assistive technology and operable from the keyboard: one seat is in the tab order (a
// roving tabindex), the arrow keys move to the nearest seat in that direction, Enter or Space
// picks it.

import { useMemo, useRef, useState } from "preact/hooks";
import { tr } from "../../lib/i18n";
import { won } from "../../lib/format";
import type { SeatMap as SeatMapState } from "../../lib/ws";
import { gradeColour, seatLabel, type BookingContext, type MapSeat } from "./data";

const TAKEN_FILL = "#c9c5d0";
/** A blocked seat: never on sale. */
const BLOCKED_FILL = "#ebe9ef";
const BLOCKED_MARK = "#9a95a3";
/** The dashed ring and glyph of a wheelchair seat. */
const WHEELCHAIR = "#0b5cad";

interface Geometry {
  viewBox: string;
  radius: number;
  stageY: number;
  midX: number;
  width: number;
}

/** The drawing's frame: the seats' bounding box, a seat's radius from their spacing. */
function geometry(seats: MapSeat[]): Geometry {
  if (seats.length === 0) return { viewBox: "0 0 100 40", radius: 4, stageY: 0, midX: 50, width: 100 };
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const s of seats) {
    minX = Math.min(minX, s.x); maxX = Math.max(maxX, s.x);
    minY = Math.min(minY, s.y); maxY = Math.max(maxY, s.y);
  }
  // The smallest distance between neighbours in a row sets the seat size (one linear pass over
  // consecutive seats).
  let spacing = Infinity;
  for (let i = 1; i < seats.length; i++) {
    const a = seats[i - 1], b = seats[i];
    if (a.section === b.section && a.row === b.row) {
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      if (d > 0) spacing = Math.min(spacing, d);
    }
  }
  if (!isFinite(spacing)) spacing = 10;
  const radius = spacing * 0.42;
  const pad = spacing * 1.2;
  const stageHeight = spacing * 2;
  const x0 = minX - pad, y0 = minY - pad - stageHeight;
  const width = maxX - minX + 2 * pad;
  const height = maxY - minY + 2 * pad + stageHeight;
  return { viewBox: `${x0} ${y0} ${width} ${height}`, radius, stageY: y0 + spacing * 0.3, midX: (minX + maxX) / 2, width };
}

/** The seat nearest `from` in the arrow's direction, or null at the edge. */
function neighbour(seats: MapSeat[], from: MapSeat, key: string): MapSeat | null {
  let best: MapSeat | null = null;
  let bestScore = Infinity;
  for (const s of seats) {
    if (s.id === from.id) continue;
    const dx = s.x - from.x, dy = s.y - from.y;
    const along = key === "ArrowRight" ? dx : key === "ArrowLeft" ? -dx : key === "ArrowDown" ? dy : -dy;
    const across = key === "ArrowRight" || key === "ArrowLeft" ? Math.abs(dy) : Math.abs(dx);
    if (along <= 0) continue;
    // Straight ahead first: sideways distance weighs more than distance along the arrow.
    const score = along + across * 3;
    if (score < bestScore) { bestScore = score; best = s; }
  }
  return best;
}

export function SeatMap(props: {
  context: BookingContext;
  map: SeatMapState | null;
  selected: ReadonlySet<number>;
  onToggle: (seat: number) => void;
  disabled?: boolean;
}) {
  const { context, map, selected } = props;
  const frame = useMemo(() => geometry(context.seats), [context.seats]);
  const [focusSeat, setFocusSeat] = useState<number | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  const onSale = (seat: number) => map != null && map.onSale[seat] === 1;
  const tabbable = focusSeat ?? context.seats.find((s) => onSale(s.id))?.id ?? context.seats[0]?.id;

  const onKeyDown = (event: KeyboardEvent, seat: MapSeat) => {
    if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      if (onSale(seat.id) || selected.has(seat.id)) props.onToggle(seat.id);
      return;
    }
    if (!event.key.startsWith("Arrow")) return;
    event.preventDefault();
    const next = neighbour(context.seats, seat, event.key);
    if (!next) return;
    setFocusSeat(next.id);
    const element = svg.current?.querySelector<SVGElement>(`[data-seat="${next.id}"]`);
    element?.focus();
  };

  return (
    <svg
      ref={svg}
      class="seat-map"
      viewBox={frame.viewBox}
      role="group"
      aria-label={tr("좌석 배치도: 방향키로 이동, 스페이스로 선택", "Seat map: arrow keys move, Space picks")}
      data-testid="seat-map"
    >
      <rect x={frame.midX - frame.width * 0.3} y={frame.stageY} width={frame.width * 0.6} height={frame.radius * 2.4} rx={frame.radius} fill="#ece9f1" />
      <text x={frame.midX} y={frame.stageY + frame.radius * 1.6} text-anchor="middle" font-size={frame.radius * 1.3} fill="#5d5868" aria-hidden="true">
        {tr("무대", "STAGE")}
      </text>
      {context.seats.map((seat) => {
        const free = onSale(seat.id);
        const mine = selected.has(seat.id);
        const state = mine ? "selected" : free ? "free" : seat.blocked ? "blocked" : "taken";
        const grade = context.show.grades[seat.grade];
        const kind = seat.wheelchair ? `${tr("휠체어석", "Wheelchair seat")}, ` : "";
        const label = `${kind}${seatLabel(seat)}, ${grade?.code ?? ""} ${grade ? won(grade.price_won) : ""}, ${
          mine ? tr("선택됨", "selected") : free ? tr("선택 가능", "available") : seat.blocked ? tr("판매하지 않는 좌석", "not for sale") : tr("판매됨", "taken")
        }`;
        const r = frame.radius;
        return (
          <g key={seat.id}>
            <circle
              cx={seat.x}
              cy={seat.y}
              r={r}
              fill={free || mine ? gradeColour(seat.grade) : seat.blocked ? BLOCKED_FILL : TAKEN_FILL}
              stroke={mine ? "#15131a" : seat.wheelchair ? WHEELCHAIR : "none"}
              stroke-width={mine ? r * 0.45 : seat.wheelchair ? r * 0.3 : 0}
              stroke-dasharray={!mine && seat.wheelchair ? `${r * 0.5} ${r * 0.3}` : undefined}
              class={`seat seat-${state}${seat.wheelchair ? " seat-wheelchair" : ""}`}
              data-seat={seat.id}
              data-state={state}
              data-wheelchair={seat.wheelchair ? "1" : undefined}
              role="checkbox"
              aria-checked={mine}
              aria-disabled={!free && !mine}
              aria-label={label}
              tabIndex={seat.id === tabbable ? 0 : -1}
              onFocus={() => setFocusSeat(seat.id)}
              onClick={() => (free || mine) && !props.disabled && props.onToggle(seat.id)}
              onKeyDown={(e) => onKeyDown(e as unknown as KeyboardEvent, seat)}
            >
              <title>{label}</title>
            </circle>
            {seat.blocked && !free && !mine && (
              <path
                d={`M${seat.x - r * 0.5} ${seat.y - r * 0.5}L${seat.x + r * 0.5} ${seat.y + r * 0.5}M${seat.x + r * 0.5} ${seat.y - r * 0.5}L${seat.x - r * 0.5} ${seat.y + r * 0.5}`}
                stroke={BLOCKED_MARK}
                stroke-width={r * 0.2}
                pointer-events="none"
                aria-hidden="true"
              />
            )}
            {seat.wheelchair && (
              <text x={seat.x} y={seat.y + r * 0.4} text-anchor="middle" font-size={r * 1.1} fill={free || mine ? "#ffffff" : WHEELCHAIR} pointer-events="none" aria-hidden="true">
                ♿
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Grades with their colour, price and places on sale now. */
export function Legend(props: { context: BookingContext; map: SeatMapState | null }) {
  const { context, map } = props;
  const left = context.show.grades.map(() => 0);
  if (map) {
    for (const seat of context.seats) if (map.onSale[seat.id] === 1) left[seat.grade] += 1;
    for (const zone of context.zones) left[zone.grade] += map.zoneFree[zone.id] ?? 0;
  }
  return (
    <ul class="legend" aria-label={tr("좌석 등급", "Seat grades")}>
      {context.show.grades.map((grade, index) => (
        <li key={grade.code}>
          <span class="swatch" style={{ background: gradeColour(index) }} aria-hidden="true" />
          <strong>{grade.code}</strong> <span>{won(grade.price_won)}</span>{" "}
          <span class="muted q-num-inline">{map ? tr(`잔여 ${left[index]}`, `${left[index]} left`) : ""}</span>
        </li>
      ))}
      <li>
        <span class="swatch" style={{ background: TAKEN_FILL }} aria-hidden="true" />
        {tr("판매됨", "Taken")}
      </li>
      {context.seats.some((seat) => seat.wheelchair) && (
        <li data-testid="legend-wheelchair">
          <span class="swatch" style={{ border: `2px dashed ${WHEELCHAIR}` }} aria-hidden="true" />
          {tr("♿ 휠체어석", "♿ Wheelchair seat")}
        </li>
      )}
      {context.seats.some((seat) => seat.blocked) && (
        <li data-testid="legend-blocked">
          <span class="swatch" style={{ background: BLOCKED_FILL }} aria-hidden="true" />
          {tr("판매하지 않는 좌석", "Not for sale")}
        </li>
      )}
    </ul>
  );
}
